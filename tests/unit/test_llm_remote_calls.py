import threading

import pytest

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.infrastructure.llm.remote_calls import (
    CallFailure,
    RetryPolicy,
    call_with_retries,
    map_concurrently,
)


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


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(max_retries=20, backoff_s=1.0, max_backoff_s=5.0)
    assert 5.0 <= policy.delay(10) <= 6.25


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
