import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.cache import CachedLLMClient, completion_key

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
