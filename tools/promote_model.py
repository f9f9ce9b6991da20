"""Promote a TwinLlama version to production by hand, bypassing the evaluation's rule; the version records it.

llm-twin promote --version 3 [--model TwinLlama]     (poe promote-model --version 3)
"""

import sys
from typing import Annotated

import typer

from llm_engineering.domain.exceptions import LLMTwinError, RegistryError
from llm_engineering.model.evaluation.config import EvaluationConfig
from tools.cli_logging import configure_logging


def promote(
    version: Annotated[str, typer.Option(help="the version number to promote")],
    model: Annotated[str, typer.Option(help="the registry model")] = EvaluationConfig().model_name,
) -> int:
    """Promote a TwinLlama version to production by hand (the previous one is archived); the version records it."""
    from llm_engineering.model.evaluation.stages import promote_to_production
    from llm_engineering.model.registry import find_model_version

    configure_logging()
    if not version.isdigit():
        print(f"error: --version is {version!r}; give a version number such as 3.", file=sys.stderr)
        return 2
    try:
        found = find_model_version(model, int(version))
    except (RegistryError, LLMTwinError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    promote_to_production(model, found.number, decided_by="promoted by hand", reason="promoted by hand")
    print(f"{model} version {found.number} is now in production (promoted by hand).")
    return 0
