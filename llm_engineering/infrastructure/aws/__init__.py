"""AWS adapters: SageMaker roles, training jobs, the twin's TGI endpoint (deploy, autoscale, test, delete), S3 files."""
