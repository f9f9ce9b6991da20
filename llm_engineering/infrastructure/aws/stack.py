"""The project's CloudFormation stack (deploy/aws/llm-twin.yaml): deploy through a change set, outputs, delete.

Deploying creates a change set (CREATE for a new stack, UPDATE for an existing one), waits for it, and returns its
changes as printable lines; the caller shows them, then executes the change set. Parameters left out of an update
keep their previous values, so a second deploy never drops what the first one set. A refusal (no credentials, a
stack that cannot be updated, a change set without changes) is one line that says what to do, and changes nothing.
"""

import contextlib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, WaiterError

from llm_engineering.domain.exceptions import StackDeployError

TEMPLATE_PATH = Path(__file__).resolve().parents[3] / "deploy" / "aws" / "llm-twin.yaml"
DEFAULT_STACK_NAME = "llm-twin"
# The template names its IAM roles.
CAPABILITIES = ("CAPABILITY_NAMED_IAM",)
# CloudFormation's two ways of saying that a change set would change nothing: the reason of a FAILED change set, and
# the error some implementations answer CreateChangeSet with.
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# The statuses from which a stack can be updated.
_UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}
# A stack whose creation change set was never executed: it can take a new CREATE change set.
_REVIEW = "REVIEW_IN_PROGRESS"
_ROLLED_BACK = "ROLLBACK_COMPLETE"
# Events this much older than our own clock's start of an operation may still be the operation's.
_CLOCK_SKEW = timedelta(seconds=60)


class CloudFormationApi(Protocol):
    """The calls of boto3's `cloudformation` client used here."""

    def describe_stacks(self, **kwargs: Any) -> Any:
        """The stack's status, parameters and outputs; a ValidationError when it does not exist."""
        ...

    def create_change_set(self, **kwargs: Any) -> Any:
        """Start computing a change set against the stack (or a new one)."""
        ...

    def describe_change_set(self, **kwargs: Any) -> Any:
        """The change set's status and its changes, a page at a time."""
        ...

    def execute_change_set(self, **kwargs: Any) -> Any:
        """Apply the change set to the stack."""
        ...

    def delete_change_set(self, **kwargs: Any) -> Any:
        """Drop a change set that will not be applied."""
        ...

    def delete_stack(self, **kwargs: Any) -> Any:
        """Start deleting the stack and its resources (except those it retains)."""
        ...

    def describe_stack_events(self, **kwargs: Any) -> Any:
        """The stack's events, newest first: where the reasons of failed resources are."""
        ...

    def list_stack_resources(self, **kwargs: Any) -> Any:
        """The stack's resources with their physical ids, a page at a time."""
        ...

    def get_template(self, **kwargs: Any) -> Any:
        """The template the stack was last deployed with."""
        ...

    def get_waiter(self, waiter_name: str) -> Any:
        """One of boto3's waiters (change set created, stack created, updated, deleted)."""
        ...


@dataclass(frozen=True)
class Polling:
    """How often and how long to wait on CloudFormation (a SageMaker endpoint takes minutes to come up)."""

    interval_s: float = 10.0
    timeout_s: float = 3600.0

    def waiter_config(self) -> dict[str, float | int]:
        """boto3's WaiterConfig for these limits."""
        return {"Delay": self.interval_s, "MaxAttempts": max(1, math.ceil(self.timeout_s / self.interval_s))}


@dataclass(frozen=True)
class ChangeSetPlan:
    """A created change set and what it would do, as lines to print; no id when there is nothing to apply."""

    stack_name: str
    change_set_type: Literal["CREATE", "UPDATE"]
    change_set_id: str | None
    lines: tuple[str, ...]

    @property
    def has_changes(self) -> bool:
        """Whether there is a change set to execute."""
        return self.change_set_id is not None


# ----------------------------------------------------------------------------------------------------------------------
# The template.
# ----------------------------------------------------------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, !GetAtt ...) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def parse_template(body: str) -> dict[str, Any]:
    """A YAML or JSON template as a dict, its short forms expanded.

    Raises:
        StackDeployError: the text is not a template (no mapping, or invalid YAML).
    """
    try:
        template = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader with intrinsic tags only
    except yaml.YAMLError as error:
        raise StackDeployError(f"The template is not valid YAML: {error}".replace("\n", " ")) from None
    if not isinstance(template, dict) or "Resources" not in template:
        raise StackDeployError("The template has no Resources: is it a CloudFormation template?")
    return template


def read_template(path: Path = TEMPLATE_PATH) -> str:
    """The template's text.

    Raises:
        StackDeployError: the file cannot be read.
    """
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise StackDeployError(f"Cannot read the template {path}: {error.strerror}.") from None


# ----------------------------------------------------------------------------------------------------------------------
# AWS errors as one line.
# ----------------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _aws(action: str) -> Iterator[None]:
    """Turn boto3's errors during `action` into a StackDeployError of one line."""
    try:
        yield
    except NoCredentialsError:
        raise StackDeployError(
            f"No AWS credentials to {action}: set AWS_ACCESS_KEY and AWS_SECRET_KEY in .env (or AWS_PROFILE, or "
            "the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables). Nothing was changed."
        ) from None
    except ClientError as error:
        raise StackDeployError(f"AWS refused to {action}: {_message(error)}") from None
    except BotoCoreError as error:
        raise StackDeployError(f"Could not {action}: {error}") from None


def _message(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Message') or details.get('Code') or error}".replace("\n", " ")


def _is_missing(error: ClientError) -> bool:
    return "does not exist" in _message(error)


# ----------------------------------------------------------------------------------------------------------------------
# Reading the stack.
# ----------------------------------------------------------------------------------------------------------------------


def describe_stack(cloudformation: CloudFormationApi, stack_name: str) -> dict[str, Any] | None:
    """The stack's description, or None when there is no such stack."""
    with _aws(f"describe the stack {stack_name}"):
        try:
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
    return dict(stacks[0]) if stacks else None


def _existing_stack(cloudformation: CloudFormationApi, stack_name: str) -> dict[str, Any]:
    stack = describe_stack(cloudformation, stack_name)
    if stack is None:
        raise StackDeployError(f"There is no stack {stack_name}: deploy it with `poe deploy-aws-stack`.")
    return stack


def stack_outputs(cloudformation: CloudFormationApi, stack_name: str) -> dict[str, str]:
    """The stack's outputs, by key.

    Raises:
        StackDeployError: there is no such stack, or AWS refused.
    """
    stack = _existing_stack(cloudformation, stack_name)
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs") or []}


def stack_report(cloudformation: CloudFormationApi, stack_name: str) -> list[str]:
    """`Stack NAME: STATUS`, then one `KEY = value` line per output.

    Raises:
        StackDeployError: there is no such stack, or AWS refused.
    """
    stack = _existing_stack(cloudformation, stack_name)
    lines = [f"Stack {stack_name}: {stack['StackStatus']}"]
    lines += [f"  {output['OutputKey']} = {output['OutputValue']}" for output in stack.get("Outputs") or []]
    return lines


def _failure_reasons(cloudformation: CloudFormationApi, stack_id: str, since: datetime) -> list[str]:
    """`Resource (Type): reason` of each resource that failed since `since`, oldest first."""
    reasons: list[str] = []
    with contextlib.suppress(ClientError, BotoCoreError):
        events = cloudformation.describe_stack_events(StackName=stack_id).get("StackEvents", [])
        for event in reversed(events):
            timestamp = event.get("Timestamp")
            if isinstance(timestamp, datetime) and timestamp < since:
                continue
            if str(event.get("ResourceStatus", "")).endswith("_FAILED") and event.get("ResourceStatusReason"):
                reason = str(event["ResourceStatusReason"]).replace("\n", " ")
                reasons.append(f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}): {reason}")
    return reasons


def _wait(
    cloudformation: CloudFormationApi,
    waiter_name: str,
    polling: Polling,
    failure: Callable[[str], str],
    **kwargs: Any,
) -> None:
    """Wait with a boto3 waiter; its failure becomes a StackDeployError with `failure(last status)`."""
    waiter = cloudformation.get_waiter(waiter_name)
    with _aws(waiter_name.replace("_", " ")):
        try:
            waiter.wait(WaiterConfig=polling.waiter_config(), **kwargs)
        except WaiterError as error:
            last: dict[str, Any] = dict(error.last_response or {})
            stacks = last.get("Stacks") or [{}]
            status = stacks[0].get("StackStatus") or last.get("Status") or "unknown"
            raise StackDeployError(failure(str(status))) from None


# ----------------------------------------------------------------------------------------------------------------------
# Deploying.
# ----------------------------------------------------------------------------------------------------------------------


def _change_set_type(stack_name: str, stack: dict[str, Any] | None) -> Literal["CREATE", "UPDATE"]:
    """CREATE for a new stack, UPDATE for one that can be updated; a refusal that says why for the others."""
    if stack is None or stack["StackStatus"] == _REVIEW:
        return "CREATE"
    status = stack["StackStatus"]
    if status in _UPDATABLE:
        return "UPDATE"
    if status == _ROLLED_BACK:
        raise StackDeployError(
            f"Stack {stack_name} is {_ROLLED_BACK}: its creation failed and was rolled back, and such a stack cannot "
            "be updated. Delete it with `poe delete-aws-stack`, then deploy again. Nothing was changed."
        )
    if status.endswith("_IN_PROGRESS"):
        raise StackDeployError(
            f"Stack {stack_name} is {status}: wait until it is done (`llm-twin aws outputs` shows its status), then "
            "deploy again. Nothing was changed."
        )
    raise StackDeployError(
        f"Stack {stack_name} is {status} and cannot be updated; see its events in the CloudFormation console "
        "(delete it with `poe delete-aws-stack` if it is not needed). Nothing was changed."
    )


def _parameters(
    template: dict[str, Any],
    given: Mapping[str, str],
    stack: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """CreateChangeSet's Parameters and the lines that describe them.

    Given values are passed as they are. On an update every other parameter keeps the value the stack has: by
    UsePreviousValue, or, where that value is the template's default, by leaving the parameter out, so that the
    request names only what is not a default (moto, for one, takes a UsePreviousValue of a defaulted parameter for
    a change). A parameter new to the template takes its default.
    """
    declared = template.get("Parameters") or {}
    previous = {p["ParameterKey"]: p.get("ParameterValue", "") for p in (stack or {}).get("Parameters") or []}
    parameters: list[dict[str, Any]] = []
    lines: list[str] = []
    for name in declared:
        if name in given:
            parameters.append({"ParameterKey": name, "ParameterValue": given[name]})
            shown = _shown(declared[name], given[name])
            if name not in previous:
                lines.append(f"  parameter {name} = {shown}")
            elif previous[name] != given[name]:
                lines.append(f"  parameter {name}: {_shown(declared[name], previous[name])} -> {shown}")
        elif name in previous and previous[name] != _default(declared[name]):
            parameters.append({"ParameterKey": name, "UsePreviousValue": True})
    return parameters, lines


def check_parameters(template: dict[str, Any], given: Mapping[str, str]) -> None:
    """Refuse what CloudFormation would: a parameter the template lacks, a value against its declared constraints.

    Raises:
        StackDeployError: one line naming every bad parameter.
    """
    declared = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise StackDeployError(
            f"The template has no parameter {', '.join(unknown)}; it has: {', '.join(sorted(declared))}."
        )
    problems = [problem for name, value in given.items() if (problem := _invalid(name, value, declared[name]))]
    if problems:
        raise StackDeployError(f"{'; '.join(problems)}. Nothing was changed.")


def _shown(declaration: Any, value: str) -> str:
    """A parameter's value as printed: quoted, or masked for a NoEcho parameter (a password, a key)."""
    secret = isinstance(declaration, dict) and str(declaration.get("NoEcho", "")).lower() == "true"
    return "'****'" if secret else repr(value)


def _invalid(name: str, value: str, declaration: Any) -> str | None:
    """Why `value` breaks the parameter's declared constraints (as CloudFormation would refuse it), or None."""
    declaration = declaration if isinstance(declaration, dict) else {}
    why = declaration.get("ConstraintDescription")
    shown = _shown(declaration, value)
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [str(item) for item in allowed]:
        return f"{name} must be one of {', '.join(str(item) for item in allowed)}, not {shown}"
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        return f"{name} {shown} does not match {pattern}" + (f" ({why})" if why else "")
    if declaration.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"{name} must be a number, not {value!r}"
        low, high = declaration.get("MinValue"), declaration.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            bounds = (
                f"at least {low}"
                if high is None
                else f"between {low} and {high}"
                if low is not None
                else f"at most {high}"
            )
            return f"{name} must be {bounds}, not {value}"
    return None


def _default(declaration: Any) -> str | None:
    """A parameter's default as CloudFormation reports values: a string (None when it has none)."""
    default = declaration.get("Default") if isinstance(declaration, dict) else None
    if default is None:
        return None
    if isinstance(default, list):
        return ",".join(str(item) for item in default)
    return str(default)


def _change_lines(change_set: dict[str, Any]) -> list[str]:
    """One line per resource change: action, logical id, type, and for a modification what and whether it replaces."""
    lines = []
    for change in change_set.get("Changes", []):
        resource = change.get("ResourceChange") or {}
        action = resource.get("Action", "?")
        line = f"  {action:<7} {resource.get('LogicalResourceId', '?'):<24} {resource.get('ResourceType', '?')}"
        if action == "Modify":
            targets = sorted(
                {
                    str(detail.get("Target", {}).get("Name") or detail.get("Target", {}).get("Attribute"))
                    for detail in resource.get("Details", [])
                }
                - {"None"}
            )
            what = f"{', '.join(targets)}; " if targets else ""
            line += f"  ({what}replacement: {resource.get('Replacement', 'unknown')})"
        lines.append(line)
    return lines


def _deployed_template(cloudformation: CloudFormationApi, stack_name: str) -> dict[str, Any]:
    """The template the stack runs now, parsed (boto3 hands a JSON template over already parsed)."""
    with _aws(f"read the template of {stack_name}"):
        body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original").get("TemplateBody")
    return parse_template(body) if isinstance(body, str) else dict(body or {})


def _describe_change_set(cloudformation: CloudFormationApi, change_set_id: str) -> dict[str, Any]:
    """The change set with all its changes (DescribeChangeSet pages them)."""
    described: dict[str, Any] = dict(cloudformation.describe_change_set(ChangeSetName=change_set_id))
    changes = list(described.get("Changes", []))
    while described.get("NextToken"):
        page = cloudformation.describe_change_set(ChangeSetName=change_set_id, NextToken=described["NextToken"])
        changes.extend(page.get("Changes", []))
        described["NextToken"] = page.get("NextToken")
    described["Changes"] = changes
    return described


def create_change_set(
    cloudformation: CloudFormationApi,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str] | None = None,
    polling: Polling | None = None,
) -> ChangeSetPlan:
    """Create the change set that deploys `template_body` as `stack_name`, wait for it, and describe it.

    A change set without changes is deleted again, and the plan says so (its `has_changes` is false).

    Raises:
        StackDeployError: no credentials, an unknown parameter, a stack that cannot be updated (ROLLBACK_COMPLETE,
            busy), or a change set that failed for another reason; nothing is changed.
    """
    polling = polling or Polling()
    template = parse_template(template_body)
    check_parameters(template, parameters or {})
    stack = describe_stack(cloudformation, stack_name)
    change_set_type = _change_set_type(stack_name, stack)
    parameter_list, parameter_lines = _parameters(
        template, parameters or {}, stack if change_set_type == "UPDATE" else None
    )
    name = f"deploy-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    header = f"Change set {name} ({change_set_type}) for stack {stack_name}:"
    no_changes = ChangeSetPlan(stack_name, change_set_type, None, (f"Stack {stack_name} is up to date: no changes.",))
    if (
        change_set_type == "UPDATE"
        and not parameter_lines
        and _deployed_template(cloudformation, stack_name) == template
    ):
        return no_changes  # the same template and the same values: CloudFormation would find nothing to change
    with _aws(f"create a change set for {stack_name}"):
        try:
            created = cloudformation.create_change_set(
                StackName=stack_name,
                ChangeSetName=name,
                ChangeSetType=change_set_type,
                TemplateBody=template_body,
                Parameters=parameter_list,
                Capabilities=list(CAPABILITIES),
                Description="llm-twin aws deploy-stack",
            )
        except ClientError as error:
            if any(marker in _message(error) for marker in _NO_CHANGES):
                return no_changes
            raise
    change_set_id = str(created["Id"])
    with _aws(f"wait for the change set {name}"):
        with contextlib.suppress(WaiterError):  # a FAILED change set has its reason in its description, below
            cloudformation.get_waiter("change_set_create_complete").wait(
                ChangeSetName=change_set_id, WaiterConfig=polling.waiter_config()
            )
        described = _describe_change_set(cloudformation, change_set_id)
    if described.get("Status") != "CREATE_COMPLETE":
        status = described.get("Status")
        reason = str(described.get("StatusReason") or f"it was still {status} after {polling.timeout_s:.0f} s.")
        reason = reason.replace("\n", " ")
        with _aws(f"delete the change set {name}"):
            cloudformation.delete_change_set(ChangeSetName=change_set_id)
        if any(marker in reason for marker in _NO_CHANGES):
            return no_changes
        raise StackDeployError(f"The change set for {stack_name} failed: {reason} Nothing was changed.")
    lines = [header, *parameter_lines, *_change_lines(described)]
    if len(lines) == 1:
        lines.append("  (no resource changes listed)")
    return ChangeSetPlan(stack_name, change_set_type, change_set_id, tuple(lines))


def execute_change_set(cloudformation: CloudFormationApi, plan: ChangeSetPlan, polling: Polling | None = None) -> str:
    """Apply the plan's change set and wait until the stack is done; the stack's final status.

    Raises:
        StackDeployError: the stack did not reach CREATE_COMPLETE or UPDATE_COMPLETE; the message has the failed
            resources' reasons and what to do next.
    """
    if plan.change_set_id is None:
        raise StackDeployError(f"Stack {plan.stack_name} has no change set to apply.")
    polling = polling or Polling()
    started = datetime.now(UTC) - _CLOCK_SKEW
    with _aws(f"execute the change set for {plan.stack_name}"):
        cloudformation.execute_change_set(ChangeSetName=plan.change_set_id)
    creating = plan.change_set_type == "CREATE"

    def failure(status: str) -> str:
        reasons = _failure_reasons(cloudformation, plan.stack_name, started)
        because = f": {'; '.join(reasons)}" if reasons else ""
        if status.endswith("_IN_PROGRESS"):
            then = f" It is still running after {polling.timeout_s:.0f} s: `llm-twin aws outputs` shows its status."
        elif creating:
            then = " Delete it with `poe delete-aws-stack`, fix the cause, then deploy again."
        elif status == "UPDATE_ROLLBACK_COMPLETE":
            then = " CloudFormation rolled the update back: the stack is as it was before."
        else:
            then = " See its events in the CloudFormation console."
        return f"{'Creating' if creating else 'Updating'} stack {plan.stack_name} ended {status}{because}.{then}"

    _wait(
        cloudformation,
        "stack_create_complete" if creating else "stack_update_complete",
        polling,
        failure,
        StackName=plan.stack_name,
    )
    return "CREATE_COMPLETE" if creating else "UPDATE_COMPLETE"


def deploy(
    cloudformation: CloudFormationApi,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str] | None = None,
    *,
    show: Callable[[str], None],
    polling: Polling | None = None,
) -> ChangeSetPlan:
    """Create the change set, `show` its lines, then apply it (when it has changes); the plan that was applied."""
    plan = create_change_set(cloudformation, stack_name, template_body, parameters, polling)
    for line in plan.lines:
        show(line)
    if plan.has_changes:
        show(f"Applying the change set to {stack_name} ...")
        execute_change_set(cloudformation, plan, polling)
    return plan


# ----------------------------------------------------------------------------------------------------------------------
# Deleting.
# ----------------------------------------------------------------------------------------------------------------------


def _retained(cloudformation: CloudFormationApi, stack_name: str) -> list[str]:
    """`Logical (Type) physical-id` of each resource whose DeletionPolicy keeps it after the stack is deleted."""
    resources = _deployed_template(cloudformation, stack_name).get("Resources", {})
    kept = {
        name
        for name, resource in resources.items()
        if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
    }
    found = []
    token: str | None = None
    while True:
        page = cloudformation.list_stack_resources(StackName=stack_name, **({"NextToken": token} if token else {}))
        for resource in page.get("StackResourceSummaries", []):
            if resource["LogicalResourceId"] in kept and resource.get("PhysicalResourceId"):
                found.append(
                    f"{resource['LogicalResourceId']} ({resource['ResourceType']}) {resource['PhysicalResourceId']}"
                )
        token = page.get("NextToken")
        if not token:
            return found


def delete_stack(cloudformation: CloudFormationApi, stack_name: str, polling: Polling | None = None) -> list[str]:
    """Delete the stack and wait until it is gone; lines saying what was deleted and what was kept.

    Raises:
        StackDeployError: no credentials, or the deletion failed (the message names the resources and why).
    """
    polling = polling or Polling()
    stack = describe_stack(cloudformation, stack_name)
    if stack is None:
        return [f"There is no stack {stack_name}: nothing to delete."]
    try:
        with _aws(f"list what {stack_name} keeps"):
            kept = _retained(cloudformation, stack_name)
    except StackDeployError:
        kept = []  # a stack whose creation never ran has no template to read; it keeps nothing either
    started = datetime.now(UTC) - _CLOCK_SKEW
    stack_id = str(stack["StackId"])
    with _aws(f"delete the stack {stack_name}"):
        cloudformation.delete_stack(StackName=stack_id)

    def failure(status: str) -> str:
        reasons = _failure_reasons(cloudformation, stack_id, started)
        because = f": {'; '.join(reasons)}" if reasons else ""
        return f"Deleting stack {stack_name} ended {status}{because}. Fix the cause, then delete it again."

    _wait(cloudformation, "stack_delete_complete", polling, failure, StackName=stack_id)
    lines = [f"Deleted stack {stack_name}."]
    lines += [f"  kept (DeletionPolicy Retain): {resource}" for resource in kept]
    return lines
