"""Steps of the training pipeline."""

from steps.training.sagemaker import train_on_sagemaker
from steps.training.train import train_locally

__all__ = ["train_locally", "train_on_sagemaker"]
