"""Plain-HTTP fetching with manners.

Timeouts, retries with backoff, per-domain rate limit, robots.txt, size and content-type checks, and the SSRF
guard on every redirect hop.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from llm_engineering.domain.crawling import FetchedPage
from llm_engineering.domain.exceptions import CrawlError
from llm_engineering.infrastructure.retrying import RetryPolicy, retry_after_seconds, transient_retrying
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from llm_engineering.infrastructure.web.robots import RobotsPolicy

USER_AGENT = "LLMTwinCrawler/0.1 (+https://github.com/llm-twin/llm-twin)"
HTML_CONTENT_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_MAX_BYTES = 512 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _TransientError(Exception):
    """A failure worth retrying: a timeout, a dropped connection, 5xx or 429."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    content_type: str
    location: str | None
    text: str


class HttpxWebFetcher:
    """The WebFetcher port over httpx. Thread-safe; one instance serves a whole crawl run."""

    def __init__(
        self,
        *,
        guard: NetworkGuard,
        rate_limiter: DomainRateLimiter,
        user_agent: str = USER_AGENT,
        timeout_s: float,
        max_retries: int,
        backoff_s: float,
        max_bytes: int,
        respect_robots: bool,
        total_timeout_s: float = 60.0,
        max_backoff_s: float = 30.0,
        max_redirects: int = 5,
        content_types: tuple[str, ...] = HTML_CONTENT_TYPES,
    ) -> None:
        self._guard = guard
        self._rate_limiter = rate_limiter
        self._timeout_s = timeout_s
        self._total_timeout_s = total_timeout_s
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._content_types = content_types
        # No proxies from the environment: the guard checks the address the request really goes to.
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"},
        )
        self.robots = RobotsPolicy(self._get_robots, user_agent) if respect_robots else None

    def fetch(self, url: str) -> FetchedPage:
        """The HTML page at url after redirects; raises CrawlError with the reason when it cannot."""
        content_types, max_bytes = self._content_types, self._max_bytes
        response = self._with_retries(
            url, lambda: self._follow(url, obey_robots=True, content_types=content_types, max_bytes=max_bytes)
        )
        if not 200 <= response.status < 300:
            hint = " (the page does not exist: check the link)" if response.status in {404, 410} else ""
            raise CrawlError(f"HTTP {response.status} from {response.url}{hint}")
        return FetchedPage(
            url=url,
            final_url=response.url,
            status=response.status,
            content_type=response.content_type,
            text=response.text,
        )

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self._client.close()

    def _get_robots(self, url: str) -> tuple[int, str]:
        response = self._with_retries(
            url, lambda: self._follow(url, obey_robots=False, content_types=(), max_bytes=ROBOTS_MAX_BYTES)
        )
        return response.status, response.text

    def _with_retries(self, url: str, call: Callable[[], _Response]) -> _Response:
        retrying = transient_retrying(
            RetryPolicy(self._max_retries, self._backoff_s, self._max_backoff_s),
            is_transient=lambda error: isinstance(error, _TransientError),
            describe=lambda error: error.reason if isinstance(error, _TransientError) else str(error),
            retry_after=lambda error: error.retry_after if isinstance(error, _TransientError) else None,
            what=f"GET {url}",
        )
        try:
            return retrying(call)
        except _TransientError as error:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise CrawlError(
                f"{error.reason} from {url} after {attempts} attempts; the site is down or too slow, try again later"
            ) from error

    def _follow(self, url: str, *, obey_robots: bool, content_types: tuple[str, ...], max_bytes: int) -> _Response:
        current = url
        for _ in range(self._max_redirects + 1):
            # The guard comes first: not even robots.txt is requested from a refused address.
            addresses = self._guard.resolve(current)
            if obey_robots and self.robots is not None:
                self.robots.check(current)
            response = self._request(current, addresses, content_types, max_bytes)
            if response.location is None:
                return response
            current = urljoin(current, response.location).split("#", 1)[0]
        raise CrawlError(f"{url} redirects more than {self._max_redirects} times")

    def _request(self, url: str, addresses: list[str], content_types: tuple[str, ...], max_bytes: int) -> _Response:
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")
        self._rate_limiter.wait(host)
        try:
            response = self._connect(target, host, addresses)
            try:
                return self._read(url, response, content_types, max_bytes)
            finally:
                response.close()
        except httpx.TimeoutException as error:
            raise _TransientError(f"no answer within {self._timeout_s:g}s") from error
        except httpx.DecodingError as error:
            raise CrawlError(f"{url} sent a body that cannot be decoded ({error})") from error
        except httpx.TransportError as error:
            raise _TransientError(f"connection failed ({error})") from error

    def _connect(self, target: httpx.URL, host: str, addresses: list[str]) -> httpx.Response:
        """Send the request to the first checked address that accepts a connection."""
        for address in addresses[:-1]:
            try:
                return self._send(target, host, address)
            except httpx.ConnectError:
                continue
        return self._send(target, host, addresses[-1])

    def _send(self, target: httpx.URL, host: str, address: str) -> httpx.Response:
        # Connect to an address the guard checked (no second DNS lookup that a rebinding server could answer);
        # the Host header and the TLS server name still carry the real host name.
        request = self._client.build_request(
            "GET",
            target.copy_with(host=address),
            headers={"Host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": host} if target.scheme == "https" else {},
        )
        return self._client.send(request, stream=True)

    def _read(self, url: str, response: httpx.Response, content_types: tuple[str, ...], max_bytes: int) -> _Response:
        status = response.status_code
        if status in REDIRECTS and "location" in response.headers:
            return _Response(url, status, "", response.headers["location"], "")
        if status == 429 or status >= 500:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            raise _TransientError(f"HTTP {status} {response.reason_phrase}", retry_after)
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not 200 <= status < 300:
            return _Response(url, status, content_type, None, "")
        if content_types and content_type not in content_types:
            raise CrawlError(
                f"{url} is {content_type or 'of no declared type'}, not an HTML page; only article pages are crawled"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise CrawlError(f"{url} is {declared} bytes, over the {max_bytes}-byte cap; raise max_page_bytes")
        body = bytearray()
        deadline = time.monotonic() + self._total_timeout_s
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise CrawlError(f"{url} is larger than the {max_bytes}-byte cap; raise max_page_bytes to crawl it")
            if time.monotonic() > deadline:
                raise _TransientError(f"download took longer than {self._total_timeout_s:g}s")
        try:
            text = bytes(body).decode(response.charset_encoding or "utf-8", errors="replace")
        except LookupError:
            text = bytes(body).decode("utf-8", errors="replace")
        return _Response(url, status, content_type, None, text)
