"""Light modules import nothing heavy, checked in a fresh interpreter (a subprocess) that has imported nothing else."""

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


def test_the_training_config_module_imports_no_ml_library() -> None:
    code = (
        "import sys, llm_engineering.model.finetuning.config\n"
        "print([m for m in ('torch', 'zenml', 'transformers', 'trl', 'peft') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
