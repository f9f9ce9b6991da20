"""`llm-twin`: the one command line of the twin. Every tool is a subcommand; `llm-twin --help` lists them.

The poe tasks keep the book's names (`poe run-training-pipeline`, ...) and call these subcommands.
"""

import functools
from collections.abc import Callable
from typing import Any

import typer

from tools import (
    aws_stack,
    call_ml_service,
    data_warehouse,
    local_infra,
    ml_service,
    promote_model,
    quickstart,
    rag,
    reviews,
    run,
    sagemaker_endpoint,
    sagemaker_roles,
    sample_site,
    search,
    status,
    zenml_settings,
)

app = typer.Typer(
    name="llm-twin",
    help="LLM Twin: build, train, evaluate and serve an AI twin of an author, on this machine or in the cloud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
warehouse_app = typer.Typer(help="Move the data warehouse to and from JSON files.", no_args_is_help=True)
sagemaker_app = typer.Typer(help="AWS SageMaker: the IAM identities and the TGI endpoint.", no_args_is_help=True)
settings_app = typer.Typer(help="The settings the pipeline steps read.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(sagemaker_app, name="sagemaker")
aws_app = typer.Typer(
    help="AWS: the project's CloudFormation stack (deploy/aws/llm-twin.yaml) and the ZenML stack on it.",
    no_args_is_help=True,
)
app.add_typer(aws_app, name="aws")
app.add_typer(settings_app, name="settings")
reviews_app = typer.Typer(
    help="Review the generated datasets in Label Studio: tasks out, annotations back in as reviews.",
    no_args_is_help=True,
)
app.add_typer(reviews_app, name="reviews")


def exits(command: Callable[..., int]) -> Callable[..., None]:
    """The command, with its returned status as the process's exit code."""

    @functools.wraps(command)
    def run_command(*args: Any, **kwargs: Any) -> None:
        code = command(*args, **kwargs)
        if code:
            raise typer.Exit(code)

    return run_command


def _register(target: typer.Typer, name: str, command: Callable[..., int], **options: Any) -> None:
    target.command(name, **options)(exits(command))


_register(app, "quickstart", quickstart.quickstart)
_register(
    app,
    "run",
    run.run,
    epilog="Pipelines:\n\n" + "\n\n".join(f"{n}: {e.summary}" for n, e in run.PIPELINES.items()),
)
_register(app, "status", status.status)
_register(app, "ask", rag.ask)
_register(app, "search", search.search)
_register(app, "serve", ml_service.serve)
_register(app, "call", call_ml_service.call)
_register(app, "promote", promote_model.promote)
_register(app, "infra", local_infra.infra)
_register(
    app,
    "sample-site",
    sample_site.sample_site,
    context_settings={"allow_interspersed_args": False},
)
_register(warehouse_app, "export", data_warehouse.export)
_register(warehouse_app, "import", data_warehouse.import_)
_register(sagemaker_app, "deploy", sagemaker_endpoint.deploy)
_register(sagemaker_app, "test", sagemaker_endpoint.test)
_register(sagemaker_app, "delete", sagemaker_endpoint.delete)
_register(sagemaker_app, "create-user", sagemaker_roles.create_user)
_register(sagemaker_app, "create-execution-role", sagemaker_roles.create_execution_role)
_register(aws_app, "deploy-stack", aws_stack.deploy_stack)
_register(aws_app, "delete-stack", aws_stack.delete_stack)
_register(aws_app, "outputs", aws_stack.stack_outputs)
_register(aws_app, "deploy-service", aws_stack.deploy_service)
_register(aws_app, "delete-service", aws_stack.delete_service)
_register(aws_app, "register-stack", aws_stack.register_stack)
_register(settings_app, "export-to-zenml", zenml_settings.export_to_zenml)
_register(reviews_app, "export-tasks", reviews.export_tasks)
_register(reviews_app, "import", reviews.import_)


def main() -> None:
    """The console script's entry."""
    app(prog_name="llm-twin")
