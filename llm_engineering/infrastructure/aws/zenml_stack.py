"""The ZenML stack `llm-twin-aws`, registered from the outputs of the project's CloudFormation stack.

Five components, each named after the ZenML stack: the S3 artifact store on the stack's bucket; the ECR container
registry, with the stack's repository as the one ZenML pushes the pipelines' images to; the SageMaker orchestrator,
whose jobs run as the stack's pipeline role; the SageMaker step operator, whose training jobs run as the SageMaker
execution role (the pipeline role may pass exactly that role); and the local image builder (Docker where the pipeline
is started builds the image, the registry holds it).

Registering is an upsert by name: a second run with the same outputs changes nothing (same ids); a changed output
updates only the keys this module sets, so settings added by hand (an instance type, say) are kept; the stack keeps
components of other types added to it. Everything is checked before the first write, so a refusal registers nothing.
No credentials are stored in ZenML: the components use those of wherever they run (AWS_PROFILE, AWS_ACCESS_KEY_ID,
the SageMaker job's role).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from llm_engineering.domain.exceptions import ZenMLStackError
from llm_engineering.infrastructure.aws.stack import CloudFormationApi, describe_stack

if TYPE_CHECKING:
    from zenml.client import Client
    from zenml.enums import StackComponentType
    from zenml.models import ComponentResponse

ZENML_STACK_NAME = "llm-twin-aws"
# The outputs of deploy/aws/llm-twin.yaml the ZenML stack is made of.
REQUIRED_OUTPUTS = ("BucketName", "RepositoryUri", "PipelineRoleArn", "SageMakerExecutionRoleArn")
# The statuses in which a stack's resources, and so its outputs, are all in place (an update that rolled back leaves
# the stack as it was before).
_COMPLETE = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)
_NOTHING = "Nothing was registered."

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class AWSStackOutputs:
    """What the ZenML stack needs from the CloudFormation stack."""

    stack_name: str
    region: str
    bucket: str
    repository_uri: str
    pipeline_role_arn: str
    execution_role_arn: str


@dataclass(frozen=True)
class ComponentSpec:
    """One stack component to register: its ZenML type (StackComponentType's value), flavor, name and settings."""

    component_type: str
    flavor: str
    name: str
    configuration: Mapping[str, str]
    summary: str


def read_stack_outputs(cloudformation: CloudFormationApi, stack_name: str) -> AWSStackOutputs:
    """The outputs of a complete stack, with its region (from its id).

    Raises:
        ZenMLStackError: there is no such stack, it is not complete, or it lacks an output.
        StackDeployError: no credentials, or AWS refused.
    """
    stack = describe_stack(cloudformation, stack_name)
    if stack is None:
        raise ZenMLStackError(
            f"There is no stack {stack_name}: deploy it with `poe deploy-aws-stack`, then register again. {_NOTHING}"
        )
    status = str(stack["StackStatus"])
    if status not in _COMPLETE:
        then = (
            "wait until it is done" if status.endswith("_IN_PROGRESS") else "deploy it again (`poe deploy-aws-stack`)"
        )
        raise ZenMLStackError(
            f"Stack {stack_name} is {status}, not complete: {then}, then register again "
            f"(`llm-twin aws outputs` shows its status). {_NOTHING}"
        )
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs") or []}
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise ZenMLStackError(
            f"Stack {stack_name} has no output {', '.join(missing)}: is it deployed from deploy/aws/llm-twin.yaml? "
            f"Update it with `poe deploy-aws-stack`, then register again. {_NOTHING}"
        )
    # arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    region = str(stack["StackId"]).split(":")[3]
    return AWSStackOutputs(
        stack_name=stack_name,
        region=region,
        bucket=outputs["BucketName"],
        repository_uri=outputs["RepositoryUri"],
        pipeline_role_arn=outputs["PipelineRoleArn"],
        execution_role_arn=outputs["SageMakerExecutionRoleArn"],
    )


def component_specs(outputs: AWSStackOutputs, zenml_stack_name: str = ZENML_STACK_NAME) -> tuple[ComponentSpec, ...]:
    """The stack's five components, from the outputs.

    Raises:
        ZenMLStackError: the repository URI is not REGISTRY/REPOSITORY.
    """
    registry, _, repository = outputs.repository_uri.partition("/")
    if not registry or not repository:
        raise ZenMLStackError(
            f"The output RepositoryUri {outputs.repository_uri!r} of {outputs.stack_name} is not "
            f"REGISTRY/REPOSITORY (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME). {_NOTHING}"
        )
    return (
        ComponentSpec(
            "artifact_store",
            "s3",
            f"{zenml_stack_name}-artifacts",
            {"path": f"s3://{outputs.bucket}"},
            f"s3://{outputs.bucket}",
        ),
        ComponentSpec(
            "container_registry",
            "aws",
            f"{zenml_stack_name}-ecr",
            {"uri": registry, "default_repository": repository},
            outputs.repository_uri,
        ),
        ComponentSpec(
            "orchestrator",
            "sagemaker",
            f"{zenml_stack_name}-sagemaker",
            {"execution_role": outputs.pipeline_role_arn, "region": outputs.region, "bucket": outputs.bucket},
            f"{outputs.region}, as {outputs.pipeline_role_arn}",
        ),
        ComponentSpec(
            "step_operator",
            "sagemaker",
            f"{zenml_stack_name}-sagemaker-training",
            {"role": outputs.execution_role_arn, "bucket": outputs.bucket},
            f"as {outputs.execution_role_arn}",
        ),
        ComponentSpec("image_builder", "local", f"{zenml_stack_name}-docker", {}, "Docker where the pipeline starts"),
    )


def register_zenml_stack(
    outputs: AWSStackOutputs,
    zenml_stack_name: str = ZENML_STACK_NAME,
    *,
    activate: bool = False,
) -> list[str]:
    """Create or update the components and the ZenML stack; lines saying what happened to each.

    Raises:
        ZenMLStackError: a component's code cannot be loaded here (the aws extra is not installed), an output is not
            valid for its component, or a component of that name exists with another flavor; nothing is registered.
    """
    from zenml.client import Client
    from zenml.enums import StackComponentType, StoreType

    client = Client()
    specs = component_specs(outputs, zenml_stack_name)
    for spec in specs:
        _check(client, spec)

    lines = [f"ZenML stack {zenml_stack_name} from the AWS stack {outputs.stack_name} ({outputs.region}):"]
    ids: dict[StackComponentType, UUID] = {}
    for spec in specs:
        outcome, component_id = _upsert_component(client, spec)
        ids[StackComponentType(spec.component_type)] = component_id
        lines.append(f"  {outcome:<9}  {spec.component_type:<18}  {spec.name:<36}  {spec.flavor:<9}  {spec.summary}")
    lines.append(f"  {_upsert_stack(client, zenml_stack_name, ids):<9}  {'stack':<18}  {zenml_stack_name}")

    if client.zen_store.type == StoreType.SQL:
        lines.append(
            "Note: this ZenML store is local; SageMaker steps report to a ZenML server they can reach. Connect to one "
            "(`zenml login URL`) and register again before a pipeline runs on this stack."
        )
    if activate:
        client.activate_stack(zenml_stack_name)
        lines.append(f"Active ZenML stack: {zenml_stack_name}.")
    else:
        lines.append(
            f"Use it with `zenml stack set {zenml_stack_name}` (or register with --activate); "
            "`zenml stack set default` goes back."
        )
    return lines


def _check(client: "Client", spec: ComponentSpec) -> None:
    """Refuse, before anything is written, what would fail: missing packages, a bad value, a clash of flavors."""
    from zenml.enums import StackComponentType
    from zenml.stack.flavor import Flavor
    from zenml.stack.utils import validate_stack_component_config

    component_type = StackComponentType(spec.component_type)
    what = f"The {spec.flavor} {spec.component_type.replace('_', ' ')}"
    try:
        flavor = client.get_flavor_by_name_and_type(name=spec.flavor, component_type=component_type)
    except KeyError:
        raise ZenMLStackError(
            f"{what} is not a flavor this ZenML store knows (`zenml {spec.component_type.replace('_', '-')} flavor "
            f"list` shows those it does). {_NOTHING}"
        ) from None
    try:
        # The class ZenML instantiates when a pipeline runs: it imports the integration's packages (s3fs, sagemaker,
        # aws-profile-manager), which are what ZenML's `aws` and `s3` integrations need on this machine.
        Flavor.from_model(flavor).implementation_class  # noqa: B018 - imported for the check
    except ImportError as error:
        raise ZenMLStackError(
            f"{what} cannot be loaded here ({error.name or error} is missing): install the aws extra "
            f"(`pip install -e '.[aws]'`; `make setup` does). {_NOTHING}"
        ) from None
    try:
        validate_stack_component_config(dict(spec.configuration), flavor=flavor, component_type=component_type)
    except ValueError as error:
        reason = str(error).replace("\n", " ")
        raise ZenMLStackError(f"{what} {spec.name} refuses {dict(spec.configuration)}: {reason} {_NOTHING}") from None
    existing = _component(client, spec)
    if existing is not None and existing.flavor_name != spec.flavor:
        raise ZenMLStackError(
            f"A ZenML {spec.component_type} named {spec.name} exists with the flavor {existing.flavor_name}, not "
            f"{spec.flavor}: delete or rename it (`zenml {spec.component_type.replace('_', '-')} delete {spec.name}`), "
            f"or register under another name (--zenml-stack). {_NOTHING}"
        )


def _component(client: "Client", spec: ComponentSpec) -> "ComponentResponse | None":
    """The registered component of the spec's name and type, or None."""
    from zenml.enums import StackComponentType

    try:
        return client.get_stack_component(
            StackComponentType(spec.component_type), name_id_or_prefix=spec.name, allow_name_prefix_match=False
        )
    except KeyError:
        return None


def _upsert_component(client: "Client", spec: ComponentSpec) -> tuple[Outcome, UUID]:
    """Create the component, or update the keys this module owns where they differ; the outcome and its id."""
    from zenml.enums import StackComponentType

    component_type = StackComponentType(spec.component_type)
    existing = _component(client, spec)
    if existing is None:
        created = client.create_stack_component(
            name=spec.name, flavor=spec.flavor, component_type=component_type, configuration=dict(spec.configuration)
        )
        return "created", created.id
    current = existing.configuration
    if all(current.get(key) == value for key, value in spec.configuration.items()):
        return "unchanged", existing.id
    client.update_stack_component(existing.id, component_type, configuration=dict(spec.configuration))
    return "updated", existing.id


def _upsert_stack(client: "Client", name: str, ids: Mapping["StackComponentType", UUID]) -> Outcome:
    """Create the stack of these components, or point the existing one's components of these types at them."""
    try:
        stack = client.get_stack(name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(name=name, components=dict(ids))
        return "created"
    current = {component_type: [c.id for c in components] for component_type, components in stack.components.items()}
    if all(current.get(component_type) == [component_id] for component_type, component_id in ids.items()):
        return "unchanged"
    client.update_stack(stack.id, component_updates=dict(ids))
    return "updated"
