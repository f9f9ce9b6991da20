"""Optimize pipeline: a TwinLlama version exported for OpenVINO GenAI (int8 by default), measured, registered."""

from zenml import pipeline

from llm_engineering.model.inference.config import OptimizeModelConfig
from steps.optimizing import optimize_version


@pipeline
def optimize_model(config: OptimizeModelConfig) -> None:
    """The version's merged weights → OpenVINO IR, its perplexity against the source's, `optimized_model` on it."""
    optimize_version(config)
