import threading
import time

import pytest

from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter


def test_requests_to_one_host_are_spaced_and_other_hosts_do_not_wait() -> None:
    limiter = DomainRateLimiter(0.2)
    start = time.monotonic()
    limiter.wait("medium.com")
    limiter.wait("substack.com")
    assert time.monotonic() - start < 0.1
    limiter.wait("medium.com")
    limiter.wait("medium.com")
    assert time.monotonic() - start >= 0.39


def test_concurrent_callers_each_get_their_own_slot() -> None:
    limiter = DomainRateLimiter(0.1)
    finished: list[float] = []
    start = time.monotonic()

    def call() -> None:
        limiter.wait("github.com")
        finished.append(time.monotonic() - start)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(finished) >= 0.29


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="min_interval_s"):
        DomainRateLimiter(-1)
