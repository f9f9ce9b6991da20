"""IAM calls of the SageMaker role CLIs on moto's IAM (server mode, through AWS_ENDPOINT_URL): what exists afterwards,
and a second run that finds the role or user there already."""

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
from tests.aws_support import REGION, LocalAWS, aws_emulator  # noqa: F401 - the fixture, used by name below


@pytest.fixture
def iam(aws_emulator: LocalAWS, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:  # noqa: F811 - imported above
    """The project's IAM client on the emulator, whose IAM knows AWS's managed policies as AWS does.

    moto reads the variable when its IAM starts, which is at this test's first IAM call (the fixture starts it empty).
    """
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    yield iam_client(REGION, None, None)


def attached_to_role(iam: Any, name: str) -> set[str]:
    return {policy["PolicyArn"] for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}


def test_execution_role_trusts_sagemaker_and_gets_its_policies(iam: Any) -> None:
    name = "llm-twin-sagemaker-execution"
    arn = create_sagemaker_execution_role(iam, name)
    role = iam.get_role(RoleName=name)["Role"]
    assert arn == role["Arn"] and arn.endswith(f":role/{name}")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert attached_to_role(iam, name) == set(EXECUTION_ROLE_POLICIES)


def test_an_existing_role_is_reused(iam: Any) -> None:
    first = create_sagemaker_execution_role(iam, "r")
    assert create_sagemaker_execution_role(iam, "r") == first
    assert [role["RoleName"] for role in iam.list_roles()["Roles"]] == ["r"]
    assert attached_to_role(iam, "r") == set(EXECUTION_ROLE_POLICIES)


def test_user_gets_policies_and_a_new_key(iam: Any) -> None:
    created = create_sagemaker_user(iam, "u")
    attached = iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]
    assert {policy["PolicyArn"] for policy in attached} == set(USER_POLICIES)
    (key,) = iam.list_access_keys(UserName="u")["AccessKeyMetadata"]
    assert (created.user_name, created.access_key_id, key["Status"]) == ("u", key["AccessKeyId"], "Active")
    assert created.secret_access_key

    again = create_sagemaker_user(iam, "u")  # an existing user gets a second key, the first one kept
    keys = {key["AccessKeyId"] for key in iam.list_access_keys(UserName="u")["AccessKeyMetadata"]}
    assert keys == {created.access_key_id, again.access_key_id}
