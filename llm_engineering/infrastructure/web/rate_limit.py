"""Per-domain politeness: at least a minimum interval between two requests to the same host."""

import threading
import time


class DomainRateLimiter:
    """Spaces requests to one host by min_interval_s; thread-safe, hosts do not wait for each other."""

    def __init__(self, min_interval_s: float) -> None:
        if min_interval_s < 0:
            raise ValueError(f"min_interval_s must be >= 0, got {min_interval_s}")
        self._interval = min_interval_s
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        """Block until host may be requested again, reserving the next slot for this caller."""
        if self._interval == 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self._interval
        if slot > now:
            time.sleep(slot - now)
