"""Steps of the training pipeline."""

from steps.training.train import train_locally

__all__ = ["train_locally"]
