"""The benchmarks under bench/ still run against today's code and print the figures their docstrings promise.

They are not timed here: these runs are tiny, and only check that a user who runs a benchmark gets its table and
its JSON line rather than a traceback from a config or API that moved on.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from tests.conftest import PACKAGED_LLM_ID
from tests.training_support import make_tiny_llama_like

ROOT = Path(__file__).resolve().parents[2]
# The runnable benchmarks; the other modules there are their shared helpers.
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


def _run(*args: str, timeout: float = 300, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize("bench", BENCHES)
def test_every_benchmark_explains_itself(bench: str) -> None:
    result = _run(f"bench/{bench}", "--help", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.slow
def test_the_feature_benchmark_reports_its_ratios_and_reembeds_nothing_the_second_time() -> None:
    result = _run("bench/feature_pipeline.py", "--min-chunks", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["chunks"] > 100  # one copy of the sample corpus
    assert figures["throughput_ratio"] > 0
    assert figures["incremental_ratio"] > 1
    assert "bare encode" in result.stdout


@pytest.mark.slow
def test_the_vector_store_benchmark_measures_every_adapter_and_query_kind() -> None:
    result = _run("bench/vector_store.py", "--sizes", "300", "--queries", "5")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    assert [row["backend"] for row in rows] == ["qdrant-edge", "qdrant-client :memory:", "qdrant-client path"]
    for row in rows:
        assert row["points"] == 300
        for kind in ("dense", "dense_filtered", "hybrid", "hybrid_filtered"):
            assert row[f"{kind}_queries"] == 5
            assert 0 < row[f"{kind}_p50_ms"] <= row[f"{kind}_p95_ms"]
    assert "goal < 5 ms" in result.stdout


@pytest.mark.slow
def test_the_engine_comparison_measures_both_engines_in_processes_of_their_own(
    llm_models_dir: Path, tmp_path: Path
) -> None:
    # A 2-layer Llama with SmolLM2's tokenizer stands in for SmolLM2 (LOCAL_LLM_MODEL_ID): the same code path and the
    # same RAG-sized prompt, for a fraction of SmolLM2's OpenVINO export, which a fresh clone would make here first.
    tiny = make_tiny_llama_like(tmp_path / "tiny-llama", Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir)))
    result = _run(
        *("bench/serve.py", "--engines", "transformers", "openvino", "--chat-clients", "2", "--max-tokens", "4"),
        LOCAL_LLM_MODEL_ID=str(tiny),
        DATA_DIR=str(tmp_path / "data"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(figures) == ["transformers", "openvino"]
    assert figures["openvino"]["engine"].startswith("openvino-genai int8 continuous batching")
    for engine in figures.values():
        assert engine["prompt_tokens"] > 1400  # the RAG-sized prompt the time to first token is measured at
        assert engine["ttft_p50_s"] > 0 and engine["tokens_per_s_2_clients"] > 0 and engine["peak_rss_mb"] > 0
    assert figures["openvino"]["ttft_ratio_to_transformers"] > 0
    assert "(goal <= 0.4)" in result.stdout
