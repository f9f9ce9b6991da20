"""`python -m tools.rag` on the sample corpus, run as a user runs it: a question about one author is answered from
that author's chunks only, with the scores and links printed and the answer streamed by the real SmolLM2."""

import re
from pathlib import Path

import pytest

from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import Settings
from tests.conftest import run_tool
from tests.rag_support import prepare_sample_twin


@pytest.mark.slow
def test_tools_rag_answers_about_one_author_from_that_authors_chunks(
    settings: Settings, warehouse: MongoDataWarehouse, cli_env: dict[str, str], llm_models_dir: Path
) -> None:
    prepare_sample_twin(settings, warehouse, llm_models_dir)
    out = run_tool("ask", "Maya Okafor, how do you read a GPU bill?", "--k", "4", "--max-new-tokens", "16", env=cli_env)
    assert "Self-query: author = Maya Okafor" in out
    rows = [line for line in out.splitlines() if re.match(r"\s*\d+\. fused ", line)]
    assert len(rows) == 4
    assert all("Maya Okafor" in row and "Theo Brandt" not in row for row in rows)
    assert all(re.search(r"dense -?\d\.\d{3}", row) and "https://" in row for row in rows)
    assert "reading-a-gpu-bill" in rows[0]
    answer = out.split("\nAnswer (HuggingFaceTB/SmolLM2-135M-Instruct):\n", 1)[1]
    assert answer.strip()


@pytest.mark.slow
def test_tools_rag_refuses_an_empty_question_without_a_trace(
    settings: Settings, warehouse: MongoDataWarehouse, cli_env: dict[str, str]
) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    result = subprocess.run(
        [sys.executable, "-m", "tools", "ask", "   ", "--no-generate"],
        cwd=REPO_ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "The question is empty" in result.stderr and "Traceback" not in result.stderr
