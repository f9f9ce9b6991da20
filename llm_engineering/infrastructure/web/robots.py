"""robots.txt, fetched once per origin and obeyed as RFC 9309 reads it.

protego parses it: `*` and `$` wildcards, the longest matching rule wins, Allow on a tie.
"""

import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from loguru import logger
from protego import Protego

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError

# GET a robots.txt URL: (HTTP status, body). Raises CrawlError when the server cannot be reached.
RobotsSource = Callable[[str], tuple[int, str]]

DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


def robots_rules(status: int, text: str) -> Protego:
    """The rules a robots.txt response sets (RFC 9309 §2.3.1).

    Its text when 2xx; no rule when it is unavailable (4xx); everything disallowed when the server failed (5xx),
    since the crawler cannot know what it may fetch.
    """
    if 200 <= status < 300:
        return Protego.parse(text)
    if 400 <= status < 500:
        return Protego.parse("")
    return Protego.parse(DISALLOW_ALL)


class RobotsPolicy:
    """Answers whether the crawler may fetch a URL, per the robots.txt of the URL's origin."""

    def __init__(self, source: RobotsSource, user_agent: str) -> None:
        self._source = source
        self._user_agent = user_agent
        self._rules: dict[str, Protego] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise LinkRefusedError when robots.txt disallows url for this crawler."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if not self._rules_for(origin).can_fetch(url, self._user_agent):
            raise LinkRefusedError(
                f"robots.txt of {origin} disallows {parts.path or '/'} for this crawler; "
                "remove the link, or ask the site owner (respect_robots=False only for sites you own)"
            )

    def _rules_for(self, origin: str) -> Protego:
        with self._lock:
            rules = self._rules.get(origin)
            if rules is None:
                rules = self._rules[origin] = self._load(origin)
            return rules

    def _load(self, origin: str) -> Protego:
        try:
            status, text = self._source(origin + "/robots.txt")
        except CrawlError as error:
            # RFC 9309: an unreachable robots.txt means the whole site is disallowed.
            logger.warning("robots.txt of {} is unreachable ({}); treating the site as disallowed.", origin, error)
            return Protego.parse(DISALLOW_ALL)
        if status >= 500:
            logger.warning("robots.txt of {} answered {}; treating the site as disallowed.", origin, status)
        return robots_rules(status, text)
