"""Create the AWS identities SageMaker training and deployment need (needs admin AWS credentials once).

llm-twin sagemaker create-user [--name NAME] [--output sagemaker_user_credentials.json]
    an IAM user allowed to launch jobs and deploy endpoints, with a new access key written to --output
    (set AWS_ACCESS_KEY / AWS_SECRET_KEY from it)
llm-twin sagemaker create-execution-role [--name NAME]
    the role jobs and endpoints run as; prints its ARN (set AWS_ARN_ROLE to it)
"""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

from llm_engineering.infrastructure.aws.roles import create_sagemaker_execution_role, create_sagemaker_user, iam_client
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


def _iam() -> Any:
    settings = get_settings()
    return iam_client(
        settings.AWS_REGION,
        settings.AWS_ACCESS_KEY.get_secret_value() if settings.AWS_ACCESS_KEY else None,
        settings.AWS_SECRET_KEY.get_secret_value() if settings.AWS_SECRET_KEY else None,
    )


def _refused(error: Exception) -> int:
    print(f"error: AWS refused or is unreachable ({error}); check the AWS credentials and region.", file=sys.stderr)
    return 1


def create_user(
    name: Annotated[str, typer.Option(help="the IAM user's name")] = "llm-twin-sagemaker-deployer",
    output: Annotated[Path, typer.Option(help="where the new access key is written")] = Path(
        "sagemaker_user_credentials.json"
    ),
) -> int:
    """Create an IAM user that may launch SageMaker jobs and endpoints, and write its new access key."""
    configure_logging()
    try:
        key = create_sagemaker_user(_iam(), name)
    except (BotoCoreError, ClientError) as error:
        return _refused(error)
    output.write_text(
        json.dumps({"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key}, indent=2)
    )
    output.chmod(0o600)
    print(f"Wrote {key.user_name}'s new access key to {output}; set AWS_ACCESS_KEY / AWS_SECRET_KEY.")
    return 0


def create_execution_role(
    name: Annotated[str, typer.Option(help="the role's name")] = "llm-twin-sagemaker-execution",
) -> int:
    """Create the role SageMaker jobs and endpoints run as; prints AWS_ARN_ROLE."""
    configure_logging()
    try:
        arn = create_sagemaker_execution_role(_iam(), name)
    except (BotoCoreError, ClientError) as error:
        return _refused(error)
    print(f"AWS_ARN_ROLE={arn}")
    return 0
