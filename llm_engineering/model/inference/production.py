"""Which model answers: the registry's `production` TwinLlama version, located once."""

from dataclasses import dataclass
from pathlib import Path

from llm_engineering.domain.exceptions import RegistryError
from llm_engineering.model.registry import MERGED_MODEL_ARTIFACT, find_model_version, load_model_folder


@dataclass(frozen=True)
class ProductionModel:
    """The production version of a registered model: its number and its merged weights' local folder."""

    model_name: str
    version: int
    folder: Path

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
    return ProductionModel(model_name=model_name, version=int(version.number), folder=folder)


def production_artifact_uri(model_name: str) -> tuple[int, str]:
    """The production version's number and where its merged weights live in the artifact store.

    The location is s3://… on a cloud stack; RegistryError when no version is promoted or it has no merged
    weights.
    """
    version = find_model_version(model_name, "production")
    try:
        artifact = version.get_artifact(MERGED_MODEL_ARTIFACT)
    except KeyError:
        artifact = None
    if artifact is None:
        raise RegistryError(
            f"{model_name} version {version.number} (production) has no {MERGED_MODEL_ARTIFACT} artifact; promote a "
            "version made by the training pipeline."
        )
    return int(version.number), str(artifact.uri)
