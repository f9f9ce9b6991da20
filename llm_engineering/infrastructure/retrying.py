"""Retries of transient failures, for every remote call, on tenacity.

Exponential backoff with jitter, a server's Retry-After honoured (up to the longest wait allowed), and one log line
per retry. What is transient is the caller's reading: connect errors, timeouts, 429 and 5xx.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from loguru import logger
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's wait in seconds: delta-seconds or an HTTP date (RFC 9110); None when unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    max_retries: int
    backoff_s: float
    max_backoff_s: float = 30.0


def transient_retrying(
    policy: RetryPolicy,
    *,
    is_transient: Callable[[BaseException], bool],
    describe: Callable[[BaseException], str],
    what: str,
    retry_after: Callable[[BaseException], float | None] = lambda _error: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Retrying:
    """A tenacity Retrying that re-runs a call after transient failures and re-raises the last failure.

    The wait before retry n (1-based) is backoff_s * 2**(n-1) plus up to 25 % of backoff_s as jitter, or the
    server's Retry-After when longer, never more than max_backoff_s. `retrying.statistics["attempt_number"]`
    counts the attempts made.
    """
    backoff = wait_exponential_jitter(
        initial=policy.backoff_s, max=policy.max_backoff_s, jitter=0.25 * policy.backoff_s
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = retry_after(error) if error is not None else None
        return min(policy.max_backoff_s, max(backoff(state), asked or 0.0))

    def log(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        cause = describe(error) if error is not None else "no answer"
        logger.warning(
            "{} failed ({}); retry {}/{} in {:.1f} s.", what, cause, state.attempt_number, policy.max_retries, delay
        )

    return Retrying(
        stop=stop_after_attempt(policy.max_retries + 1),
        wait=wait,
        retry=retry_if_exception(is_transient),
        before_sleep=log,
        sleep=sleep,
        reraise=True,
    )
