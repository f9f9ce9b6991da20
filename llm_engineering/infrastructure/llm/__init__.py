"""LLM clients behind the LLMClient port: local transformers, OpenAI-compatible endpoints, SageMaker TGI.

Which one a run uses is decided in `llm_engineering.bootstrap.llm`, from the settings.
"""
