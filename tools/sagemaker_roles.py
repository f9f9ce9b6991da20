"""Create the AWS identities SageMaker training and deployment need (needs admin AWS credentials once).

python -m tools.sagemaker_roles user [--name NAME] [--output sagemaker_user_credentials.json]
    an IAM user allowed to launch jobs and deploy endpoints, with a new access key written to --output
    (set AWS_ACCESS_KEY / AWS_SECRET_KEY from it)
python -m tools.sagemaker_roles execution-role [--name NAME]
    the role jobs and endpoints run as; prints its ARN (set AWS_ARN_ROLE to it)
"""

import argparse
import json
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from llm_engineering.infrastructure.aws.roles import create_sagemaker_execution_role, create_sagemaker_user, iam_client
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sagemaker_roles",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("user", help="an IAM user for launching SageMaker jobs and endpoints")
    user.add_argument("--name", default="llm-twin-sagemaker-deployer")
    user.add_argument("--output", type=Path, default=Path("sagemaker_user_credentials.json"))
    role = commands.add_parser("execution-role", help="the role SageMaker jobs run as (AWS_ARN_ROLE)")
    role.add_argument("--name", default="llm-twin-sagemaker-execution")
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    iam = iam_client(
        settings.AWS_REGION,
        settings.AWS_ACCESS_KEY.get_secret_value() if settings.AWS_ACCESS_KEY else None,
        settings.AWS_SECRET_KEY.get_secret_value() if settings.AWS_SECRET_KEY else None,
    )
    try:
        if args.command == "user":
            key = create_sagemaker_user(iam, args.name)
            args.output.write_text(
                json.dumps({"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key}, indent=2)
            )
            args.output.chmod(0o600)
            print(f"Wrote {key.user_name}'s new access key to {args.output}; set AWS_ACCESS_KEY / AWS_SECRET_KEY.")
        else:
            arn = create_sagemaker_execution_role(iam, args.name)
            print(f"AWS_ARN_ROLE={arn}")
    except (BotoCoreError, ClientError) as error:
        print(f"error: AWS refused or is unreachable ({error}); check the AWS credentials and region.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
