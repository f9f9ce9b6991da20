"""Optimize pipeline: a TwinLlama version exported for OpenVINO GenAI (int8 by default), measured, registered."""

from zenml import pipeline

from llm_engineering.model.inference.config import OptimizeModelConfig
from steps.optimizing import export_gguf_version, optimize_version


@pipeline
def optimize_model(config: OptimizeModelConfig) -> None:
    """The version's merged weights → OpenVINO IR and GGUF, each measured against the source, both on the version."""
    optimize_version(config)
    export_gguf_version(config, after="optimize_version")
