"""ZenML adapter for the generated datasets: the newest `instruct_datasets` / `preference_datasets` artifact versions.

The dataset pipeline writes them; training and the review desk read them here, so the registry stays the only channel
between the pipelines and the service. ZenML is imported on first use, not with the module.
"""

from llm_engineering.domain.datasets import DatasetType, InstructDataset, PreferenceDataset
from llm_engineering.domain.exceptions import DatasetSourceError
from llm_engineering.domain.ports import DatasetVersion

# The dataset pipeline's artifact names, by the kind of rows they hold.
DATASET_ARTIFACTS: dict[DatasetType, str] = {"instruction": "instruct_datasets", "preference": "preference_datasets"}
DATASET_TYPES: dict[DatasetType, type[InstructDataset] | type[PreferenceDataset]] = {
    "instruction": InstructDataset,
    "preference": PreferenceDataset,
}


class ZenMLDatasetArtifacts:
    """Implements DatasetArtifacts on the active ZenML client's artifact store."""

    def newest_version(self, kind: DatasetType) -> DatasetVersion | None:
        """The newest version of the kind's artifact, or None when ZenML has none."""
        from zenml.client import Client

        name = DATASET_ARTIFACTS[kind]
        try:
            artifact = Client().get_artifact_version(name)
        except KeyError:
            return None
        return DatasetVersion(id=str(artifact.id), label=f"{name} version {artifact.version}")

    def load_dataset(self, kind: DatasetType, version: DatasetVersion) -> InstructDataset | PreferenceDataset:
        """That artifact version's dataset; DatasetSourceError when it holds something else."""
        from zenml.client import Client

        value = Client().get_artifact_version(version.id).load()
        expected = DATASET_TYPES[kind]
        if not isinstance(value, expected):
            raise DatasetSourceError(
                f"{version.label} holds a {type(value).__name__}, not the {expected.__name__} of {kind} rows; "
                "regenerate it with the dataset pipeline."
            )
        return value
