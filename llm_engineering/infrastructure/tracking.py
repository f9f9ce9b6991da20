"""Comet ML experiment tracking: online with COMET_API_KEY, else an offline archive under DATA_DIR/comet.

Either way nothing prompts: the offline archive is uploaded later with `comet upload`, as the log says.
"""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loguru import logger

from llm_engineering.settings import Settings

# Comet's automatic logging would read the environment, git and stdout of the whole process; the trainer logs
# exactly what it means to log.
_QUIET: dict[str, Any] = {
    "log_code": False,
    "log_graph": False,
    "auto_param_logging": False,
    "auto_metric_logging": False,
    "auto_output_logging": False,
    "log_env_details": False,
    "log_git_metadata": False,
    "log_git_patch": False,
    "log_env_gpu": False,
    "log_env_host": False,
    "log_env_cpu": False,
    "display_summary_level": 0,
}


class CometTracker:
    """Implements the ExperimentTracker port on a Comet (online or offline) experiment."""

    def __init__(self, experiment: Any, offline_directory: Path | None) -> None:
        self._experiment = experiment
        self._offline_directory = offline_directory

    @property
    def online(self) -> bool:
        """Whether runs go to the Comet server rather than to an offline folder."""
        return self._offline_directory is None

    def log_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Log the run's parameters (flat keys)."""
        self._experiment.log_parameters(dict(parameters))

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log numbers, at a training step when given (loss curves)."""
        self._experiment.log_metrics(dict(metrics), step=step)

    def end(self) -> None:
        """Close the experiment; offline, say where the archive is and how to upload it."""
        self._experiment.end()
        if self._offline_directory is not None:
            archive = self._offline_directory / f"{self._experiment.id}.zip"
            logger.info(
                "Comet experiment saved offline as {}; upload it with `COMET_API_KEY=... comet upload {}`.",
                archive,
                archive,
            )


def comet_tracker(settings: Settings, *, name: str, tags: Sequence[str], run_id: str | None) -> CometTracker:
    """An online experiment when COMET_API_KEY is set, else an OfflineExperiment under DATA_DIR/comet."""
    # Comet reports its own errors to sentry.io from half of all processes; never from ours (offline or not).
    os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
    import comet_ml

    offline_directory: Path | None = None
    experiment: Any
    if settings.COMET_API_KEY is not None:
        experiment = comet_ml.Experiment(
            api_key=settings.COMET_API_KEY.get_secret_value(),
            project_name=settings.COMET_PROJECT,
            workspace=settings.COMET_WORKSPACE,
            **_QUIET,
        )
    else:
        offline_directory = settings.data_dir / "comet"
        offline_directory.mkdir(parents=True, exist_ok=True)
        experiment = comet_ml.OfflineExperiment(
            project_name=settings.COMET_PROJECT,
            workspace=settings.COMET_WORKSPACE,
            offline_directory=str(offline_directory),
            **_QUIET,
        )
    experiment.set_name(name)
    experiment.add_tags(list(tags))
    if run_id is not None:
        experiment.log_other("zenml_run_id", run_id)
    logger.info("Comet experiment {} ({}).", experiment.id, "online" if offline_directory is None else "offline")
    return CometTracker(experiment, offline_directory)
