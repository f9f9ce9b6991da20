"""The LLM judge: the book's two 1-3 scores, accuracy and style, each with a short reason, parsed as JSON.

A malformed (or refusing) judgement is retried once by the structured-output code, then counted as failed;
a backend that fails altogether fails every judgement of the batch, and the evaluation goes on without them.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.application.llm.structured import generate_structured
from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, LLMClient

JUDGE_PROMPT = """You review answers written for a blog about machine learning and data engineering.
Rate the answer to the instruction on two scales from 1 to 3.

Accuracy: 1 = wrong, misleading or off topic; 2 = mostly right with gaps or small errors; 3 = right and complete.
Style: 1 = stiff, padded or generic, like a textbook or a press release; 2 = readable but with some formal or \
generic phrasing; 3 = plain, direct and personal, like a practitioner writing for peers.

Instruction: {instruction}

Answer: {answer}

Reply with only this JSON object:
{{"accuracy": {{"reason": "<one sentence>", "score": <1, 2 or 3>}}, "style": {{"reason": "<one sentence>", \
"score": <1, 2 or 3>}}}}"""


class Judgement(BaseModel):
    """One scale's score and the judge's one-sentence reason."""

    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=1)
    score: int = Field(ge=1, le=3)


class JudgeVerdict(BaseModel):
    """The judge's answer for one (instruction, answer) pair."""

    model_config = ConfigDict(extra="ignore")

    accuracy: Judgement
    style: Judgement


@dataclass(frozen=True)
class JudgeOutcome:
    """Per-answer verdicts (None where the judgement failed) and the mean scores of those that did not."""

    verdicts: list[JudgeVerdict | None]
    failed: int

    @property
    def accuracy(self) -> float | None:
        """Mean accuracy score of the parsed verdicts, None when none parsed."""
        scores = [verdict.accuracy.score for verdict in self.verdicts if verdict is not None]
        return statistics.fmean(scores) if scores else None

    @property
    def style(self) -> float | None:
        """Mean style score of the parsed verdicts, None when none parsed."""
        scores = [verdict.style.score for verdict in self.verdicts if verdict is not None]
        return statistics.fmean(scores) if scores else None


def judge_conversation(instruction: str, answer: str) -> list[ChatMessage]:
    """The one-message conversation that asks the judge about one answer."""
    return [ChatMessage(role="user", content=JUDGE_PROMPT.format(instruction=instruction, answer=answer))]


def judge_answers(
    client: LLMClient, instructions: Sequence[str], answers: Sequence[str], max_new_tokens: int
) -> JudgeOutcome:
    """Ask the judge about every answer in one batch; failures are counted, never raised."""
    conversations = [
        judge_conversation(question, answer) for question, answer in zip(instructions, answers, strict=True)
    ]
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    try:
        result = generate_structured(client, conversations, JudgeVerdict, params)
    except LLMError as error:
        logger.warning("The judge ({}) failed for the whole batch, so no judge scores: {}", client.backend, error)
        return JudgeOutcome(verdicts=[None] * len(conversations), failed=len(conversations))
    if result.dropped:
        logger.warning(
            "{} of {} judgements stayed malformed after a retry; counted as failed.", result.dropped, len(conversations)
        )
    return JudgeOutcome(verdicts=list(result.items), failed=result.dropped)
