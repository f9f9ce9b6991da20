"""LLM Twin: turn an author's own writing into an AI twin with reproducible FTI pipelines."""
