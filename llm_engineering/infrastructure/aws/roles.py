"""IAM for SageMaker: a user that may launch jobs and deploy, and the role that jobs and endpoints run as.

The user is the book's `create-sagemaker-role`; the execution role is AWS_ARN_ROLE. Both are idempotent:
running them again changes nothing.
"""

import json
from dataclasses import dataclass
from typing import Any

from loguru import logger

USER_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/AWSCloudFormationFullAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
)
EXECUTION_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
)
SAGEMAKER_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class AccessKey:
    """A new IAM user's key pair (shown once by AWS)."""

    user_name: str
    access_key_id: str
    secret_access_key: str


def create_sagemaker_user(iam: Any, user_name: str) -> AccessKey:
    """An IAM user with the policies to run training jobs and deploy endpoints, and a new access key for it."""
    try:
        iam.create_user(UserName=user_name)
        logger.info("Created IAM user {}.", user_name)
    except iam.exceptions.EntityAlreadyExistsException:
        logger.info("IAM user {} exists already; adding a new access key.", user_name)
    for policy in USER_POLICIES:
        iam.attach_user_policy(UserName=user_name, PolicyArn=policy)
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return AccessKey(user_name, key["AccessKeyId"], key["SecretAccessKey"])


def create_sagemaker_execution_role(iam: Any, role_name: str) -> str:
    """The role SageMaker jobs and endpoints assume (trusting sagemaker.amazonaws.com); its ARN, for AWS_ARN_ROLE."""
    try:
        role = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST_POLICY),
            Description="LLM Twin: the role SageMaker training jobs and endpoints run as.",
        )["Role"]
        logger.info("Created IAM role {}.", role_name)
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=role_name)["Role"]
        logger.info("IAM role {} exists already.", role_name)
    for policy in EXECUTION_ROLE_POLICIES:
        iam.attach_role_policy(RoleName=role_name, PolicyArn=policy)
    arn: str = role["Arn"]
    return arn


def iam_client(region: str, access_key: str | None, secret_key: str | None) -> Any:
    """boto3's IAM client with the configured keys (else boto3's default credential chain)."""
    import boto3

    return boto3.client("iam", region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key)
