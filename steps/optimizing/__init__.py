"""Steps of the optimize_model pipeline."""

from steps.optimizing.gguf import export_gguf_version
from steps.optimizing.optimize import optimize_version

__all__ = ["export_gguf_version", "optimize_version"]
