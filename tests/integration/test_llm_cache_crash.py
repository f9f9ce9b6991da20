"""The LLM cache survives its process dying: a real child process is killed mid-run (os._exit), then a rerun reads
what it left. Moved from tests/unit/test_llm_cache.py."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from tests.conftest import REPO_ROOT
from tests.fakes import ScriptedLLM

PARAMS = GenerationParams(max_new_tokens=32)


CRASHING_RUN = """
import os, pathlib, sys
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.cache import CachedLLMClient

crash_at = sys.argv[2]
if crash_at == "mid-write":
    real_replace = pathlib.Path.replace
    writes = []
    def replace(self, target):
        writes.append(target)
        if len(writes) == 3:
            os._exit(17)  # dies after the third entry's bytes are on disk, before its rename
        return real_replace(self, target)
    pathlib.Path.replace = replace

class DyingLLM:
    backend = "scripted"  # as ScriptedLLM, which answers the rerun: the same cache keys
    model_id = "scripted-1"
    calls = 0
    def generate(self, conversations, params):
        DyingLLM.calls += 1
        if crash_at == "between-chunks" and DyingLLM.calls == 2:
            os._exit(17)  # the process dies with no cleanup at all
        return ["answer to " + c[-1].content for c in conversations]

client = CachedLLMClient(DyingLLM(), pathlib.Path(sys.argv[1]), chunk_size=2)
client.generate([[ChatMessage("user", q)] for q in "abcdef"], GenerationParams(max_new_tokens=32))
"""


@pytest.mark.parametrize("crash_at", ["between-chunks", "mid-write"])
def test_a_crash_keeps_finished_answers_and_no_half_entry(tmp_path: Path, crash_at: str) -> None:
    script = textwrap.dedent(CRASHING_RUN)
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), crash_at], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 17, result.stderr
    assert len(list(tmp_path.rglob("*.json"))) == 2
    # The interrupted write left only its staging file, which no reader takes for an entry.
    assert bool(list(tmp_path.rglob(".*.tmp"))) == (crash_at == "mid-write")

    inner = ScriptedLLM([f"answer to {q}" for q in "cdef"])
    rerun = CachedLLMClient(inner, tmp_path, chunk_size=4).generate(
        [[ChatMessage("user", q)] for q in "abcdef"], PARAMS
    )
    assert rerun == [f"answer to {q}" for q in "abcdef"]
    assert [conversation[-1].content for conversation in inner.asked] == list("cdef")
