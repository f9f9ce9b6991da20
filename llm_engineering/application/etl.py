"""Digital data ETL: crawl an author's links into the data warehouse, idempotently, with an outcome per link."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from loguru import logger
from tqdm import tqdm

from llm_engineering.application.crawlers.dispatcher import CrawlerDispatcher
from llm_engineering.domain.documents import Document, UserDocument
from llm_engineering.domain.exceptions import CrawlError, CrawlFailuresExceededError, InvalidLinkError
from llm_engineering.domain.links import link_host, normalise_link
from llm_engineering.domain.ports import DocumentRepository, WriteOutcome

DEFAULT_MAX_FAILURE_FRACTION = 0.5
INVALID_DOMAIN = "(invalid link)"


class LinkOutcome(StrEnum):
    """What a crawl run did with one link."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class LinkResult:
    """The outcome of one link; `documents` counts its documents per write outcome (a profile yields many)."""

    link: str
    domain: str
    outcome: LinkOutcome
    documents: dict[str, int] = field(default_factory=dict)
    reason: str = ""

    @property
    def status(self) -> str:
        """The outcome as the table shows it: created, updated, unchanged, or failed: <reason>."""
        return f"failed: {self.reason}" if self.outcome is LinkOutcome.FAILED else self.outcome.value

    @property
    def document_count(self) -> int:
        """How many documents the link yielded."""
        return sum(self.documents.values())


@dataclass
class EtlReport:
    """Every link of a run with its outcome; counts per outcome and per domain; the failure threshold check."""

    user_full_name: str
    results: list[LinkResult] = field(default_factory=list)
    max_failure_fraction: float = DEFAULT_MAX_FAILURE_FRACTION

    @property
    def failures(self) -> list[LinkResult]:
        """The links that failed, with their reasons."""
        return [result for result in self.results if result.outcome is LinkOutcome.FAILED]

    def counts(self) -> dict[str, int]:
        """Links per outcome, every outcome present."""
        found = Counter(result.outcome.value for result in self.results)
        return {outcome.value: found[outcome.value] for outcome in LinkOutcome}

    def document_counts(self) -> dict[str, int]:
        """Documents per write outcome over all links."""
        found: Counter[str] = Counter()
        for result in self.results:
            found.update(result.documents)
        return {outcome.value: found[outcome.value] for outcome in WriteOutcome}

    def per_domain(self) -> dict[str, dict[str, int]]:
        """Links per outcome for each domain, domains sorted."""
        table: dict[str, Counter[str]] = {}
        for result in self.results:
            table.setdefault(result.domain, Counter())[result.outcome.value] += 1
        return {
            domain: {outcome.value: found[outcome.value] for outcome in LinkOutcome}
            for domain, found in sorted(table.items())
        }

    def exceeds_failure_threshold(self) -> bool:
        """True when the failed links are more than max_failure_fraction of all links."""
        return len(self.failures) > self.max_failure_fraction * len(self.results)

    def check_failures(self) -> None:
        """Raise CrawlFailuresExceededError, listing the failed links, when too many failed."""
        if self.exceeds_failure_threshold():
            raise CrawlFailuresExceededError(
                [(result.link, result.reason) for result in self.failures], len(self.results), self.max_failure_fraction
            )

    def summary(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (for step metadata)."""
        return {
            "author": self.user_full_name,
            "links": len(self.results),
            "outcomes": self.counts(),
            "documents": self.document_counts(),
            "per_domain": self.per_domain(),
            "failed": {result.link: result.reason for result in self.failures},
        }

    def render_table(self) -> str:
        """A plain-text table: one row per link, then counts per domain and totals."""
        rows = [("link", "domain", "docs", "outcome")]
        rows += [(r.link, r.domain, str(r.document_count), r.status) for r in self.results]
        lines = _aligned(rows)
        domain_rows = [("domain", *(outcome.value for outcome in LinkOutcome))]
        domain_rows += [(domain, *map(str, found.values())) for domain, found in self.per_domain().items()]
        lines += ["", *_aligned(domain_rows), ""]
        links = ", ".join(f"{count} {outcome}" for outcome, count in self.counts().items())
        documents = ", ".join(f"{count} {outcome}" for outcome, count in self.document_counts().items())
        lines.append(f"{len(self.results)} links ({links}); documents: {documents}")
        return "\n".join(lines)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def crawl_links(
    user_full_name: str,
    links: Sequence[str],
    *,
    dispatcher: CrawlerDispatcher,
    repository: DocumentRepository,
    max_failure_fraction: float | None = None,
    progress: bool = True,
    max_workers: int = 1,
    max_per_domain: int = 2,
) -> EtlReport:
    """Crawl each link for the author and upsert what it yields; never raises for a failed link.

    Call `check_failures()` on the report to fail the run past the threshold (default: more than half failed).
    """
    fraction = DEFAULT_MAX_FAILURE_FRACTION if max_failure_fraction is None else max_failure_fraction
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"max_failure_fraction must be between 0 and 1, got {fraction}")
    if max_workers < 1 or max_per_domain < 1:
        raise ValueError(f"max_workers and max_per_domain must be at least 1, got {max_workers} and {max_per_domain}")
    author = repository.upsert_user(UserDocument.from_full_name(user_full_name))
    results: dict[str, LinkResult] = {}
    pending: dict[str, None] = {}
    for raw in links:
        try:
            pending.setdefault(normalise_link(raw), None)
        except InvalidLinkError as error:
            logger.warning("Rejected before crawling: {}", error)
            results[raw] = LinkResult(raw, INVALID_DOMAIN, LinkOutcome.FAILED, reason=str(error))
    order = [*results, *pending]

    def crawl(link: str) -> list[Document] | str:
        return _crawl_one(dispatcher, link, author)

    description = f"Crawling links of {author.full_name}"
    with tqdm(total=len(order), desc=description, unit="link", disable=not progress) as bar:
        bar.update(len(results))
        for link, crawled in _crawl_each(list(pending), crawl, max_workers, max_per_domain):
            results[link] = _store(link, crawled, repository)
            bar.update(1)
    report = EtlReport(author.full_name, [results[key] for key in order], fraction)
    logger.info("Crawled {} links of {}:\n{}", len(order), author.full_name, report.render_table())
    return report


def _crawl_one(dispatcher: CrawlerDispatcher, link: str, author: UserDocument) -> list[Document] | str:
    """The link's documents, or the reason it failed: one link's failure never stops the others."""
    try:
        documents = dispatcher.crawl(link, author)
    except CrawlError as error:
        logger.warning("Failed {}: {}", link, error)
        return str(error)
    except Exception as error:
        # An unexpected error is still one link's failure; the traceback goes to the log for a bug report.
        logger.exception("Unexpected error while crawling {}", link)
        return f"{type(error).__name__}: {error}"
    if not documents:
        return "the crawler found no document at this link"
    return documents


def _store(link: str, crawled: list[Document] | str, repository: DocumentRepository) -> LinkResult:
    domain = link_host(link)
    if isinstance(crawled, str):
        return LinkResult(link, domain, LinkOutcome.FAILED, reason=crawled)
    written = repository.upsert_documents(crawled)
    documents = dict(Counter(written[document.id].value for document in crawled))
    # A link's outcome is the strongest of its documents': any new document makes the link "created".
    for outcome in (LinkOutcome.CREATED, LinkOutcome.UPDATED):
        if documents.get(outcome.value):
            return LinkResult(link, domain, outcome, documents)
    return LinkResult(link, domain, LinkOutcome.UNCHANGED, documents)


def _crawl_each(
    links: list[str], crawl: Callable[[str], list[Document] | str], max_workers: int, max_per_domain: int
) -> Iterator[tuple[str, list[Document] | str]]:
    """(link, result) as each crawl finishes; at most max_per_domain crawls of one domain run at a time."""
    if max_workers == 1:
        for link in links:
            yield link, crawl(link)
        return
    limits = {link_host(link): threading.BoundedSemaphore(max_per_domain) for link in links}

    def bounded(link: str) -> list[Document] | str:
        with limits[link_host(link)]:
            return crawl(link)

    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="crawl")
    try:
        futures = {pool.submit(bounded, link): link for link in _interleaved_by_domain(links)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _interleaved_by_domain(links: list[str]) -> list[str]:
    # Round-robin over domains, so that workers are not all parked on one domain's limit.
    queues: dict[str, list[str]] = {}
    for link in links:
        queues.setdefault(link_host(link), []).append(link)
    interleaved: list[str] = []
    while queues:
        for host in list(queues):
            interleaved.append(queues[host].pop(0))
            if not queues[host]:
                del queues[host]
    return interleaved
