"""Headless Chromium against the local site: Medium stories and a LinkedIn-like signed-in feed."""

import pytest

from llm_engineering.application.crawlers.linkedin import LinkedInCrawler
from llm_engineering.application.crawlers.medium import MediumCrawler
from llm_engineering.domain.crawling import CrawlerOptions, Credentials
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.infrastructure.web.browser import ChromiumBrowserLauncher
from llm_engineering.infrastructure.web.factory import build_fetcher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from tests.fixture_site import (
    DISALLOWED_PATH,
    LINKEDIN_LOGIN_PATH,
    LINKEDIN_PASSWORD,
    LINKEDIN_POST_COUNT,
    LINKEDIN_PROFILE_PATH,
    LINKEDIN_USERNAME,
    MEDIUM_CODE,
    MEDIUM_PATH,
    FixtureSite,
)

pytestmark = pytest.mark.slow
MAYA = UserDocument.from_full_name("Maya Okafor")


def make_browser(*, allow_private_networks: bool = True, wait_s: float = 15.0) -> ChromiumBrowserLauncher:
    guard = NetworkGuard(allow_private_networks=allow_private_networks)
    rate_limiter = DomainRateLimiter(0)
    robots = build_fetcher(CrawlerOptions(timeout_s=2.0), guard, rate_limiter).robots
    return ChromiumBrowserLauncher(
        guard=guard,
        rate_limiter=rate_limiter,
        robots=robots,
        page_load_timeout_s=wait_s,
        scroll_wait_s=1.0,
        max_bytes=CrawlerOptions().max_page_bytes,
    )


def test_a_medium_story_is_rendered_and_extracted(fixture_site: FixtureSite) -> None:
    [document] = MediumCrawler(make_browser()).crawl(fixture_site.url(MEDIUM_PATH), MAYA)
    assert document.platform == "medium"
    assert document.link == fixture_site.url(MEDIUM_PATH)
    assert document.content["title"] == "Point-in-time joins leaked the future"
    body = document.content["content"]
    assert f"```python\n{MEDIUM_CODE}\n```" in body
    # Written into the story by the page's script: only a real browser sees it.
    assert body.endswith("Thanks to the on-call team, who found the leak before I did.")
    for chrome in ("Sign up to discover", "More from Maya Okafor", "Recommended from Medium", "Careers", "Listen"):
        assert chrome not in body
    assert any("HeadlessChrome" in agent and "LLMTwinCrawler/0.1" in agent for agent in fixture_site.user_agents())


def test_linkedin_posts_are_read_after_signing_in_and_scrolling(fixture_site: FixtureSite) -> None:
    crawler = LinkedInCrawler(
        make_browser(),
        Credentials(LINKEDIN_USERNAME, LINKEDIN_PASSWORD),
        login_url=fixture_site.url(LINKEDIN_LOGIN_PATH),
        scrolls=3,
    )
    posts = crawler.crawl(fixture_site.url(LINKEDIN_PROFILE_PATH), MAYA)
    # Two posts come with the page, two more only after scrolling to the bottom.
    assert len(posts) == LINKEDIN_POST_COUNT
    assert {post.platform for post in posts} == {"linkedin"}
    assert posts[0].link == fixture_site.url("/feed/update/urn:li:activity:7290114862035712001")
    assert posts[0].content["text"].startswith("Our drift alerts fired 212 times last quarter.")
    assert posts[1].image == fixture_site.url("/linkedin/media/gpu-spend-breakdown.jpg")
    assert posts[3].content == {
        "text": "Six weeks of leaking the future: the post-mortem is up. The fix was a join, not a model."
    }


def test_a_wrong_password_fails_the_link_with_what_to_check(fixture_site: FixtureSite) -> None:
    crawler = LinkedInCrawler(
        make_browser(),
        Credentials(LINKEDIN_USERNAME, "wrong"),
        login_url=fixture_site.url(LINKEDIN_LOGIN_PATH),
        scrolls=0,
    )
    with pytest.raises(CrawlError, match=r"sign-in failed .* check LINKEDIN_USERNAME and LINKEDIN_PASSWORD"):
        crawler.crawl(fixture_site.url(LINKEDIN_PROFILE_PATH), MAYA)


def test_the_browser_obeys_robots_and_the_network_guard(fixture_site: FixtureSite) -> None:
    with pytest.raises(LinkRefusedError, match=r"robots\.txt"):
        MediumCrawler(make_browser()).crawl(fixture_site.url(DISALLOWED_PATH), MAYA)
    with pytest.raises(LinkRefusedError, match="CRAWLER_ALLOW_PRIVATE_NETWORKS"):
        MediumCrawler(make_browser(allow_private_networks=False)).crawl(fixture_site.url(MEDIUM_PATH), MAYA)
    assert fixture_site.hits(DISALLOWED_PATH) == fixture_site.hits(MEDIUM_PATH) == 0


def test_a_page_that_is_not_a_story_fails_with_the_reason(fixture_site: FixtureSite) -> None:
    with pytest.raises(CrawlError, match="showed no 'article' within 2s"):
        MediumCrawler(make_browser(wait_s=2.0)).crawl(fixture_site.url(LINKEDIN_LOGIN_PATH), MAYA)
