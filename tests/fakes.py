"""Test fakes shared by every test module; each implements one of the project's ports."""

import hashlib
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams

WORD = re.compile(r"[a-z0-9]+")


class ScriptedLLM:
    """The LLMClient port, answering from a script: one queue of replies, or one queue per first message."""

    backend = "scripted"
    model_id = "scripted-1"

    def __init__(self, replies: Iterable[str] | Mapping[str, Iterable[str]]) -> None:
        self._by_first_message = (
            {key: deque(values) for key, values in replies.items()} if isinstance(replies, Mapping) else None
        )
        self._queue = deque(replies) if not isinstance(replies, Mapping) else deque[str]()
        self.calls: list[list[list[ChatMessage]]] = []
        self.params: list[GenerationParams] = []

    @property
    def asked(self) -> list[list[ChatMessage]]:
        """Every conversation asked so far, across calls, in order."""
        return [conversation for call in self.calls for conversation in call]

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """The next scripted reply per conversation; raises IndexError when the script runs out."""
        self.calls.append([list(conversation) for conversation in conversations])
        self.params.append(params)
        if self._by_first_message is None:
            return [self._queue.popleft() for _ in conversations]
        return [self._by_first_message[conversation[0].content].popleft() for conversation in conversations]


class HashingEmbedder:
    """The Embedder port without a model: unit vectors of hashed word counts, so shared words mean similarity."""

    model_id = "hashing-64"
    variant = "hashing"
    dimension = 64
    max_input_tokens = 256
    tokenizer_json = ""

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        """One vector per text; counts the calls so tests can check batching."""
        self.calls += 1
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimension
            for word in WORD.findall(text.lower()):
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


class TableEmbedder:
    """The Embedder port with a fixed vector per text, so a similarity has an answer known by hand."""

    model_id = "table"
    variant = "table"
    dimension = 2
    max_input_tokens = 256
    tokenizer_json = ""

    def __init__(self, vectors: Mapping[str, list[float]]) -> None:
        self._vectors = dict(vectors)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> list[list[float]]:
        """The table's vector of each text (KeyError for a text the test did not plan)."""
        return [self._vectors[text] for text in texts]


class FailingLLM:
    """A backend that is down: every call raises the port's error."""

    backend = "down"
    model_id = "down"

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        raise LLMError("connection refused")
