"""What a homework is: pydantic models of a spec, how a spec file is loaded, the course folder
and the public view students get. Data only: nothing here imports torch or runs code."""
