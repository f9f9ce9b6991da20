"""Promote a TwinLlama version to production by hand, bypassing the evaluation's rule; the version records it.

python -m tools.promote_model --version 3 [--model TwinLlama]     (poe promote-model --version 3)
"""

import argparse
import sys

from llm_engineering.domain.exceptions import LLMTwinError, RegistryError
from llm_engineering.model.evaluation.config import EvaluationConfig
from llm_engineering.model.evaluation.stages import promote_to_production
from llm_engineering.model.registry import find_model_version
from tools.cli_logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    """Set the named version to production (the previous one is archived) and note "promoted by hand" on it."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.promote_model", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", required=True, help="the version number to promote")
    parser.add_argument(
        "--model", default=EvaluationConfig().model_name, help="the registry model (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    configure_logging()
    if not str(args.version).isdigit():
        print(f"error: --version is {args.version!r}; give a version number such as 3.", file=sys.stderr)
        return 2
    try:
        version = find_model_version(args.model, int(args.version))
    except (RegistryError, LLMTwinError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    promote_to_production(args.model, version.number, decided_by="promoted by hand", reason="promoted by hand")
    print(f"{args.model} version {version.number} is now in production (promoted by hand).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
