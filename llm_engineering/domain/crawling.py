"""Crawling in the domain's terms: the ports the crawlers need (the web, a browser, git), kinds and options.

The crawler options are the single home of every crawler default. Adapters live in infrastructure/web/.
"""

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import Field

from llm_engineering.domain.config import RunConfig
from llm_engineering.domain.documents import Document, UserDocument


@dataclass(frozen=True)
class FetchedPage:
    """A page fetched over plain HTTP, after redirects, checked for type and size."""

    url: str
    final_url: str
    status: int
    content_type: str
    text: str


class WebFetcher(Protocol):
    """Fetches one HTML page; raises CrawlError with the reason when it cannot."""

    def fetch(self, url: str) -> FetchedPage:
        """The page at the URL with its final address after redirects; CrawlError when it cannot be fetched."""
        ...


@dataclass(frozen=True)
class RenderedPage:
    """The DOM of a page after a browser loaded it and ran its scripts."""

    url: str
    final_url: str
    html: str


@dataclass(frozen=True)
class LoginForm:
    """Where a site's sign-in form is and the CSS selectors of its fields."""

    url: str
    username_field: str
    password_field: str
    submit_button: str


@dataclass(frozen=True)
class Credentials:
    """A user name and password; the password stays out of reprs and logs."""

    username: str
    password: str = field(repr=False)


class BrowserSession(Protocol):
    """One browser with its own profile: cookies survive between calls until close()."""

    def render(self, url: str, *, wait_for: str | None = None, scrolls: int = 0) -> RenderedPage:
        """Load url, wait for the CSS selector wait_for, scroll to the bottom up to `scrolls` times."""
        ...

    def log_in(self, form: LoginForm, credentials: Credentials) -> RenderedPage:
        """Fill and submit the form; returns the page the site lands on afterwards."""
        ...

    def close(self) -> None:
        """End the session and quit the browser."""
        ...


class BrowserLauncher(Protocol):
    """Starts a fresh browser session (a new profile each time)."""

    def launch(self) -> BrowserSession:
        """A new browser session with a fresh profile."""
        ...


class RepositoryCloner(Protocol):
    """Checks out the latest commit of a repository into a temporary directory, removed on exit."""

    def clone(self, url: str) -> AbstractContextManager[Path]:
        """A context manager giving the checked-out repository's directory; it is removed on exit."""
        ...


class Crawler(Protocol):
    """Turns one normalised link into the author's documents; raises CrawlError with the reason on failure."""

    def crawl(self, link: str, author: UserDocument) -> Sequence[Document]:
        """The author's documents found at the link; CrawlError with the reason on failure."""
        ...


class CrawlerKind(StrEnum):
    """The crawlers a link can be routed to; the dispatcher registers each kind's domains explicitly."""

    MEDIUM = "medium"
    SUBSTACK = "substack"
    LINKEDIN = "linkedin"
    GITHUB = "github"
    ARTICLE = "article"


class CrawlerOptions(RunConfig):
    """The `crawler` section of an ETL config: tunables whose defaults are polite to real sites."""

    timeout_s: float = Field(default=15.0, gt=0, description="seconds per HTTP request")
    max_retries: int = Field(default=3, ge=0, description="retries of a timeout, dropped connection, 5xx or 429")
    backoff_s: float = Field(default=0.5, ge=0, description="first retry delay, doubled on each retry")
    min_domain_interval_s: float = Field(default=1.0, ge=0, description="least seconds between requests to a domain")
    max_page_bytes: int = Field(default=5 * 1024 * 1024, gt=0, description="size cap of one page")
    respect_robots: bool = Field(default=True, description="obey robots.txt")
    page_load_timeout_s: float = Field(default=30.0, gt=0, description="seconds a browser waits for a page")
    scroll_wait_s: float = Field(default=2.0, ge=0, description="seconds a browser waits after each scroll")
    linkedin_scrolls: int = Field(default=5, ge=0, description="scrolls of a LinkedIn activity feed")
    linkedin_login_url: str = "https://www.linkedin.com/login"
    git_timeout_s: float = Field(default=180.0, gt=0, description="seconds a git clone may take")
    max_file_bytes: int = Field(default=256 * 1024, gt=0, description="repository files larger than this are skipped")
    max_repository_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="text cap of one repository")
    medium_domains: tuple[str, ...] = Field(
        default=(), description='Medium publications on their own domains, e.g. ["towardsdatascience.com"]'
    )
    git_mirrors: dict[str, str] = Field(
        default_factory=dict,
        description="link prefix -> clone source, like git's insteadOf; {data_dir} is replaced by DATA_DIR",
    )
