"""Headless Chromium against the local site: Medium stories and a LinkedIn-like signed-in feed."""

import pytest

from llm_engineering.application.crawlers.linkedin import LinkedInCrawler
from llm_engineering.application.crawlers.medium import MediumCrawler
from llm_engineering.bootstrap.crawling import build_fetcher
from llm_engineering.domain.crawling import CrawlerOptions, Credentials
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.infrastructure.web.browser import ChromiumBrowserLauncher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from sample_site.pages import linkedin_login_page
from tests.crawl_site import (
    DISALLOWED_PATH,
    LINKEDIN_LOGIN_PATH,
    LINKEDIN_PASSWORD,
    LINKEDIN_POSTS,
    LINKEDIN_PROFILE_PATH,
    LINKEDIN_USERNAME,
    MEDIUM,
    CrawlSite,
    article_page,
    fenced_code,
    with_script_written_paragraph,
)

pytestmark = pytest.mark.slow
MAYA = UserDocument.from_full_name("Maya Okafor")
THEO = UserDocument.from_full_name("Theo Brandt")


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


def test_a_medium_story_is_rendered_and_extracted(crawl_site: CrawlSite) -> None:
    # Written into the story by the page's script: only a real browser sees it.
    tail = "Thanks to the on-call team, who found the leak before I did."
    crawl_site.set_page(MEDIUM.path, with_script_written_paragraph(article_page(MEDIUM), tail))
    [document] = MediumCrawler(make_browser()).crawl(crawl_site.url(MEDIUM.path), MAYA)
    assert document.platform == "medium"
    assert document.link == crawl_site.url(MEDIUM.path)
    assert document.content["title"] == MEDIUM.title
    assert document.content["subtitle"] == MEDIUM.subtitle
    body = document.content["content"]
    [(language, code)] = fenced_code(MEDIUM.markdown)
    assert f"```{language}\n{code}\n```" in body
    assert body.startswith("## The symptom\n\nOur churn model looked wonderful offline.")
    assert body.endswith(f"Improvements of that size are usually bugs wearing a nice shirt.\n\n{tail}")
    for chrome in ("Sign up to discover", "Written by Maya Okafor", "More from Maya Okafor", "Careers", "Listen"):
        assert chrome not in body
    assert any("HeadlessChrome" in agent and "LLMTwinCrawler/0.1" in agent for agent in crawl_site.user_agents())


def test_linkedin_posts_are_read_after_signing_in_and_scrolling(crawl_site: CrawlSite) -> None:
    crawler = LinkedInCrawler(
        make_browser(),
        Credentials(LINKEDIN_USERNAME, LINKEDIN_PASSWORD),
        login_url=crawl_site.url(LINKEDIN_LOGIN_PATH),
        scrolls=3,
    )
    posts = crawler.crawl(crawl_site.url(LINKEDIN_PROFILE_PATH), THEO)
    # Ten posts come with the page, the next fifteen only after scrolling to the bottom twice.
    assert len(posts) == len(LINKEDIN_POSTS) == 25
    assert {post.platform for post in posts} == {"linkedin"}
    assert [post.link for post in posts] == [crawl_site.url(post.path).rstrip("/") for post in LINKEDIN_POSTS]
    assert posts[0].content["text"].startswith("You don't need Kafka. You need a table with an updated_at column.")
    assert [post.image for post in posts] == [post.image for post in LINKEDIN_POSTS]
    assert posts[11].image == LINKEDIN_POSTS[11].image is not None
    assert posts[24].content == {"text": LINKEDIN_POSTS[24].text}


def test_a_sign_in_form_rendered_again_while_it_is_filled_is_filled_again(crawl_site: CrawlSite) -> None:
    # The form's script replaces it when the username field first gets focus, as single-page sign-ins re-render:
    # the field being typed into leaves the page.
    rerender = """<script>
document.getElementById('username').addEventListener('focus', () => {
  const form = document.querySelector('form');
  form.replaceWith(form.cloneNode(true));
}, {once: true});
</script></body>"""
    crawl_site.set_page(LINKEDIN_LOGIN_PATH, linkedin_login_page().replace("</body>", rerender))
    crawler = LinkedInCrawler(
        make_browser(),
        Credentials(LINKEDIN_USERNAME, LINKEDIN_PASSWORD),
        login_url=crawl_site.url(LINKEDIN_LOGIN_PATH),
        scrolls=0,
    )
    posts = crawler.crawl(crawl_site.url(LINKEDIN_PROFILE_PATH), THEO)
    assert [post.link for post in posts] == [crawl_site.url(post.path).rstrip("/") for post in LINKEDIN_POSTS[:10]]


def test_a_refused_sign_in_fails_the_link_with_what_to_check(crawl_site: CrawlSite) -> None:
    # The sample site refuses a sign-in without a password, and shows the form again with an alert.
    crawler = LinkedInCrawler(
        make_browser(),
        Credentials(LINKEDIN_USERNAME, ""),
        login_url=crawl_site.url(LINKEDIN_LOGIN_PATH),
        scrolls=0,
    )
    with pytest.raises(CrawlError, match=r"sign-in failed .* check LINKEDIN_USERNAME and LINKEDIN_PASSWORD"):
        crawler.crawl(crawl_site.url(LINKEDIN_PROFILE_PATH), THEO)


def test_the_browser_obeys_robots_and_the_network_guard(crawl_site: CrawlSite) -> None:
    with pytest.raises(LinkRefusedError, match=r"robots\.txt"):
        MediumCrawler(make_browser()).crawl(crawl_site.url(DISALLOWED_PATH), MAYA)
    with pytest.raises(LinkRefusedError, match="CRAWLER_ALLOW_PRIVATE_NETWORKS"):
        MediumCrawler(make_browser(allow_private_networks=False)).crawl(crawl_site.url(MEDIUM.path), MAYA)
    assert crawl_site.hits(DISALLOWED_PATH) == crawl_site.hits(MEDIUM.path) == 0


def test_a_page_that_is_not_a_story_fails_with_the_reason(crawl_site: CrawlSite) -> None:
    with pytest.raises(CrawlError, match="showed no 'article' within 2s"):
        MediumCrawler(make_browser(wait_s=2.0)).crawl(crawl_site.url(LINKEDIN_LOGIN_PATH), MAYA)
