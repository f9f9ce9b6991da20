"""A disk cache of completions in front of any LLMClient, so a re-run or a crash never pays twice for a call."""

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loguru import logger

from llm_engineering.domain.ports import ChatMessage, GenerationParams, LLMClient

# Parameters added after completions were first stored: left out of the key while at their defaults, so the
# completions stored before them stay valid.
_KEYED_ONLY_WHEN_SET = frozenset({"repetition_penalty", "no_repeat_ngram_size", "stop"})


def completion_key(
    backend: str,
    model_id: str,
    conversation: Sequence[ChatMessage],
    params: GenerationParams,
    engine: str | None = None,
) -> str:
    """SHA-256 of (backend, model, messages, parameters, and the engine + precision of a local model).

    Equal numbers hash equally whatever their Python type. `engine` (e.g. "transformers float32",
    "openvino-genai int8") is keyed only when given, so remote backends' stored completions stay valid.
    """
    parameters = {
        item.name: float(getattr(params, item.name))
        if item.type is float
        else list(getattr(params, item.name))
        if item.name == "stop"
        else getattr(params, item.name)
        for item in dataclasses.fields(params)
        if item.name not in _KEYED_ONLY_WHEN_SET or getattr(params, item.name) != item.default
    }
    request = {
        "backend": backend,
        "model": model_id,
        "messages": [[message.role, message.content] for message in conversation],
        "params": parameters,
    }
    if engine is not None:
        request["engine"] = engine
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class CachedLLMClient:
    """Implements the LLMClient port around another one: hits come from disk, misses are stored as they arrive."""

    def __init__(self, inner: LLMClient, directory: Path, *, chunk_size: int) -> None:
        """Misses go to `inner` in chunks of `chunk_size`, each stored before the next starts."""
        self._inner = inner
        self._directory = directory
        self._chunk_size = chunk_size
        self.hits = 0
        self.misses = 0

    @property
    def backend(self) -> str:
        """The wrapped client's backend."""
        return self._inner.backend

    @property
    def model_id(self) -> str:
        """The wrapped client's model id, part of every cache key."""
        return self._inner.model_id

    @property
    def engine(self) -> str | None:
        """The wrapped client's engine and precision when it runs a local model (part of every cache key)."""
        engine = getattr(self._inner, "engine", None)
        return engine if isinstance(engine, str) else None

    @property
    def directory(self) -> Path:
        """Where the cached completions are stored."""
        return self._directory

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """Cached completions where present; the rest from the wrapped client, in order."""
        keys = [
            completion_key(self.backend, self.model_id, conversation, params, self.engine)
            for conversation in conversations
        ]
        found: dict[int, str] = {}
        for index, key in enumerate(keys):
            completion = self._read(key)
            if completion is not None:
                found[index] = completion
        missing = [index for index in range(len(keys)) if index not in found]
        self.hits += len(found)
        self.misses += len(missing)
        for start in range(0, len(missing), self._chunk_size):
            chunk = missing[start : start + self._chunk_size]
            answers = self._inner.generate([conversations[index] for index in chunk], params)
            for index, answer in zip(chunk, answers, strict=True):
                self._write(keys[index], conversations[index], params, answer)
                found[index] = answer
        return [found[index] for index in range(len(keys))]

    def _path(self, key: str) -> Path:
        return self._directory / self.backend / key[:2] / f"{key}.json"

    def _read(self, key: str) -> str | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("Ignoring unreadable LLM cache entry {} ({}); it will be recomputed.", path, error)
            return None
        completion = entry.get("completion") if isinstance(entry, dict) else None
        return completion if isinstance(completion, str) else None

    def _write(self, key: str, conversation: Sequence[ChatMessage], params: GenerationParams, answer: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry: dict[str, Any] = {
            "backend": self.backend,
            "model": self.model_id,
            "engine": self.engine,
            "params": dataclasses.asdict(params),
            "messages": [dataclasses.asdict(message) for message in conversation],
            "completion": answer,
        }
        # Written aside, flushed, then renamed in one step: a crash leaves either no entry or a whole one.
        handle, staging = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(entry, file, ensure_ascii=False, indent=1)
                file.flush()
                os.fsync(file.fileno())
            Path(staging).replace(path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
