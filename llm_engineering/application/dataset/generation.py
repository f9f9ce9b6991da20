"""LLM-written halves of the dataset rows: instructions for the author's extracts, and generic answers."""

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from tqdm import tqdm

from llm_engineering.application.llm.structured import generate_structured
from llm_engineering.domain.datasets import Extract, GenerationStrategy, InstructSample, PreferenceSample
from llm_engineering.domain.ports import ChatMessage, GenerationParams, LLMClient

BACKTRANSLATION_SYSTEM = (
    "You read a passage someone wrote and reply with the one question a reader asked that the passage answers. "
    "Reply with that single question only."
)
# One worked example: small models copy a demonstrated format far more reliably than they follow a description.
BACKTRANSLATION_EXAMPLE = (
    ChatMessage(
        "user",
        "Passage:\nWe stopped paying for idle notebooks by shutting them down after two hours without a kernel "
        "running. The saving was larger than any model optimisation we tried that quarter.",
    ),
    ChatMessage("assistant", "How did you cut the cost of idle GPU notebooks?"),
)
PAIRS_SYSTEM = (
    "You turn a passage into instruction-answer pairs for fine-tuning. Each answer uses only the passage's content. "
    'Reply with JSON only: {"pairs": [{"instruction": "...", "answer": "..."}]}'
)
GENERIC_ANSWER_SYSTEM = "You are a helpful assistant. Answer the request directly."
T = TypeVar("T")
R = TypeVar("R")
# Prompts handed to the client per call: the progress bar moves once per group; the client batches inside it.
PROMPT_GROUP = 32
LABEL = re.compile(r"^(question|instruction|q|prompt)\s*[:\-]\s*", re.IGNORECASE)


class SampleGenerationConfig(BaseModel):
    """The `generation` section of the dataset configs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: tuple[GenerationStrategy, ...] = Field(
        default=("structure", "backtranslation"), description="one strategy, or a list whose rows are pooled"
    )
    pairs_per_extract: int = Field(default=3, ge=1, description="pairs the `generate` strategy asks for per extract")
    max_new_tokens: int = Field(default=24, ge=1, description="length of an LLM-written question")
    rejected_max_new_tokens: int = Field(default=40, ge=1, description="length of the LLM's `rejected` answer")
    temperature: float = Field(default=0.0, ge=0)
    rejected_max_per_category: int | None = Field(
        default=45, ge=1, description="preference rows per category sent for an LLM answer; None sends all"
    )

    @field_validator("strategy", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        """`strategy: backtranslation` (older configs) and `strategy: [structure, backtranslation]` both validate."""
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple) and (not value or len(set(value)) != len(value)):
            raise ValueError("generation.strategy must name at least one strategy, each once")
        return value

    def params(self, max_new_tokens: int | None = None) -> GenerationParams:
        """The decoding parameters for one generation call; `max_new_tokens` overrides the configured length."""
        return GenerationParams(max_new_tokens=max_new_tokens or self.max_new_tokens, temperature=self.temperature)


@dataclass
class GenerationStats:
    """LLM calls made, answers dropped as unusable, and seconds spent waiting for the model."""

    prompts: int = 0
    dropped: int = 0
    retried: int = 0
    seconds: float = 0.0
    drop_reasons: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, float | int]:
        """The counters as flat metadata for the dataset artifact."""
        return {
            "llm_prompts": self.prompts,
            "llm_dropped": self.dropped,
            "llm_retried": self.retried,
            "llm_seconds": round(self.seconds, 3),
        }


class InstructionPair(BaseModel):
    """One instruction and its answer, as the LLM must return them."""

    instruction: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class InstructionPairs(BaseModel):
    """The LLM's reply for one chunk: at least one instruction-answer pair."""

    pairs: list[InstructionPair] = Field(min_length=1)


def parse_instruction(text: str) -> str | None:
    """The first non-empty line without a "Question:" style label or wrapping quotes; None if nothing usable."""
    for line in text.strip().splitlines():
        line = LABEL.sub("", line.replace("**", "").strip()).strip().strip('"“”').strip()
        if line:
            return line
    return None


def _in_groups(items: Sequence[T], description: str, progress: bool) -> Iterator[Sequence[T]]:
    """Groups of PROMPT_GROUP items, with a progress bar that moves as each group is done."""
    with tqdm(total=len(items), desc=description, unit="prompt", disable=not progress) as bar:
        for start in range(0, len(items), PROMPT_GROUP):
            group = items[start : start + PROMPT_GROUP]
            yield group
            bar.update(len(group))


@contextmanager
def _llm_time(stats: GenerationStats, prompts: int) -> Iterator[None]:
    tic = time.perf_counter()
    try:
        yield
    finally:
        stats.seconds += time.perf_counter() - tic
        stats.prompts += prompts


def _asked(
    items: Sequence[T],
    description: str,
    progress: bool,
    stats: GenerationStats,
    conversation: Callable[[T], list[ChatMessage]],
    ask: Callable[[list[list[ChatMessage]]], R],
) -> Iterator[tuple[Sequence[T], R]]:
    """Each group of items with the LLM's reply to their conversations, the calls timed and counted in `stats`."""
    for group in _in_groups(items, description, progress):
        conversations = [conversation(item) for item in group]
        with _llm_time(stats, len(group)):
            reply = ask(conversations)
        yield group, reply


def _drop(stats: GenerationStats, reason: str, count: int = 1) -> None:
    stats.dropped += count
    stats.drop_reasons[reason] = stats.drop_reasons.get(reason, 0) + count


def _sample(extract: Extract, instruction: str, output: str, strategy: GenerationStrategy) -> InstructSample:
    return InstructSample(
        instruction=instruction,
        output=output,
        category=extract.category,
        document_id=extract.document_id,
        strategy=strategy,
    )


def backtranslate(
    client: LLMClient,
    extracts: Sequence[Extract],
    config: SampleGenerationConfig,
    stats: GenerationStats,
    *,
    progress: bool = True,
) -> list[InstructSample]:
    """The author's extract is the answer (it carries their voice); the LLM writes what it answers."""
    samples: list[InstructSample] = []
    asked = _asked(
        extracts,
        "writing instructions",
        progress,
        stats,
        lambda extract: [
            ChatMessage("system", BACKTRANSLATION_SYSTEM),
            *BACKTRANSLATION_EXAMPLE,
            ChatMessage("user", f"Passage:\n{extract.text}"),
        ],
        lambda conversations: client.generate(conversations, config.params()),
    )
    for group, answers in asked:
        for extract, answer in zip(group, answers, strict=True):
            instruction = parse_instruction(answer)
            if instruction is None:
                _drop(stats, "unparseable_instruction")
            else:
                samples.append(_sample(extract, instruction, extract.text, "backtranslation"))
    return samples


def generate_pairs(
    client: LLMClient,
    extracts: Sequence[Extract],
    config: SampleGenerationConfig,
    stats: GenerationStats,
    *,
    progress: bool = True,
) -> list[InstructSample]:
    """The book's way for a strong LLM: it writes N instruction-answer pairs per extract, as JSON."""
    samples: list[InstructSample] = []
    asked = _asked(
        extracts,
        "writing instruction pairs",
        progress,
        stats,
        lambda extract: [
            ChatMessage("system", PAIRS_SYSTEM),
            ChatMessage("user", f"Write {config.pairs_per_extract} pairs for this passage:\n{extract.text}"),
        ],
        lambda conversations: generate_structured(client, conversations, InstructionPairs, config.params()),
    )
    for group, result in asked:
        stats.retried += result.retried
        if result.dropped:
            _drop(stats, "malformed_json", result.dropped)
        for extract, parsed in zip(group, result.items, strict=True):
            if parsed is not None:
                samples += [
                    _sample(extract, pair.instruction, pair.answer, "generate")
                    for pair in parsed.pairs[: config.pairs_per_extract]
                ]
    return samples


LLM_STRATEGIES: dict[str, Callable[..., list[InstructSample]]] = {
    "backtranslation": backtranslate,
    "generate": generate_pairs,
}


def generate_instructions(
    client: LLMClient,
    extracts: Sequence[Extract],
    config: SampleGenerationConfig,
    stats: GenerationStats,
    *,
    progress: bool = True,
) -> dict[str, list[InstructSample]]:
    """Rows of each LLM strategy the config names, by strategy (`structure` needs no LLM: see structure.py)."""
    return {
        name: LLM_STRATEGIES[name](client, extracts, config, stats, progress=progress)
        for name in config.strategy
        if name in LLM_STRATEGIES
    }


def add_rejected_answers(
    client: LLMClient,
    samples: Sequence[InstructSample],
    config: SampleGenerationConfig,
    stats: GenerationStats,
    *,
    progress: bool = True,
) -> list[PreferenceSample]:
    """Preference triples: the author's text is chosen, the LLM's generic answer to the same prompt is rejected."""
    triples: list[PreferenceSample] = []
    params = config.params(config.rejected_max_new_tokens)
    asked = _asked(
        samples,
        "writing generic answers",
        progress,
        stats,
        lambda sample: [ChatMessage("system", GENERIC_ANSWER_SYSTEM), ChatMessage("user", sample.instruction)],
        lambda conversations: client.generate(conversations, params),
    )
    for group, answers in asked:
        triples += [
            PreferenceSample(
                prompt=sample.instruction,
                chosen=sample.output,
                rejected=answer.strip(),
                category=sample.category,
                document_id=sample.document_id,
                strategy=sample.strategy,
            )
            for sample, answer in zip(group, answers, strict=True)
        ]
    return triples
