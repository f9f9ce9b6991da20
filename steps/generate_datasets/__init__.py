"""Steps of the dataset pipelines."""

from steps.generate_datasets.generate import generate_instruct_datasets, generate_preference_datasets, push_datasets

__all__ = ["generate_instruct_datasets", "generate_preference_datasets", "push_datasets"]
