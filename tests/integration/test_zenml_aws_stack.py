"""`llm-twin aws register-stack` on moto's CloudFormation (server mode) and the session's local ZenML store: the ZenML
stack llm-twin-aws from deploy/aws/llm-twin.yaml's outputs; a second run that changes nothing; a drifted component put
back without losing what was added by hand; refusals in one line that register nothing.

moto computes Outputs only for a stack made by CreateStack, not by a change set: the template goes in that way here.
"""

import sys
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.cloudformation.models import cloudformation_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from zenml.client import Client
from zenml.enums import StackComponentType
from zenml.stack import Stack

from llm_engineering.infrastructure.aws.stack import DEFAULT_STACK_NAME, TEMPLATE_PATH, stack_outputs
from llm_engineering.infrastructure.aws.zenml_stack import ZENML_STACK_NAME
from tests.aws_support import REGION, aws_cli, aws_emulator  # noqa: F401 - fixtures, used by name
from tests.cli_support import llm_twin

# Every test runs the CLI on the emulator; moto warns on the resource types it skips.
pytestmark = [pytest.mark.usefixtures("aws_cli"), pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")]

STACK = DEFAULT_STACK_NAME
# Only the bucket and its output: a stack that is not the project's.
BUCKET_ONLY = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  BucketName:
    Value: !Ref Bucket
"""


@pytest.fixture
def active_stack_kept() -> Iterator[None]:
    """Whatever the test activates, the session's other tests run on the stack that was active before."""
    before = Client().active_stack_model.id
    yield
    Client().activate_stack(before)


def deploy(template: str | None = None) -> dict[str, str]:
    """The template (the project's by default) as the stack, through CreateStack; its outputs."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=template or TEMPLATE_PATH.read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return stack_outputs(cloudformation, STACK)


def components(stack_name: str) -> dict[StackComponentType, Any]:
    """The stack's component of each type."""
    stack = Client().get_stack(stack_name, allow_name_prefix_match=False)
    assert all(len(of_type) == 1 for of_type in stack.components.values())
    return {component_type: of_type[0] for component_type, of_type in stack.components.items()}


def registered(prefix: str) -> tuple[int, int]:
    """How many ZenML stacks and components carry this name (prefix)."""
    client = Client()
    return client.list_stacks(name=prefix).total, client.list_stack_components(name=f"startswith:{prefix}").total


def outcomes(out: str) -> list[str]:
    """The first column of the command's table: what happened to each component, then to the stack."""
    return [line.split()[0] for line in out.splitlines() if line.startswith("  ")]


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_the_stack_is_registered_from_the_outputs_and_a_second_run_changes_nothing(
    capsys: pytest.CaptureFixture[str], active_stack_kept: None
) -> None:
    outputs = deploy()
    active = Client().active_stack_model.id

    assert llm_twin(["aws", "register-stack"]) == 0
    out = capsys.readouterr().out
    assert f"ZenML stack {ZENML_STACK_NAME} from the AWS stack {STACK} ({REGION}):" in out
    assert outcomes(out) == ["created"] * 6  # five components, then the stack
    assert f"zenml stack set {ZENML_STACK_NAME}" in out
    assert Client().active_stack_model.id == active  # registered, not activated

    found = components(ZENML_STACK_NAME)
    assert set(found) == {
        StackComponentType.ARTIFACT_STORE,
        StackComponentType.CONTAINER_REGISTRY,
        StackComponentType.ORCHESTRATOR,
        StackComponentType.STEP_OPERATOR,
        StackComponentType.IMAGE_BUILDER,
    }
    client = Client()
    store = client.get_stack_component(StackComponentType.ARTIFACT_STORE, found[StackComponentType.ARTIFACT_STORE].id)
    assert store.flavor_name == "s3" and store.configuration["path"] == f"s3://{outputs['BucketName']}"
    registry = client.get_stack_component(
        StackComponentType.CONTAINER_REGISTRY, found[StackComponentType.CONTAINER_REGISTRY].id
    )
    assert registry.flavor_name == "aws"
    assert f"{registry.configuration['uri']}/{registry.configuration['default_repository']}" == outputs["RepositoryUri"]
    orchestrator = client.get_stack_component(
        StackComponentType.ORCHESTRATOR, found[StackComponentType.ORCHESTRATOR].id
    )
    assert orchestrator.flavor_name == "sagemaker"
    assert orchestrator.configuration["execution_role"] == outputs["PipelineRoleArn"]
    assert orchestrator.configuration["region"] == REGION
    assert orchestrator.configuration["bucket"] == outputs["BucketName"]
    operator = client.get_stack_component(StackComponentType.STEP_OPERATOR, found[StackComponentType.STEP_OPERATOR].id)
    assert operator.flavor_name == "sagemaker"
    assert operator.configuration["role"] == outputs["SageMakerExecutionRoleArn"]
    assert found[StackComponentType.IMAGE_BUILDER].flavor_name == "local"

    # What a pipeline run does first: the stack passes ZenML's checks (the SageMaker orchestrator's: a registry, an
    # image builder, no local component), and its artifact store writes to the bucket (s3fs, on the emulator).
    stack = Stack.from_model(client.get_stack(ZENML_STACK_NAME))
    stack.validate()
    with stack.artifact_store.open(f"{stack.artifact_store.path}/probe.txt", "w") as probe:
        probe.write("written by ZenML")
    written = boto3.client("s3", region_name=REGION).get_object(Bucket=outputs["BucketName"], Key="probe.txt")
    assert written["Body"].read() == b"written by ZenML"

    # Again: nothing changes, nothing is duplicated.
    assert llm_twin(["aws", "register-stack"]) == 0
    out = capsys.readouterr().out
    assert outcomes(out) == ["unchanged"] * 6
    assert {t: c.id for t, c in components(ZENML_STACK_NAME).items()} == {t: c.id for t, c in found.items()}
    assert registered(ZENML_STACK_NAME) == (1, 5)

    # A drifted component is put back; what was added by hand stays.
    client.update_stack_component(
        orchestrator.id,
        StackComponentType.ORCHESTRATOR,
        configuration={"execution_role": "arn:aws:iam::123456789012:role/other", "instance_type": "ml.m5.xlarge"},
    )
    assert llm_twin(["aws", "register-stack", "--activate"]) == 0
    out = capsys.readouterr().out
    assert outcomes(out) == ["unchanged", "unchanged", "updated", "unchanged", "unchanged", "unchanged"]
    assert f"Active ZenML stack: {ZENML_STACK_NAME}." in out
    orchestrator = client.get_stack_component(StackComponentType.ORCHESTRATOR, orchestrator.id)
    assert orchestrator.configuration["execution_role"] == outputs["PipelineRoleArn"]
    assert orchestrator.configuration["instance_type"] == "ml.m5.xlarge"
    assert Client().active_stack_model.name == ZENML_STACK_NAME


def _no_stack() -> str:
    return f"There is no stack {STACK}: deploy it with `poe deploy-aws-stack`"


def _in_progress() -> str:
    deploy()
    # moto finishes at once: its stack gets the status of a stack still being updated.
    (stack,) = [s for s in cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].stacks.values() if s.name == STACK]
    stack.status = "UPDATE_IN_PROGRESS"
    return f"Stack {STACK} is UPDATE_IN_PROGRESS, not complete: wait until it is done"


def _missing_outputs() -> str:
    deploy(BUCKET_ONLY)
    return f"Stack {STACK} has no output RepositoryUri, PipelineRoleArn, SageMakerExecutionRoleArn"


@pytest.mark.parametrize("bad", [_no_stack, _in_progress, _missing_outputs], ids=lambda bad: bad.__name__.strip("_"))
def test_a_stack_that_cannot_serve_is_refused_in_one_line_and_nothing_is_registered(
    capsys: pytest.CaptureFixture[str], bad: Any
) -> None:
    expected = bad()
    name = f"refused-{uuid.uuid4().hex[:8]}"

    assert llm_twin(["aws", "register-stack", "--zenml-stack", name]) == 1
    captured = capsys.readouterr()
    (line,) = error_lines(captured.err)
    assert expected in line and line.endswith("Nothing was registered.")
    assert registered(name) == (0, 0)


def test_a_component_of_another_flavor_is_refused_before_anything_is_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy()
    name = f"clash-{uuid.uuid4().hex[:8]}"
    Client().create_stack_component(f"{name}-sagemaker", "local", StackComponentType.ORCHESTRATOR, {})

    assert llm_twin(["aws", "register-stack", "--zenml-stack", name]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert f"orchestrator named {name}-sagemaker exists with the flavor local, not sagemaker" in line
    assert registered(name) == (0, 1)  # only the one that was there


def test_without_the_aws_extra_it_says_what_to_install_and_registers_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy()
    name = f"bare-{uuid.uuid4().hex[:8]}"
    # As on a machine without s3fs: None in sys.modules makes `import s3fs` fail; the artifact store is imported anew.
    for module in [m for m in sys.modules if m.startswith("zenml.integrations.s3.artifact_stores")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "s3fs", None)

    assert llm_twin(["aws", "register-stack", "--zenml-stack", name]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert "The s3 artifact store cannot be loaded here (s3fs is missing): install the aws extra" in line
    assert registered(name) == (0, 0)
