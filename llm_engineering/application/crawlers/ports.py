"""Ports of the crawlers: the web, a browser and git. Adapters live in infrastructure/web/."""

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


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

    def fetch(self, url: str) -> FetchedPage: ...


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

    def close(self) -> None: ...


class BrowserLauncher(Protocol):
    """Starts a fresh browser session (a new profile each time)."""

    def launch(self) -> BrowserSession: ...


class RepositoryCloner(Protocol):
    """Checks out the latest commit of a repository into a temporary directory, removed on exit."""

    def clone(self, url: str) -> AbstractContextManager[Path]: ...
