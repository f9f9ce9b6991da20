"""Calls to remote LLM endpoints: retries of transient failures (tenacity), and concurrent fan-out of a batch."""

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.infrastructure.retrying import RetryPolicy, transient_retrying

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class CallFailure:
    """An adapter's reading of one exception: whether a retry may help, and the cause in words."""

    transient: bool
    cause: str
    # The wait a server asked for (Retry-After), in seconds, when it said one.
    retry_after_s: float | None = None


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

    def failure_of(error: BaseException) -> CallFailure | None:
        return classify(error) if isinstance(error, Exception) else None

    def transient(error: BaseException) -> bool:
        failure = failure_of(error)
        return failure is not None and failure.transient

    def retry_after(error: BaseException) -> float | None:
        failure = failure_of(error)
        return failure.retry_after_s if failure is not None else None

    def describe(error: BaseException) -> str:
        failure = failure_of(error)
        return failure.cause if failure is not None else str(error)

    retrying = transient_retrying(
        policy, is_transient=transient, describe=describe, what=what, retry_after=retry_after, sleep=sleep
    )
    try:
        return retrying(call)
    except Exception as error:
        failure = classify(error)
        if failure is None:
            raise
        attempts = retrying.statistics.get("attempt_number", 1)
        raise LLMError(f"{what} failed after {attempts} attempt(s): {failure.cause}. {fix}") from error


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
