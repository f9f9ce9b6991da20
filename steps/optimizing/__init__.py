"""Steps of the optimize_model pipeline."""

from steps.optimizing.optimize import optimize_version

__all__ = ["optimize_version"]
