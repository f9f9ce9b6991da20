"""The httpx fetcher against a real local web site: manners, limits and the SSRF guard."""

import time

import pytest

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.infrastructure.web.http_fetcher import USER_AGENT, HttpxWebFetcher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from tests.crawl_site import (
    BLOG,
    DISALLOWED_PATH,
    FLAKY_PATH,
    HUGE_PATH,
    PDF_PATH,
    REDIRECT_LOOP_PATH,
    REDIRECT_PATH,
    REDIRECT_TO_FILE_PATH,
    SLOW_PATH,
    SLOW_SECONDS,
    CrawlSite,
)


def make_fetcher(
    *,
    allow_private_networks: bool = True,
    respect_robots: bool = True,
    max_bytes: int = 1024 * 1024,
    rate_limiter: DomainRateLimiter | None = None,
) -> HttpxWebFetcher:
    return HttpxWebFetcher(
        guard=NetworkGuard(allow_private_networks=allow_private_networks),
        rate_limiter=rate_limiter or DomainRateLimiter(0),
        timeout_s=0.5,
        max_retries=1,
        backoff_s=0.05,
        max_bytes=max_bytes,
        respect_robots=respect_robots,
    )


def test_an_html_page_is_fetched_with_the_project_user_agent(crawl_site: CrawlSite) -> None:
    page = make_fetcher().fetch(crawl_site.url(BLOG.path))
    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.final_url == page.url == crawl_site.url(BLOG.path)
    assert "<title>Your Notebook Is Not a Pipeline · Theo Brandt</title>" in page.text
    assert set(crawl_site.user_agents()) == {USER_AGENT}
    assert USER_AGENT.startswith("LLMTwinCrawler/")


def test_redirects_are_followed_and_the_final_url_reported(crawl_site: CrawlSite) -> None:
    page = make_fetcher().fetch(crawl_site.url(REDIRECT_PATH))
    assert page.url == crawl_site.url(REDIRECT_PATH)
    assert page.final_url == crawl_site.url(BLOG.path)


def test_every_redirect_hop_passes_the_guard(crawl_site: CrawlSite) -> None:
    with pytest.raises(LinkRefusedError, match="file:///etc/passwd: only http and https links are crawled"):
        make_fetcher().fetch(crawl_site.url(REDIRECT_TO_FILE_PATH))


def test_a_redirect_loop_ends_with_the_reason(crawl_site: CrawlSite) -> None:
    with pytest.raises(CrawlError, match="redirects more than 5 times"):
        make_fetcher().fetch(crawl_site.url(REDIRECT_LOOP_PATH))
    assert crawl_site.hits(REDIRECT_LOOP_PATH) == 6


def test_a_missing_page_fails_with_its_status(crawl_site: CrawlSite) -> None:
    with pytest.raises(CrawlError, match=r"HTTP 404 .*check the link"):
        make_fetcher().fetch(crawl_site.url("/blog/never-written"))


def test_a_503_is_retried_and_then_succeeds(crawl_site: CrawlSite) -> None:
    page = make_fetcher().fetch(crawl_site.url(FLAKY_PATH))
    assert page.status == 200
    assert crawl_site.hits(FLAKY_PATH) == 2


def test_a_slow_page_times_out_after_the_retries(crawl_site: CrawlSite) -> None:
    start = time.monotonic()
    with pytest.raises(CrawlError, match=r"no answer within 0.5s .* after 2 attempts"):
        make_fetcher().fetch(crawl_site.url(SLOW_PATH))
    assert time.monotonic() - start < SLOW_SECONDS
    assert crawl_site.hits(SLOW_PATH) == 2


def test_a_page_over_the_size_cap_is_refused_while_streaming(crawl_site: CrawlSite) -> None:
    with pytest.raises(CrawlError, match="larger than the 1048576-byte cap"):
        make_fetcher().fetch(crawl_site.url(HUGE_PATH))


def test_a_declared_length_over_the_cap_is_refused_before_reading(crawl_site: CrawlSite) -> None:
    with pytest.raises(CrawlError, match="over the 1000-byte cap"):
        make_fetcher(max_bytes=1000).fetch(crawl_site.url(BLOG.path))


def test_a_non_html_response_is_refused(crawl_site: CrawlSite) -> None:
    with pytest.raises(CrawlError, match="is application/pdf, not an HTML page"):
        make_fetcher().fetch(crawl_site.url(PDF_PATH))


def test_robots_txt_is_obeyed_and_fetched_once(crawl_site: CrawlSite) -> None:
    fetcher = make_fetcher()
    with pytest.raises(LinkRefusedError, match=r"robots\.txt of .* disallows /private/drafts/next-post"):
        fetcher.fetch(crawl_site.url(DISALLOWED_PATH))
    fetcher.fetch(crawl_site.url(BLOG.path))
    assert crawl_site.hits(DISALLOWED_PATH) == 0
    assert crawl_site.hits("/robots.txt") == 1


def test_robots_txt_can_be_ignored_for_sites_you_own(crawl_site: CrawlSite) -> None:
    assert make_fetcher(respect_robots=False).fetch(crawl_site.url(DISALLOWED_PATH)).status == 200


def test_private_addresses_are_refused_without_the_flag(crawl_site: CrawlSite) -> None:
    with pytest.raises(LinkRefusedError, match="loopback or link-local address"):
        make_fetcher(allow_private_networks=False).fetch(crawl_site.url(BLOG.path))
    assert crawl_site.user_agents() == []


def test_requests_to_one_domain_are_rate_limited(crawl_site: CrawlSite) -> None:
    fetcher = make_fetcher(rate_limiter=DomainRateLimiter(0.25), respect_robots=False)
    start = time.monotonic()
    for _ in range(3):
        fetcher.fetch(crawl_site.url(BLOG.path))
    assert time.monotonic() - start >= 0.5


def test_an_unreachable_server_fails_after_retries() -> None:
    fetcher = make_fetcher(respect_robots=False)
    with pytest.raises(CrawlError, match=r"connection failed .* after 2 attempts"):
        fetcher.fetch("http://127.0.0.1:9/")
