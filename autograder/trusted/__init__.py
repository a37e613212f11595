"""Where points are decided: the plan, supervision of the untrusted workers, raw results, the
trusted checks, scoring, reference results, the forbidden-API scan and the engine that joins
them. Nothing here imports, executes or unpickles anything a student wrote."""
