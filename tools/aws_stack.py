"""The project's AWS stack (deploy/aws/llm-twin.yaml) through CloudFormation change sets.

llm-twin aws deploy-stack [--image-uri URI] [--parameter KEY=VALUE ...]   (poe deploy-aws-stack)
llm-twin aws delete-stack                                                  (poe delete-aws-stack)
llm-twin aws outputs
llm-twin aws deploy-service IMAGE_URI                                      (poe deploy-rag-service IMAGE_URI)
llm-twin aws delete-service                                                (poe delete-rag-service)
llm-twin aws register-stack [--activate] [--zenml-stack NAME]              (poe register-aws-stack)

deploy-stack prints the change set before it applies it; register-stack registers the ZenML stack llm-twin-aws
(S3 artifact store, ECR registry, SageMaker orchestrator and step operator, image builder) from the stack's outputs.
Credentials and region come from Settings (AWS_ACCESS_KEY, AWS_SECRET_KEY, AWS_REGION) or boto3's own chain;
AWS_ENDPOINT_URL points every call at another endpoint.
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.infrastructure.aws.clients import cloudformation_client
from llm_engineering.infrastructure.aws.stack import (
    DEFAULT_STACK_NAME,
    TEMPLATE_PATH,
    CloudFormationApi,
    deploy,
    read_template,
    stack_report,
)
from llm_engineering.infrastructure.aws.stack import delete_stack as delete_the_stack
from llm_engineering.infrastructure.aws.zenml_stack import ZENML_STACK_NAME, read_stack_outputs, register_zenml_stack
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging

StackNameOption = Annotated[str, typer.Option("--stack-name", help="the CloudFormation stack")]


def _parameters(image_uri: str | None, pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` pairs as a dict, with --image-uri as ImageUri."""
    parameters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--parameter")
        parameters[key.strip()] = value
    if image_uri is not None:
        parameters["ImageUri"] = image_uri
    return parameters


def _stack_command(action: Callable[[CloudFormationApi], None]) -> int:
    """Run one stack action on a client built from Settings; 1 with one line on stderr when it is refused."""
    configure_logging()
    try:
        action(cloudformation_client(get_settings()))
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def deploy_stack(
    image_uri: Annotated[
        str | None,
        typer.Option(help="the service image in ECR (ImageUri); left out, an existing stack keeps its image"),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="KEY=VALUE for any template parameter; repeat it for several"),
    ] = None,
    stack_name: StackNameOption = DEFAULT_STACK_NAME,
    template: Annotated[Path, typer.Option(help="the CloudFormation template")] = TEMPLATE_PATH,
) -> int:
    """Create or update the stack: print the change set, then apply it."""
    parameters = _parameters(image_uri, parameter or [])

    def run(cloudformation: CloudFormationApi) -> None:
        body = read_template(template)
        deploy(cloudformation, stack_name, body, parameters, show=print)
        for line in stack_report(cloudformation, stack_name):
            print(line)

    return _stack_command(run)


def delete_stack(stack_name: StackNameOption = DEFAULT_STACK_NAME) -> int:
    """Delete the stack (the artifact bucket is kept: it holds the pipelines' artifacts)."""

    def run(cloudformation: CloudFormationApi) -> None:
        for line in delete_the_stack(cloudformation, stack_name):
            print(line)

    return _stack_command(run)


def stack_outputs(stack_name: StackNameOption = DEFAULT_STACK_NAME) -> int:
    """Print the stack's status and outputs (bucket, repository, role ARNs, endpoint, API URL, API key id)."""

    def run(cloudformation: CloudFormationApi) -> None:
        for line in stack_report(cloudformation, stack_name):
            print(line)

    return _stack_command(run)


def deploy_service(
    image_uri: Annotated[
        str, typer.Argument(help="the service image in ECR, e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com/llm-twin:TAG")
    ],
    stack_name: StackNameOption = DEFAULT_STACK_NAME,
) -> int:
    """Deploy the RAG service from ECR: the stack's SageMaker endpoint (with autoscaling) and its API run this image."""
    if not image_uri.strip():
        print(
            "error: give the image to deploy (its ECR URI); `llm-twin aws delete-service` removes the service.",
            file=sys.stderr,
        )
        return 2
    return deploy_stack(image_uri=image_uri, stack_name=stack_name)


def delete_service(stack_name: StackNameOption = DEFAULT_STACK_NAME) -> int:
    """Remove the RAG service (endpoint, autoscaling, API); keep the rest of the stack (bucket, repository, roles)."""
    return deploy_stack(image_uri="", stack_name=stack_name)


def register_stack(
    activate: Annotated[bool, typer.Option("--activate", help="make it the active ZenML stack")] = False,
    zenml_stack: Annotated[str, typer.Option("--zenml-stack", help="the ZenML stack (and its components' prefix)")] = (
        ZENML_STACK_NAME
    ),
    stack_name: StackNameOption = DEFAULT_STACK_NAME,
) -> int:
    """Register the ZenML stack from the AWS stack's outputs (S3, ECR, SageMaker orchestrator and step operator).

    The image builder is Docker where a pipeline starts. Running it again updates or keeps each part, never duplicates.
    """

    def run(cloudformation: CloudFormationApi) -> None:
        outputs = read_stack_outputs(cloudformation, stack_name)
        for line in register_zenml_stack(outputs, zenml_stack, activate=activate):
            print(line)

    return _stack_command(run)
