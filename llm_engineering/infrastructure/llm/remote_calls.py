"""Calls to remote LLM endpoints: retries with exponential backoff, and concurrent fan-out of a batch."""

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from loguru import logger

from llm_engineering.domain.exceptions import LLMError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    max_retries: int
    backoff_s: float
    max_backoff_s: float = 30.0

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (0-based): doubling, capped, with up to 25 % jitter."""
        base = min(self.max_backoff_s, self.backoff_s * 2.0**retry)
        # Jitter spreads out the concurrent requests of one batch that failed together (not a security use).
        return base * (1 + 0.25 * random.random())  # noqa: S311


@dataclass(frozen=True)
class CallFailure:
    """An adapter's reading of one exception: whether a retry may help, and the cause in words."""

    transient: bool
    cause: str


def call_with_retries(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    classify: Callable[[Exception], CallFailure | None],
    what: str,
    fix: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying transient failures; raise LLMError with the cause and `fix` once retries run out.

    `classify` returns None for exceptions that are not the endpoint's doing (programming errors): they propagate.
    """
    retry = 0
    while True:
        try:
            return call()
        except Exception as error:
            failure = classify(error)
            if failure is None:
                raise
            if not failure.transient or retry >= policy.max_retries:
                attempts = retry + 1
                raise LLMError(f"{what} failed after {attempts} attempt(s): {failure.cause}. {fix}") from error
            delay = policy.delay(retry)
            logger.warning(
                "{} failed ({}); retry {}/{} in {:.1f} s.", what, failure.cause, retry + 1, policy.max_retries, delay
            )
            sleep(delay)
            retry += 1


def map_concurrently(function: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """`function` over `items` on up to `workers` threads, results in order; LLMErrors are gathered into one."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        futures = [pool.submit(function, item) for item in items]
    results: list[R] = []
    errors: list[LLMError] = []
    for future in futures:
        try:
            results.append(future.result())
        except LLMError as error:
            errors.append(error)
    if errors:
        raise LLMError(f"{len(errors)} of {len(items)} LLM requests failed; the first: {errors[0]}") from errors[0]
    return results
