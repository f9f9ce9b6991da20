"""AWS adapters: SageMaker roles and training jobs."""
