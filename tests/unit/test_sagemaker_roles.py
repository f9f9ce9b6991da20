"""IAM calls of the SageMaker role CLIs, checked with botocore's Stubber (no network)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from llm_engineering.infrastructure.aws.roles import (
    EXECUTION_ROLE_POLICIES,
    USER_POLICIES,
    create_sagemaker_execution_role,
    create_sagemaker_user,
    iam_client,
)

ARN = "arn:aws:iam::123456789012:role/llm-twin-sagemaker-execution"
ROLE = {"Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLEEXAMPLE1", "Arn": ARN, "CreateDate": "2026-01-01"}


@pytest.fixture
def iam() -> Iterator[tuple[Any, Any]]:
    from botocore.stub import Stubber

    client = iam_client("eu-central-1", "test", "test")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_execution_role_trusts_sagemaker_and_gets_its_policies(iam: tuple[Any, Any]) -> None:
    client, stub = iam
    name = "llm-twin-sagemaker-execution"
    trust = {"Service": "sagemaker.amazonaws.com"}

    def check_trust(params: dict[str, Any], **_: Any) -> None:
        assert json.loads(params["AssumeRolePolicyDocument"])["Statement"][0]["Principal"] == trust

    client.meta.events.register("provide-client-params.iam.CreateRole", check_trust)
    stub.add_response("create_role", {"Role": ROLE})
    for policy in EXECUTION_ROLE_POLICIES:
        stub.add_response("attach_role_policy", {}, {"RoleName": name, "PolicyArn": policy})
    assert create_sagemaker_execution_role(client, name) == ARN


def test_an_existing_role_is_reused(iam: tuple[Any, Any]) -> None:
    client, stub = iam
    stub.add_client_error("create_role", service_error_code="EntityAlreadyExists", http_status_code=409)
    stub.add_response("get_role", {"Role": ROLE}, {"RoleName": "r"})
    for policy in EXECUTION_ROLE_POLICIES:
        stub.add_response("attach_role_policy", {}, {"RoleName": "r", "PolicyArn": policy})
    assert create_sagemaker_execution_role(client, "r") == ARN


def test_user_gets_policies_and_a_new_key(iam: tuple[Any, Any]) -> None:
    client, stub = iam
    user = {"Path": "/", "UserName": "u", "UserId": "AIDAEXAMPLEEXAMPLE1", "Arn": "arn:aws:iam::1:user/u"}
    stub.add_response("create_user", {"User": {**user, "CreateDate": "2026-01-01"}}, {"UserName": "u"})
    for policy in USER_POLICIES:
        stub.add_response("attach_user_policy", {}, {"UserName": "u", "PolicyArn": policy})
    key = {"UserName": "u", "AccessKeyId": "AKIAEXAMPLEEXAMPLE", "Status": "Active", "SecretAccessKey": "s3cr3t"}
    stub.add_response("create_access_key", {"AccessKey": key}, {"UserName": "u"})
    created = create_sagemaker_user(client, "u")
    assert (created.access_key_id, created.secret_access_key) == ("AKIAEXAMPLEEXAMPLE", "s3cr3t")
