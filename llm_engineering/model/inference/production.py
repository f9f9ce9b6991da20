"""Which model answers: the registry's `production` TwinLlama version, located once."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_engineering.domain.exceptions import RegistryError
from llm_engineering.model.registry import (
    MERGED_MODEL_ARTIFACT,
    OPTIMIZATION_METADATA,
    OPTIMIZED_MODEL_ARTIFACT,
    find_model_version,
    load_model_folder,
    version_artifact,
)

if TYPE_CHECKING:
    from zenml.models import ModelVersionResponse


@dataclass(frozen=True)
class ProductionModel:
    """The production version of a registered model.

    Its number, its merged weights' local folder, and its optimized export's folder when one is registered and
    cleared for serving (else None, and `optimized_note` says why).
    """

    model_name: str
    version: int
    folder: Path
    optimized: Path | None = None
    optimized_note: str = ""
    optimization: dict[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """How people see it: "TwinLlama:3 (production)"."""
        return f"{self.model_name}:{self.version} (production)"


def find_production_model(model_name: str, cache_dir: Path) -> ProductionModel | None:
    """The production version's merged weights, copied once into `cache_dir`; None when no version is promoted."""
    try:
        version = find_model_version(model_name, "production")
        folder = load_model_folder(model_name, "production", cache_dir)
    except RegistryError:
        return None
    number = int(version.number)
    export = served_export(model_name, version, cache_dir)
    return ProductionModel(
        model_name=model_name,
        version=number,
        folder=folder,
        optimized=export.folder,
        optimized_note=export.note,
        optimization=export.summary,
    )


@dataclass(frozen=True)
class ServedExport:
    """A version's optimized export as the service would load it.

    Its folder when cleared for serving (else None, and `note` says why), and its `optimized_model` metadata.
    """

    folder: Path | None
    note: str
    summary: dict[str, Any]


def served_export(model_name: str, version: "ModelVersionResponse", cache_dir: Path) -> ServedExport:
    """The version's `optimized_model` folder if it is registered and cleared for serving (copied once)."""
    number = int(version.number)
    summary = version.run_metadata.get(OPTIMIZATION_METADATA)
    summary = dict(summary) if isinstance(summary, dict) else {}
    if version_artifact(version, OPTIMIZED_MODEL_ARTIFACT) is None:
        note = (
            f"{model_name}:{number} has no {OPTIMIZED_MODEL_ARTIFACT} artifact; make one with "
            "`poe run-optimize-model-pipeline`"
        )
        return ServedExport(None, note, summary)
    if not summary.get("served", False):
        note = (
            f"{model_name}:{number}'s {summary.get('weight_format', '?')} export is not served: {summary.get('reason')}"
        )
        return ServedExport(None, note, summary)
    folder = load_model_folder(model_name, number, cache_dir, artifact=OPTIMIZED_MODEL_ARTIFACT)
    return ServedExport(folder, f"{summary.get('weight_format')} export, {summary.get('reason')}", summary)


def production_artifact_uri(model_name: str) -> tuple[int, str]:
    """The production version's number and where its merged weights live in the artifact store.

    The location is s3://… on a cloud stack; RegistryError when no version is promoted or it has no merged
    weights.
    """
    version = find_model_version(model_name, "production")
    artifact = version_artifact(version, MERGED_MODEL_ARTIFACT)
    if artifact is None:
        raise RegistryError(
            f"{model_name} version {version.number} (production) has no {MERGED_MODEL_ARTIFACT} artifact; promote a "
            "version made by the training pipeline."
        )
    return int(version.number), str(artifact.uri)
