"""AWS adapters: SageMaker roles, training jobs, and the twin's TGI endpoint (deploy, autoscale, test, delete)."""
