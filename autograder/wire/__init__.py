"""The boundary shared by both sides: frames on the wire and the forbidden-API name tables.

``frames``: what crosses between the grader and a worker (JSON headers, safetensors tensors).
``apis``: how a spec's forbid entry expands into every route to the same operation.
Nothing here runs student code or imports the trusted side; ``untrusted/`` imports only this.
"""
