"""Why a link could not be crawled, and why a whole crawl run failed."""

from collections.abc import Sequence

from llm_engineering.domain.exceptions import LLMTwinError


class CrawlError(LLMTwinError):
    """One link could not be crawled; the message is the reason recorded for that link."""


class InvalidLinkError(CrawlError):
    """A link is malformed; it is rejected before any request is made."""


class LinkRefusedError(CrawlError):
    """Crawling the link is not allowed: a private address, robots.txt or an unsupported scheme."""


class CrawlFailuresExceededError(LLMTwinError):
    """More links failed than the run tolerates; the message lists each failed link and its reason."""

    def __init__(self, failures: Sequence[tuple[str, str]], total: int, max_failure_fraction: float) -> None:
        self.failures = list(failures)
        self.total = total
        self.max_failure_fraction = max_failure_fraction
        listing = "\n".join(f"  {link}: {reason}" for link, reason in self.failures)
        super().__init__(
            f"{len(self.failures)} of {total} links failed, more than the {max_failure_fraction:.0%} the run "
            f"tolerates (max_failure_fraction):\n{listing}\n"
            "Fix or remove these links, or raise max_failure_fraction to accept the failures."
        )
