"""The service's back-pressure and stream stopping, without HTTP."""

import threading
import time
from collections.abc import Iterator

from llm_engineering.infrastructure.api.limits import AnswerStream, ConcurrencyLimiter


def test_the_limiter_refuses_beyond_its_slots_and_release_is_idempotent() -> None:
    limiter = ConcurrencyLimiter(2)
    first, second = limiter.try_acquire(), limiter.try_acquire()
    assert first is not None and second is not None
    assert limiter.try_acquire() is None
    first()
    first()
    assert limiter.in_flight == 1
    assert limiter.try_acquire() is not None


def test_closing_while_a_piece_is_generating_closes_once_the_piece_returns() -> None:
    started, release = threading.Event(), threading.Event()
    closed: list[bool] = []

    def pieces() -> Iterator[str]:
        try:
            started.set()
            release.wait(5)
            yield "slow piece"
            yield "never"
        finally:
            closed.append(True)

    stream = AnswerStream(pieces())
    worker_result: list[str | None] = []
    worker = threading.Thread(target=lambda: worker_result.append(stream.next_piece()))
    worker.start()
    assert started.wait(5)
    stream.close()  # the generator is running: closing it now would raise "generator already executing"
    assert closed == []
    release.set()
    worker.join(5)
    assert worker_result == ["slow piece"]
    assert closed == [True]
    assert stream.next_piece() is None


def test_closing_an_idle_stream_closes_at_once_and_only_once() -> None:
    calls: list[str] = []

    class Pieces:
        def __iter__(self) -> "Pieces":
            return self

        def __next__(self) -> str:
            time.sleep(0)
            return "x"

        def close(self) -> None:
            calls.append("close")

    stream = AnswerStream(Pieces())
    assert stream.next_piece() == "x"
    stream.close()
    stream.close()
    assert calls == ["close"]
    assert stream.next_piece() is None
