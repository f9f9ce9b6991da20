import hashlib
import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.cache import CachedLLMClient, completion_key

REPO_ROOT = Path(__file__).resolve().parents[2]
PARAMS = GenerationParams(max_new_tokens=32)


class CountingLLM:
    """Our own LLMClient port: answers from the question, and remembers what it was asked."""

    def __init__(self, backend: str = "test", model_id: str = "model-a") -> None:
        self._backend = backend
        self._model_id = model_id
        self.asked: list[str] = []

    @property
    def backend(self) -> str:
        return self._backend

    @property
    def model_id(self) -> str:
        return self._model_id

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        questions = [conversation[-1].content for conversation in conversations]
        self.asked.extend(questions)
        return [f"answer to {question}" for question in questions]


def ask(question: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content=question)]


def test_key_changes_with_every_part_of_the_request() -> None:
    conversation = ask("q")
    base = completion_key("local", "m", conversation, PARAMS)
    variants = [
        completion_key("openai", "m", conversation, PARAMS),
        completion_key("local", "m2", conversation, PARAMS),
        completion_key("local", "m", ask("q2"), PARAMS),
        completion_key("local", "m", [ChatMessage(role="user", content="Be brief."), conversation[1]], PARAMS),
        completion_key("local", "m", list(reversed(conversation)), PARAMS),
        completion_key("local", "m", conversation[1:], PARAMS),
        completion_key("local", "m", conversation, GenerationParams(max_new_tokens=33)),
        completion_key("local", "m", conversation, GenerationParams(max_new_tokens=32, temperature=0.7)),
        completion_key("local", "m", conversation, GenerationParams(max_new_tokens=32, top_p=0.9)),
        completion_key("local", "m", conversation, GenerationParams(max_new_tokens=32, seed=1)),
    ]
    assert len({base, *variants}) == len(variants) + 1
    assert completion_key("local", "m", conversation, GenerationParams(max_new_tokens=32, temperature=0)) == base


def test_repetition_controls_key_only_when_set_so_older_completions_stay_valid() -> None:
    conversation = ask("q")
    # The key as it was computed before the repetition controls existed.
    older = {
        "backend": "local",
        "model": "m",
        "messages": [[message.role, message.content] for message in conversation],
        "params": {"max_new_tokens": 32, "temperature": 0.0, "top_p": 1.0, "seed": 0},
    }
    canonical = json.dumps(older, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert completion_key("local", "m", conversation, PARAMS) == hashlib.sha256(canonical.encode()).hexdigest()
    penalised = GenerationParams(max_new_tokens=32, repetition_penalty=1.1)
    no_repeat = GenerationParams(max_new_tokens=32, no_repeat_ngram_size=4)
    keys = {completion_key("local", "m", conversation, params) for params in (PARAMS, penalised, no_repeat)}
    assert len(keys) == 3


def test_second_call_and_new_instance_hit_the_disk(tmp_path: Path) -> None:
    inner = CountingLLM()
    cached = CachedLLMClient(inner, tmp_path, chunk_size=2)
    conversations = [ask("a"), ask("b"), ask("c")]
    first = cached.generate(conversations, PARAMS)
    assert first == ["answer to a", "answer to b", "answer to c"]
    assert cached.generate(conversations, PARAMS) == first
    assert inner.asked == ["a", "b", "c"]
    assert (cached.hits, cached.misses) == (3, 3)

    fresh_inner = CountingLLM()
    reopened = CachedLLMClient(fresh_inner, tmp_path, chunk_size=4)
    assert reopened.generate([ask("b"), ask("d"), ask("a")], PARAMS) == ["answer to b", "answer to d", "answer to a"]
    assert fresh_inner.asked == ["d"]
    assert (reopened.backend, reopened.model_id) == ("test", "model-a")


def test_another_model_or_backend_does_not_share_entries(tmp_path: Path) -> None:
    CachedLLMClient(CountingLLM(), tmp_path, chunk_size=4).generate([ask("a")], PARAMS)
    other_model = CountingLLM(model_id="model-b")
    other_backend = CountingLLM(backend="other")
    CachedLLMClient(other_model, tmp_path, chunk_size=4).generate([ask("a")], PARAMS)
    CachedLLMClient(other_backend, tmp_path, chunk_size=4).generate([ask("a")], PARAMS)
    assert other_model.asked == ["a"]
    assert other_backend.asked == ["a"]


def test_unreadable_entry_is_recomputed(tmp_path: Path) -> None:
    CachedLLMClient(CountingLLM(), tmp_path, chunk_size=4).generate([ask("a")], PARAMS)
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text('{"completion": "half')
    inner = CountingLLM()
    assert CachedLLMClient(inner, tmp_path, chunk_size=4).generate([ask("a")], PARAMS) == ["answer to a"]
    assert inner.asked == ["a"]
    assert '"completion": "answer to a"' in entry.read_text()


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
    backend = "test"
    model_id = "model-a"
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

    inner = CountingLLM()
    rerun = CachedLLMClient(inner, tmp_path, chunk_size=4).generate(
        [[ChatMessage("user", q)] for q in "abcdef"], PARAMS
    )
    assert rerun == [f"answer to {q}" for q in "abcdef"]
    assert inner.asked == list("cdef")
