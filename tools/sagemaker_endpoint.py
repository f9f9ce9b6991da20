"""The twin's SageMaker TGI endpoint: deploy the registry's production TwinLlama, send it one request, delete it.

llm-twin sagemaker deploy [--model s3://bucket/model.tar.gz | --model org/hub-id]
llm-twin sagemaker test
llm-twin sagemaker delete

Names, instance, TGI limits and autoscaling come from Settings (SAGEMAKER_ENDPOINT_INFERENCE, GPU_INSTANCE_TYPE,
SM_NUM_GPUS, MAX_INPUT_LENGTH, MAX_TOTAL_TOKENS, MAX_BATCH_TOTAL_TOKENS, SAGEMAKER_MIN/MAX_REPLICAS, AWS_*).
"""

import sys
from collections.abc import Callable
from typing import Annotated

import typer
from loguru import logger

from llm_engineering.domain.exceptions import LLMTwinError, PipelineNotAvailableError, RegistryError
from llm_engineering.infrastructure.aws.clients import autoscaling_client, runtime_client, sagemaker_client
from llm_engineering.infrastructure.aws.endpoint import (
    EndpointSpec,
    call_endpoint_once,
    delete_endpoint,
    deploy_endpoint,
    tgi_image_uri,
)
from llm_engineering.model.finetuning.config import TWIN_MODEL_NAME
from llm_engineering.settings import Settings, get_settings
from tools.cli_logging import configure_logging


def production_model_location(settings: Settings) -> str:
    """Where the model registry's `production` TwinLlama version keeps its merged weights: an s3:// artifact on a
    cloud stack. A local artifact store, or no production version, is refused with what to do instead."""
    from llm_engineering.model.inference.production import production_artifact_uri

    try:
        version, uri = production_artifact_uri(TWIN_MODEL_NAME)
    except RegistryError as error:
        raise PipelineNotAvailableError(f"{error} Or pass the model with --model s3://… or --model <hub-id>.") from None
    if not uri.startswith("s3://"):
        raise PipelineNotAvailableError(
            f"The production {TWIN_MODEL_NAME} (version {version}) is in a local artifact store ({uri}), which "
            "SageMaker cannot read. Train on a ZenML stack with an S3 artifact store, or upload the model and pass "
            "--model s3://bucket/path/ (or --model <hub-id>)."
        )
    logger.info("Deploying {} version {} (production) from {}.", TWIN_MODEL_NAME, version, uri)
    return uri


def _endpoint_command(action: Callable[[Settings, EndpointSpec], str]) -> int:
    """Run one endpoint action and print its outcome; 1 when AWS refuses, 2 for a configuration problem."""
    configure_logging()
    try:
        settings = get_settings()
        print(action(settings, EndpointSpec.from_settings(settings)))
    except PipelineNotAvailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def deploy(
    model: Annotated[
        str | None, typer.Option(help="s3:// artifact or Hugging Face Hub id (default: the registry's production)")
    ] = None,
) -> int:
    """Deploy the production TwinLlama on a SageMaker TGI endpoint, with autoscaling."""

    def run(settings: Settings, spec: EndpointSpec) -> str:
        token = settings.HUGGINGFACE_ACCESS_TOKEN
        deploy_endpoint(
            spec,
            model or production_model_location(settings),
            sagemaker=sagemaker_client(settings),
            autoscaling=autoscaling_client(settings),
            image_uri=tgi_image_uri(spec),
            hf_token=token.get_secret_value() if token else None,
        )
        return f"Endpoint {spec.endpoint_name} is InService; try `poe test-sagemaker-endpoint`."

    return _endpoint_command(run)


def test() -> int:
    """Send the SageMaker endpoint one request and print the answer."""
    return _endpoint_command(lambda settings, spec: call_endpoint_once(spec, runtime_client(settings)))


def delete() -> int:
    """Delete the SageMaker endpoint, its config, its model and its autoscaling target."""

    def run(settings: Settings, spec: EndpointSpec) -> str:
        deleted = delete_endpoint(spec, sagemaker=sagemaker_client(settings), autoscaling=autoscaling_client(settings))
        return "Deleted: " + (", ".join(deleted) or "nothing (it did not exist)")

    return _endpoint_command(run)
