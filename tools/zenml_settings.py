"""Store the current settings (environment and .env) as the ZenML secret the pipeline steps read.

llm-twin settings export-to-zenml
"""

import sys

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.infrastructure.zenml_settings import SECRET_NAME, export_settings_to_zenml
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging


def export_to_zenml() -> int:
    """Store the current settings (environment and .env) as the ZenML secret the pipeline steps read."""
    configure_logging()
    try:
        count = export_settings_to_zenml(get_settings())
    except LLMTwinError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Stored {count} settings in the ZenML secret {SECRET_NAME!r}.")
    return 0
