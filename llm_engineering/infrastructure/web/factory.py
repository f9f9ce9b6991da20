"""Wires the crawlers to their real adapters from Settings: the one place a crawl run's dispatcher is built."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from llm_engineering.application.crawlers.article import ArticleCrawler
from llm_engineering.application.crawlers.dispatcher import CrawlerDispatcher
from llm_engineering.application.crawlers.linkedin import LINKEDIN_LOGIN_URL, LinkedInCrawler
from llm_engineering.application.crawlers.medium import MediumCrawler
from llm_engineering.application.crawlers.ports import Credentials
from llm_engineering.application.crawlers.repository import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_REPOSITORY_BYTES,
    RepositoryCrawler,
)
from llm_engineering.infrastructure.web.browser import ChromiumBrowserLauncher
from llm_engineering.infrastructure.web.git_cloner import DEFAULT_GIT_TIMEOUT_S, GitRepositoryCloner
from llm_engineering.infrastructure.web.http_fetcher import DEFAULT_MAX_PAGE_BYTES, HttpxWebFetcher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from llm_engineering.settings import Settings

MEDIUM_DOMAINS = ("medium.com",)
SUBSTACK_DOMAINS = ("substack.com",)
LINKEDIN_DOMAINS = ("linkedin.com",)
GITHUB_DOMAINS = ("github.com",)


@dataclass(frozen=True)
class CrawlerOptions:
    """Crawler tunables; the defaults are polite to real sites."""

    timeout_s: float = 15.0
    max_retries: int = 3
    backoff_s: float = 0.5
    min_domain_interval_s: float = 1.0
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES
    respect_robots: bool = True
    page_load_timeout_s: float = 30.0
    scroll_wait_s: float = 2.0
    linkedin_scrolls: int = 5
    linkedin_login_url: str = LINKEDIN_LOGIN_URL
    git_timeout_s: float = DEFAULT_GIT_TIMEOUT_S
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_repository_bytes: int = DEFAULT_MAX_REPOSITORY_BYTES
    # Medium publications on their own domains, e.g. ("towardsdatascience.com",).
    medium_domains: tuple[str, ...] = ()
    # Link prefix -> clone source, like git's url.<base>.insteadOf (file:// needs private networks allowed).
    git_mirrors: Mapping[str, str] = field(default_factory=dict)


def build_crawler_dispatcher(settings: Settings, options: CrawlerOptions | None = None) -> CrawlerDispatcher:
    """The dispatcher of a crawl run: Medium, Substack, LinkedIn and GitHub crawlers, any other site as an article."""
    options = options or CrawlerOptions()
    guard = NetworkGuard(allow_private_networks=settings.CRAWLER_ALLOW_PRIVATE_NETWORKS)
    rate_limiter = DomainRateLimiter(options.min_domain_interval_s)
    fetcher = HttpxWebFetcher(
        guard=guard,
        rate_limiter=rate_limiter,
        timeout_s=options.timeout_s,
        max_retries=options.max_retries,
        backoff_s=options.backoff_s,
        max_bytes=options.max_page_bytes,
        respect_robots=options.respect_robots,
    )
    browser = ChromiumBrowserLauncher(
        guard=guard,
        rate_limiter=rate_limiter,
        robots=fetcher.robots,
        page_load_timeout_s=options.page_load_timeout_s,
        scroll_wait_s=options.scroll_wait_s,
        max_bytes=options.max_page_bytes,
    )
    cloner = GitRepositoryCloner(guard=guard, timeout_s=options.git_timeout_s, mirrors=options.git_mirrors)
    credentials = (
        Credentials(settings.LINKEDIN_USERNAME, settings.LINKEDIN_PASSWORD.get_secret_value())
        if settings.LINKEDIN_USERNAME and settings.LINKEDIN_PASSWORD is not None
        else None
    )
    dispatcher = CrawlerDispatcher(fallback=ArticleCrawler(fetcher, platform="blog"))
    medium = MediumCrawler(browser)
    for domain in (*MEDIUM_DOMAINS, *options.medium_domains):
        dispatcher.register(domain, medium)
    substack = ArticleCrawler(fetcher, platform="substack")
    for domain in SUBSTACK_DOMAINS:
        dispatcher.register(domain, substack)
    linkedin = LinkedInCrawler(
        browser, credentials, login_url=options.linkedin_login_url, scrolls=options.linkedin_scrolls
    )
    for domain in LINKEDIN_DOMAINS:
        dispatcher.register(domain, linkedin)
    github = RepositoryCrawler(
        cloner,
        platform="github",
        max_file_bytes=options.max_file_bytes,
        max_repository_bytes=options.max_repository_bytes,
    )
    for domain in GITHUB_DOMAINS:
        dispatcher.register(domain, github)
    return dispatcher


# A link each crawler kind is registered for, so a config can route any other domain to the same crawler.
CRAWLER_KIND_EXAMPLES = {
    "medium": "https://medium.com/@author/story",
    "substack": "https://author.substack.com/p/story",
    "linkedin": "https://www.linkedin.com/in/author/",
    "github": "https://github.com/author/repository",
    "article": "https://example.org/article",
}


def register_routes(dispatcher: CrawlerDispatcher, routes: Mapping[str, str]) -> CrawlerDispatcher:
    """Route extra "domain[:port][/path]" patterns to a crawler kind (medium, substack, linkedin, github, article)."""
    for pattern, kind in routes.items():
        example = CRAWLER_KIND_EXAMPLES.get(kind)
        if example is None:
            raise ValueError(
                f"routes[{pattern!r}] = {kind!r}: the crawler kind must be one of {sorted(CRAWLER_KIND_EXAMPLES)}"
            )
        dispatcher.register(pattern, dispatcher.crawler_for(example))
    return dispatcher
