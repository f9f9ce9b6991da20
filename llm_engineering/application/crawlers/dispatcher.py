"""Chooses the crawler for a link by its domain (and optionally port and path prefix)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from llm_engineering.domain.crawling import Crawler
from llm_engineering.domain.documents import Document, UserDocument
from llm_engineering.domain.links import link_host, link_port


@dataclass(frozen=True)
class _Route:
    host: str
    port: int | None
    path_prefix: str

    @classmethod
    def parse(cls, pattern: str) -> "_Route":
        parts = urlsplit("//" + pattern.strip().lower())
        try:
            port = parts.port
        except ValueError as error:
            raise ValueError(f"crawler pattern {pattern!r} has an invalid port: {error}") from error
        if not parts.hostname:
            raise ValueError(f"crawler pattern {pattern!r} names no host; write it as host[:port][/path]")
        return cls(host=parts.hostname, port=port, path_prefix=parts.path.rstrip("/"))

    def matches(self, host: str, port: int, path: str) -> bool:
        if host != self.host and not host.endswith("." + self.host):
            return False
        if self.port is not None and port != self.port:
            return False
        return not self.path_prefix or path == self.path_prefix or path.startswith(self.path_prefix + "/")

    @property
    def specificity(self) -> tuple[int, int, int]:
        # The most specific route wins: a longer domain, then a pinned port, then a longer path prefix.
        return (self.host.count(".") + 1, self.port is not None, len(self.path_prefix))


class CrawlerDispatcher:
    """A registry of crawlers keyed by domain; links of unregistered domains go to the fallback crawler."""

    def __init__(self, fallback: Crawler) -> None:
        self._fallback = fallback
        self._routes: dict[_Route, Crawler] = {}

    def register(self, pattern: str, crawler: Crawler) -> "CrawlerDispatcher":
        """Route links matching "domain[:port][/path-prefix]" to crawler; a domain covers its subdomains."""
        self._routes[_Route.parse(pattern)] = crawler
        return self

    def crawler_for(self, link: str) -> Crawler:
        """The crawler of the most specific registered pattern that matches the normalised link."""
        host, port, path = link_host(link), link_port(link), urlsplit(link).path
        matching = [route for route in self._routes if route.matches(host, port, path)]
        if not matching:
            return self._fallback
        return self._routes[max(matching, key=lambda route: route.specificity)]

    def crawl(self, link: str, author: UserDocument) -> list[Document]:
        """Crawl a normalised link with the crawler registered for it."""
        return list(self.crawler_for(link).crawl(link, author))
