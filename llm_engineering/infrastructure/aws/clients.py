"""boto3 clients for the endpoint commands and S3, built from Settings (credentials, region); nothing connects yet.

The endpoint is boto3's own choice: AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>) when set, else AWS's.
"""

from typing import Any, cast

from llm_engineering.infrastructure.aws.endpoint import AutoscalingApi, SageMakerApi
from llm_engineering.infrastructure.aws.s3_files import S3Api
from llm_engineering.infrastructure.aws.stack import CloudFormationApi
from llm_engineering.infrastructure.llm.sagemaker import SageMakerRuntime
from llm_engineering.settings import Settings


def _client(settings: Settings, service: str) -> Any:
    import boto3

    make: Any = boto3.client  # typed per service name; the services here are chosen by the callers below
    return make(
        service,
        region_name=settings.AWS_REGION,
        aws_access_key_id=settings.AWS_ACCESS_KEY.get_secret_value() if settings.AWS_ACCESS_KEY else None,
        aws_secret_access_key=settings.AWS_SECRET_KEY.get_secret_value() if settings.AWS_SECRET_KEY else None,
    )


def sagemaker_client(settings: Settings) -> SageMakerApi:
    """The `sagemaker` control-plane client."""
    return cast(SageMakerApi, _client(settings, "sagemaker"))


def autoscaling_client(settings: Settings) -> AutoscalingApi:
    """The `application-autoscaling` client."""
    return cast(AutoscalingApi, _client(settings, "application-autoscaling"))


def runtime_client(settings: Settings) -> SageMakerRuntime:
    """The `sagemaker-runtime` client that invokes endpoints."""
    return cast(SageMakerRuntime, _client(settings, "sagemaker-runtime"))


def s3_client(settings: Settings) -> S3Api:
    """The `s3` client (the warehouse's files on S3)."""
    return cast(S3Api, _client(settings, "s3"))


def cloudformation_client(settings: Settings) -> CloudFormationApi:
    """The `cloudformation` client that deploys and deletes the project's stack (deploy/aws/llm-twin.yaml)."""
    return cast(CloudFormationApi, _client(settings, "cloudformation"))
