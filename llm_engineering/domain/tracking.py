"""The experiment-tracking port: what training reports, whatever tracker (Comet online or offline) receives it."""

from collections.abc import Mapping
from typing import Any, Protocol


class ExperimentTracker(Protocol):
    """Parameters once, metrics as they come, then end; adapters live in infrastructure/."""

    def log_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Record the run's parameters (hyperparameters, dataset ids)."""
        ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metric values, at a training step when given."""
        ...

    def end(self) -> None:
        """Finish the run, flushing what was logged."""
        ...
