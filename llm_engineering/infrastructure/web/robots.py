"""robots.txt, fetched once per origin and obeyed (RFC 9309)."""

import threading
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from loguru import logger

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError

# GET a robots.txt URL: (HTTP status, body). Raises CrawlError when the server cannot be reached.
RobotsSource = Callable[[str], tuple[int, str]]


class RobotsPolicy:
    """Answers whether the crawler may fetch a URL, per the robots.txt of the URL's origin."""

    def __init__(self, source: RobotsSource, user_agent: str) -> None:
        self._source = source
        self._user_agent = user_agent
        self._parsers: dict[str, RobotFileParser] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise LinkRefusedError when robots.txt disallows url for this crawler."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser = self._parser_for(origin)
        if not parser.can_fetch(self._user_agent, url):
            raise LinkRefusedError(
                f"robots.txt of {origin} disallows {parts.path or '/'} for this crawler; "
                "remove the link, or ask the site owner (respect_robots=False only for sites you own)"
            )

    def _parser_for(self, origin: str) -> RobotFileParser:
        with self._lock:
            parser = self._parsers.get(origin)
            if parser is None:
                parser = self._parsers[origin] = self._load(origin)
            return parser

    def _load(self, origin: str) -> RobotFileParser:
        parser = RobotFileParser(origin + "/robots.txt")
        try:
            status, text = self._source(origin + "/robots.txt")
        except CrawlError as error:
            # RFC 9309: an unreachable robots.txt means the whole site is disallowed.
            logger.warning("robots.txt of {} is unreachable ({}); treating the site as disallowed.", origin, error)
            parser.parse(["User-agent: *", "Disallow: /"])
            return parser
        # RFC 9309: a robots.txt that does not exist (4xx) places no restriction.
        parser.parse(text.splitlines() if 200 <= status < 300 else [])
        return parser
