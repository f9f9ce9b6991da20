"""SageMaker: deploy the twin on the Hugging Face TGI container, autoscale it, test it and delete it."""
