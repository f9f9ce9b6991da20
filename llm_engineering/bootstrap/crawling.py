"""Wires the crawlers to their real adapters from Settings: the one place a crawl run's dispatcher is built."""

from collections.abc import Mapping

from llm_engineering.application.crawlers.article import ArticleCrawler
from llm_engineering.application.crawlers.dispatcher import CrawlerDispatcher
from llm_engineering.application.crawlers.linkedin import LinkedInCrawler
from llm_engineering.application.crawlers.medium import MediumCrawler
from llm_engineering.application.crawlers.repository import RepositoryCrawler
from llm_engineering.domain.crawling import Crawler, CrawlerKind, CrawlerOptions, Credentials
from llm_engineering.infrastructure.web.browser import ChromiumBrowserLauncher
from llm_engineering.infrastructure.web.git_cloner import GitRepositoryCloner
from llm_engineering.infrastructure.web.http_fetcher import HttpxWebFetcher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from llm_engineering.settings import Settings

# The domains each crawler is registered for; a domain covers its subdomains. Other sites are articles.
DOMAINS: dict[CrawlerKind, tuple[str, ...]] = {
    CrawlerKind.MEDIUM: ("medium.com",),
    CrawlerKind.SUBSTACK: ("substack.com",),
    CrawlerKind.LINKEDIN: ("linkedin.com",),
    CrawlerKind.GITHUB: ("github.com",),
}


def build_fetcher(options: CrawlerOptions, guard: NetworkGuard, rate_limiter: DomainRateLimiter) -> HttpxWebFetcher:
    """The plain-HTTP fetcher with the options' timeouts, retries, size cap and robots policy."""
    return HttpxWebFetcher(
        guard=guard,
        rate_limiter=rate_limiter,
        timeout_s=options.timeout_s,
        max_retries=options.max_retries,
        backoff_s=options.backoff_s,
        max_bytes=options.max_page_bytes,
        respect_robots=options.respect_robots,
    )


def build_crawlers(settings: Settings, options: CrawlerOptions) -> dict[CrawlerKind, Crawler]:
    """One crawler per kind, sharing one network guard, rate limiter and robots cache."""
    guard = NetworkGuard(allow_private_networks=settings.CRAWLER_ALLOW_PRIVATE_NETWORKS)
    rate_limiter = DomainRateLimiter(options.min_domain_interval_s)
    fetcher = build_fetcher(options, guard, rate_limiter)
    browser = ChromiumBrowserLauncher(
        guard=guard,
        rate_limiter=rate_limiter,
        robots=fetcher.robots,
        page_load_timeout_s=options.page_load_timeout_s,
        scroll_wait_s=options.scroll_wait_s,
        max_bytes=options.max_page_bytes,
    )
    mirrors = {
        prefix: target.replace("{data_dir}", str(settings.data_dir)) for prefix, target in options.git_mirrors.items()
    }
    cloner = GitRepositoryCloner(guard=guard, timeout_s=options.git_timeout_s, mirrors=mirrors)
    credentials = (
        Credentials(settings.LINKEDIN_USERNAME, settings.LINKEDIN_PASSWORD.get_secret_value())
        if settings.LINKEDIN_USERNAME and settings.LINKEDIN_PASSWORD is not None
        else None
    )
    return {
        CrawlerKind.MEDIUM: MediumCrawler(browser, fallback=fetcher),
        CrawlerKind.SUBSTACK: ArticleCrawler(fetcher, platform="substack"),
        CrawlerKind.LINKEDIN: LinkedInCrawler(
            browser, credentials, login_url=options.linkedin_login_url, scrolls=options.linkedin_scrolls
        ),
        CrawlerKind.GITHUB: RepositoryCrawler(
            cloner,
            platform="github",
            max_file_bytes=options.max_file_bytes,
            max_repository_bytes=options.max_repository_bytes,
        ),
        CrawlerKind.ARTICLE: ArticleCrawler(fetcher, platform="blog"),
    }


def build_crawler_dispatcher(
    settings: Settings, options: CrawlerOptions | None = None, routes: Mapping[str, CrawlerKind] | None = None
) -> CrawlerDispatcher:
    """The dispatcher of a crawl run: each kind registered for its domains, plus the config's extra routes.

    `routes` maps "domain[:port][/path]" patterns to a crawler kind; `options.medium_domains` adds Medium
    publications on their own domains. {data_dir} in `options.git_mirrors` becomes the settings' DATA_DIR
    (not ${DATA_DIR}: ZenML substitutes that form from the environment, where DATA_DIR is usually unset).
    """
    options = options or CrawlerOptions()
    crawlers = build_crawlers(settings, options)
    dispatcher = CrawlerDispatcher(fallback=crawlers[CrawlerKind.ARTICLE])
    for kind, domains in DOMAINS.items():
        for domain in domains:
            dispatcher.register(domain, crawlers[kind])
    for domain in options.medium_domains:
        dispatcher.register(domain, crawlers[CrawlerKind.MEDIUM])
    for pattern, kind in (routes or {}).items():
        dispatcher.register(pattern, crawlers[kind])
    return dispatcher
