"""The twin's SageMaker TGI endpoint: deploy the registry's production TwinLlama, send it one request, delete it.

python -m tools.sagemaker_endpoint deploy [--model s3://bucket/model.tar.gz | --model org/hub-id]
python -m tools.sagemaker_endpoint test
python -m tools.sagemaker_endpoint delete

Names, instance, TGI limits and autoscaling come from Settings (SAGEMAKER_ENDPOINT_INFERENCE, GPU_INSTANCE_TYPE,
SM_NUM_GPUS, MAX_INPUT_LENGTH, MAX_TOTAL_TOKENS, MAX_BATCH_TOTAL_TOKENS, SAGEMAKER_MIN/MAX_REPLICAS, AWS_*).
"""

import argparse
import sys

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
from llm_engineering.model.inference.production import production_artifact_uri
from llm_engineering.settings import Settings, get_settings
from tools.cli_logging import configure_logging
from tools.twin import TWIN_MODEL_NAME


def production_model_location(settings: Settings) -> str:
    """Where the model registry's `production` TwinLlama version keeps its merged weights: an s3:// artifact on a
    cloud stack. A local artifact store, or no production version, is refused with what to do instead."""
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


def main(argv: list[str] | None = None) -> int:
    """Run one endpoint command; 1 when AWS refuses, 2 for a configuration problem."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.sagemaker_endpoint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy", help="deploy the production TwinLlama on TGI, with autoscaling")
    deploy.add_argument("--model", help="s3:// artifact or Hugging Face Hub id (default: the registry's production)")
    commands.add_parser("test", help="send the endpoint one request and print the answer")
    commands.add_parser("delete", help="remove the autoscaling target, endpoint, endpoint config and model")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        settings = get_settings()
        spec = EndpointSpec.from_settings(settings)
        if args.command == "deploy":
            location = args.model or production_model_location(settings)
            token = settings.HUGGINGFACE_ACCESS_TOKEN
            deploy_endpoint(
                spec,
                location,
                sagemaker=sagemaker_client(settings),
                autoscaling=autoscaling_client(settings),
                image_uri=tgi_image_uri(spec),
                hf_token=token.get_secret_value() if token else None,
            )
            print(f"Endpoint {spec.endpoint_name} is InService; try `poe test-sagemaker-endpoint`.")
        elif args.command == "test":
            print(call_endpoint_once(spec, runtime_client(settings)))
        else:
            deleted = delete_endpoint(
                spec, sagemaker=sagemaker_client(settings), autoscaling=autoscaling_client(settings)
            )
            print("Deleted: " + (", ".join(deleted) or "nothing (it did not exist)"))
    except PipelineNotAvailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
