"""Model code: training, evaluation runners and generation."""
