"""Structured outputs: LLM answers parsed into pydantic models, a malformed one retried once with its error."""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from loguru import logger
from pydantic import BaseModel, ValidationError

from llm_engineering.domain.exceptions import MalformedAnswerError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, LLMClient

ModelT = TypeVar("ModelT", bound=BaseModel)

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class StructuredResult(Generic[ModelT]):
    """One item per conversation (None where the answer stayed malformed), and how the batch went."""

    items: list[ModelT | None]
    parsed: int
    retried: int
    dropped: int


def extract_json(text: str) -> Any:
    """The first JSON object or array in `text`, looking inside code fences first; lenient about the prose around it."""
    decoder = json.JSONDecoder()
    candidates = [match.group(1) for match in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        for start, character in enumerate(candidate):
            if character not in "{[":
                continue
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            return value
    raise MalformedAnswerError("The answer contains no JSON object or array.")


def parse_answer(text: str, schema: type[ModelT]) -> ModelT:
    """`text` parsed into `schema`: lenient extraction, strict validation."""
    value = extract_json(text)
    try:
        return schema.model_validate(value)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise MalformedAnswerError(f"The JSON does not match {schema.__name__}: {problems}.") from error


def repair_conversation(
    conversation: Sequence[ChatMessage], answer: str, error: MalformedAnswerError, schema: type[BaseModel]
) -> list[ChatMessage]:
    """The conversation, the malformed answer and a request to fix it, naming the error and the expected schema."""
    request = (
        f"Your answer could not be used: {error} Reply again with only one JSON value that matches this JSON "
        f"schema, without any other text:\n{json.dumps(schema.model_json_schema())}"
    )
    return [*conversation, ChatMessage(role="assistant", content=answer), ChatMessage(role="user", content=request)]


def generate_structured(
    client: LLMClient,
    conversations: Sequence[Sequence[ChatMessage]],
    schema: type[ModelT],
    params: GenerationParams,
) -> StructuredResult[ModelT]:
    """Ask `client`, parse each answer into `schema`, retry the malformed ones once in a single batch.

    An answer still malformed after its retry is dropped (None) and counted, never failing the batch; backend
    failures (LLMError) propagate.
    """
    answers = client.generate(conversations, params)
    items: list[ModelT | None] = [None] * len(conversations)
    failures: dict[int, MalformedAnswerError] = {}
    for index, answer in enumerate(answers):
        try:
            items[index] = parse_answer(answer, schema)
        except MalformedAnswerError as error:
            failures[index] = error
    retry_indices = list(failures)
    dropped = 0
    if retry_indices:
        repairs = [
            repair_conversation(conversations[index], answers[index], failures[index], schema)
            for index in retry_indices
        ]
        for index, answer in zip(retry_indices, client.generate(repairs, params), strict=True):
            try:
                items[index] = parse_answer(answer, schema)
            except MalformedAnswerError as error:
                dropped += 1
                logger.debug("Dropping answer {} after its retry: {}", index, error)
    if dropped:
        logger.warning("{} of {} answers stayed malformed after a retry and were dropped.", dropped, len(items))
    return StructuredResult(items=items, parsed=len(items) - dropped, retried=len(retry_indices), dropped=dropped)
