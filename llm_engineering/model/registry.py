"""The model registry (ZenML Model Control Plane): how trained models are stored, and how later pipelines find them.

Evaluation and inference never take a file path: they ask for a model name and "latest", "production" or a version
number, and get the merged model's folder, copied once from the artifact store into a local cache.
"""

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from loguru import logger
from zenml.enums import ArtifactType, ModelStages
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from llm_engineering.domain.exceptions import RegistryError

if TYPE_CHECKING:
    from uuid import UUID

    from zenml.models import ArtifactVersionResponse, ModelVersionResponse

ADAPTER_ARTIFACT = "lora_adapter"
MERGED_MODEL_ARTIFACT = "merged_model"
# The merged model exported for the OpenVINO GenAI engine, and the version metadata that describes it (engine, weight
# format, size, perplexity and its ratio to the source, export time, whether it is served and why).
OPTIMIZED_MODEL_ARTIFACT = "optimized_model"
OPTIMIZATION_METADATA = "optimized_model"
# The merged model as a GGUF file with an Ollama Modelfile, to run the twin elsewhere, and its version metadata.
GGUF_MODEL_ARTIFACT = "gguf_model"
GGUF_METADATA = "gguf_model"
# Version metadata: the hash of what a training run read (config, base, rows); equal keys make the same model.
TRAINING_KEY = "training_key"
MODEL_DESCRIPTION = "The LLM Twin: the author's voice, LoRA fine-tuned (SFT, then DPO) from a small instruct model."


@dataclass(frozen=True)
class ModelFolder:
    """A saved model folder (safetensors + config + tokenizer, or a LoRA adapter), stored file by file."""

    path: Path


class ModelFolderMaterializer(BaseMaterializer):
    """Stores a ModelFolder as its plain files (inspectable, no archive to compress) and loads it to a temp folder."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (ModelFolder,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def load(self, data_type: type[Any]) -> ModelFolder:
        """Copy the stored files into a fresh local folder."""
        with self.get_temporary_directory(delete_at_exit=False, delete_after_step_execution=False) as directory:
            _copy_tree(self.uri, directory)
            return ModelFolder(Path(directory))

    def save(self, data: ModelFolder) -> None:
        """Copy every file of the folder into the artifact store."""
        _copy_tree(str(data.path), self.uri)


def _copy_tree(source: str, destination: str) -> None:
    # Either side may be an artifact-store URI (s3://, gs://), not a local path: string joins, not pathlib.
    for root, _, files in fileio.walk(source):
        relative = os.path.relpath(str(root), source)
        target_dir = destination if relative == "." else f"{destination.rstrip('/')}/{relative}"
        fileio.makedirs(target_dir)
        for name in files:
            fileio.copy(f"{str(root).rstrip('/')}/{name!s}", f"{target_dir}/{name!s}", overwrite=True)


def find_model_version(
    model_name: str, version: str | int = "latest", tag: str | None = None
) -> "ModelVersionResponse":
    """The version asked for: "latest" (newest, with `tag` if given), "production", "staging", or a number."""
    from zenml.client import Client

    client = Client()
    requested = str(version).lower()
    try:
        if requested == "latest" and tag is not None:
            page = client.list_model_versions(model=model_name, tags=[tag], sort_by="desc:number", size=1, hydrate=True)
            if not page.items:
                raise KeyError(tag)
            return page.items[0]
        if requested in {ModelStages.LATEST, ModelStages.PRODUCTION, ModelStages.STAGING}:
            return client.get_model_version(model_name, ModelStages(requested))
        if requested.isdigit():
            return client.get_model_version(model_name, int(requested))
    except KeyError:
        tagged = f" tagged {tag}" if tag else ""
        raise RegistryError(
            f"The registry has no {model_name} version {requested}{tagged}; run the training pipeline first "
            "(poe run-training-pipeline, finetuning_type: sft), or check `zenml model version list "
            f"--model {model_name}`."
        ) from None
    raise RegistryError(f"Model version {version!r} is neither latest, production, staging nor a number.")


def version_artifact(version: "ModelVersionResponse", name: str) -> "ArtifactVersionResponse | None":
    """The version's artifact called `name`, or None when it has none."""
    try:
        return version.get_artifact(name)
    except KeyError:
        return None


def find_trained_version(model_name: str, tag: str, training_key: str) -> "ModelVersionResponse | None":
    """The newest version tagged `tag` that a run with these exact inputs made (and that holds a merged model)."""
    from zenml.client import Client
    from zenml.utils.pagination_utils import depaginate

    client = Client()
    try:
        client.get_model(model_name)
    except KeyError:
        return None
    versions = depaginate(client.list_model_versions, model=model_name, tags=[tag], sort_by="desc:number", hydrate=True)
    for version in versions:
        if version.run_metadata.get(TRAINING_KEY) != training_key:
            continue
        if version_artifact(version, MERGED_MODEL_ARTIFACT) is not None:
            return version
    return None


@contextmanager
def uninterrupted(what: str) -> Iterator[None]:
    """Hold Ctrl-C until the block has run, so that a registry write is made whole or not at all.

    A registry write: a version with its artifacts and metadata, a stage change, an export linked and described.
    The KeyboardInterrupt comes right after the block. Signals reach the main thread only, so elsewhere the block
    runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        logger.warning("Ctrl-C was held until {} was written whole; stopping now.", what)
        raise KeyboardInterrupt


def register_version(
    model_name: str,
    tag: str,
    artifacts: "list[ArtifactVersionResponse]",
    metadata: dict[str, Any],
    pipeline_run_id: "UUID | None" = None,
) -> "ModelVersionResponse":
    """A new version of `model_name` (the model is created on first use) tagged `tag`, with artifacts and metadata.

    Created only once training has succeeded, so a failed run leaves no empty version behind.
    """
    from zenml import log_metadata
    from zenml.client import Client
    from zenml.model.utils import link_artifact_version_to_model_version
    from zenml.models import ModelVersionPipelineRunRequest

    client = Client()
    with uninterrupted(f"the new {model_name} version"):
        try:
            client.get_model(model_name)
        except KeyError:
            client.create_model(name=model_name, description=MODEL_DESCRIPTION)
        version = client.create_model_version(model_name, tags=[tag], description=MODEL_DESCRIPTION)
        for artifact in artifacts:
            link_artifact_version_to_model_version(artifact, version)
        if pipeline_run_id is not None:
            client.zen_store.create_model_version_pipeline_run_link(
                ModelVersionPipelineRunRequest(model_version=version.id, pipeline_run=pipeline_run_id)
            )
        log_metadata(metadata=metadata, model_version_id=version.id)
    return client.get_model_version(model_name, version.number)


def load_model_folder(
    model_name: str,
    version: str | int,
    cache_dir: Path,
    *,
    tag: str | None = None,
    artifact: str = MERGED_MODEL_ARTIFACT,
) -> Path:
    """The local folder of a registered model's merged weights (or adapter), copied once per artifact version."""
    model_version = find_model_version(model_name, version, tag)
    artifact_version = version_artifact(model_version, artifact)
    if artifact_version is None:
        raise RegistryError(
            f"{model_name} version {model_version.number} has no {artifact} artifact; it was not made by the training "
            "pipeline, or its run failed. Pick another version."
        )
    target = cache_dir / f"{model_name}-v{model_version.number}-{artifact}-{str(artifact_version.id)[:8]}"
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    loaded = artifact_version.load()
    if not isinstance(loaded, ModelFolder):
        raise RegistryError(f"{model_name} version {model_version.number}'s {artifact} is not a model folder.")
    # Copied beside the target and renamed in one step: a crash mid-copy leaves no half-written model.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_dir))
    try:
        shutil.copytree(loaded.path, staging, dirs_exist_ok=True)
        staging.chmod(0o755)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(loaded.path, ignore_errors=True)
    logger.info("{} version {} ({}) is at {}.", model_name, model_version.number, artifact, target)
    return target
