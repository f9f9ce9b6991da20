"""Back-pressure and time limits: a slot per request in flight (429 beyond it) and streams that can be stopped."""

import threading
from collections.abc import Callable, Iterator

from llm_engineering.domain.ports import TokenUsage, reported_usage


class ConcurrencyLimiter:
    """At most `limit` requests in flight; one more is refused at once instead of queueing behind the model."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Requests holding a slot now."""
        return self._in_flight

    def try_acquire(self) -> Callable[[], None] | None:
        """A release function for a free slot (safe to call twice), or None when every slot is taken."""
        with self._lock:
            if self._in_flight >= self._limit:
                return None
            self._in_flight += 1
        return self._releaser()

    def hold(self) -> Callable[[], None]:
        """Take a slot even when none is free, for work abandoned at a timeout that still runs in its thread.

        It keeps counting until it ends, so hung calls cannot pile up behind the limit.
        """
        with self._lock:
            self._in_flight += 1
        return self._releaser()

    def _releaser(self) -> Callable[[], None]:
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self._in_flight -= 1

        return release


class AnswerStream:
    """Wraps the answerer's piece iterator so any thread can stop it, even while a piece is being generated.

    `next_piece` runs in a worker thread; `close` called meanwhile (client gone, timeout) is carried out by
    that thread as soon as its piece returns, because a running generator cannot be closed from outside.
    """

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self._lock = threading.Lock()
        self._busy = False
        self._closing = False
        self._closed = False

    def next_piece(self) -> str | None:
        """The next text piece, or None when the answer is complete or the stream was closed."""
        with self._lock:
            if self._closing:
                return None
            self._busy = True
        try:
            return next(self._pieces, None)
        finally:
            with self._lock:
                self._busy = False
                close_now = self._closing
            if close_now:
                self._close_pieces()

    @property
    def usage(self) -> TokenUsage | None:
        """The answer's tokens and why it ended, once exhausted, where the engine counts them (the local ones)."""
        return reported_usage(self._pieces)

    def close(self) -> None:
        """Stop the generation now, or as soon as the piece being generated returns."""
        with self._lock:
            self._closing = True
            close_now = not self._busy
        if close_now:
            self._close_pieces()

    def _close_pieces(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()
