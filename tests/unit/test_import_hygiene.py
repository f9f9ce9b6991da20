import json
import subprocess
import sys

HEAVY = ["torch", "zenml", "pymongo", "qdrant_client", "sentence_transformers", "selenium"]


def test_core_modules_import_nothing_heavy() -> None:
    """Importing the package, the domain and the settings must stay cheap and side-effect free."""
    code = (
        "import json, sys\n"
        "import llm_engineering, llm_engineering.domain, llm_engineering.settings\n"
        "import llm_engineering.domain.documents, llm_engineering.domain.ports, llm_engineering.domain.features\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []
