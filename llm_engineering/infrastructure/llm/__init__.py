"""LLM clients behind the LLMClient port: local transformers, OpenAI-compatible endpoints, SageMaker TGI."""

from llm_engineering.infrastructure.llm.factory import build_llm_client

__all__ = ["build_llm_client"]
