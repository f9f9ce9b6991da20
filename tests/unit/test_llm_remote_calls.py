import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.infrastructure.llm.remote_calls import (
    CallFailure,
    call_with_retries,
    map_concurrently,
)
from llm_engineering.infrastructure.retrying import RetryPolicy, retry_after_seconds


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def classify(error: Exception) -> CallFailure | None:
    if isinstance(error, TimeoutError):
        return CallFailure(transient=True, cause="timed out")
    if isinstance(error, PermissionError):
        return CallFailure(transient=False, cause="HTTP 401")
    return None


def test_transient_failures_are_retried_with_growing_delays() -> None:
    delays: list[float] = []
    call = Flaky(TimeoutError(), TimeoutError())
    policy = RetryPolicy(max_retries=3, backoff_s=1.0)
    result = call_with_retries(call, policy=policy, classify=classify, what="Call", fix="Fix it.", sleep=delays.append)
    assert result == "done"
    assert call.calls == 3
    assert 1.0 <= delays[0] <= 1.25
    assert 2.0 <= delays[1] <= 2.5


def test_retries_run_out_into_an_llm_error_with_cause_and_fix() -> None:
    call = Flaky(*[TimeoutError() for _ in range(5)])
    with pytest.raises(LLMError, match=r"Call failed after 3 attempt\(s\): timed out\. Fix it\.") as caught:
        call_with_retries(
            call,
            policy=RetryPolicy(max_retries=2, backoff_s=0.0),
            classify=classify,
            what="Call",
            fix="Fix it.",
            sleep=lambda _: None,
        )
    assert call.calls == 3
    assert isinstance(caught.value.__cause__, TimeoutError)


def test_permanent_failures_are_not_retried_and_unknown_ones_propagate() -> None:
    permanent = Flaky(PermissionError())
    with pytest.raises(LLMError, match="HTTP 401"):
        call_with_retries(
            permanent,
            policy=RetryPolicy(max_retries=3, backoff_s=0.0),
            classify=classify,
            what="Call",
            fix="",
            sleep=lambda _: None,
        )
    assert permanent.calls == 1
    with pytest.raises(KeyError):
        call_with_retries(
            Flaky(KeyError("bug")),
            policy=RetryPolicy(max_retries=3, backoff_s=0.0),
            classify=classify,
            what="Call",
            fix="",
        )


def test_backoff_is_capped_and_a_servers_retry_after_is_honoured_up_to_the_cap() -> None:
    delays: list[float] = []
    call_with_retries(
        Flaky(*[TimeoutError() for _ in range(6)]),
        policy=RetryPolicy(max_retries=6, backoff_s=1.0, max_backoff_s=5.0),
        classify=classify,
        what="Call",
        fix="",
        sleep=delays.append,
    )
    assert delays[:2] == pytest.approx([1.125, 2.125], abs=0.125) and delays[3:] == [5.0, 5.0, 5.0]

    def busy(error: Exception) -> CallFailure:
        return CallFailure(transient=True, cause="HTTP 429", retry_after_s=3.0 if "short" in str(error) else 60.0)

    delays.clear()
    call_with_retries(
        Flaky(TimeoutError("short"), TimeoutError("long")),
        policy=RetryPolicy(max_retries=2, backoff_s=0.1, max_backoff_s=10.0),
        classify=busy,
        what="Call",
        fix="",
        sleep=delays.append,
    )
    assert delays == [3.0, 10.0]


def test_each_retry_logs_one_line_with_its_cause() -> None:
    lines: list[str] = []
    handler = logger.add(lines.append, level="WARNING", format="{message}")
    try:
        call_with_retries(
            Flaky(TimeoutError(), TimeoutError()),
            policy=RetryPolicy(max_retries=3, backoff_s=0.0),
            classify=classify,
            what="Chat completion",
            fix="",
            sleep=lambda _: None,
        )
    finally:
        logger.remove(handler)
    assert [line.strip() for line in lines] == [
        "Chat completion failed (timed out); retry 1/3 in 0.0 s.",
        "Chat completion failed (timed out); retry 2/3 in 0.0 s.",
    ]


def test_map_concurrently_keeps_order_and_gathers_failures() -> None:
    threads: set[int] = set()
    barrier = threading.Barrier(4, timeout=5)

    def square(value: int) -> int:
        threads.add(threading.get_ident())
        barrier.wait()
        return value * value

    assert map_concurrently(square, [1, 2, 3, 4], workers=4) == [1, 4, 9, 16]
    assert len(threads) == 4

    def fail_odd(value: int) -> int:
        if value % 2:
            raise LLMError(f"odd {value}")
        return value

    with pytest.raises(LLMError, match="2 of 4 LLM requests failed; the first: odd 1"):
        map_concurrently(fail_odd, [1, 2, 3, 4], workers=2)
    assert map_concurrently(fail_odd, [], workers=2) == []


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25.0 <= (retry_after_seconds(later) or 0.0) <= 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date gone by: no wait
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
