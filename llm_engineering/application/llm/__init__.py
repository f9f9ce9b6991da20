"""LLM use cases over the LLMClient port: structured outputs."""
