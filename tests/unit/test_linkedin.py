import pytest

from llm_engineering.application.crawlers.linkedin import LinkedInCrawler, activity_page, extract_linkedin_posts
from llm_engineering.domain.crawling import CrawlerOptions
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import CrawlError
from llm_engineering.infrastructure.web.browser import ChromiumBrowserLauncher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from tests.fixture_site import ACTIVITY_PAGE, LINKEDIN_MORE_POSTS

PAGE_URL = "https://www.linkedin.com/in/maya-okafor/recent-activity/all/"


def test_each_post_with_text_becomes_one_post_in_page_order() -> None:
    posts = extract_linkedin_posts(ACTIVITY_PAGE.replace("</main>", "".join(LINKEDIN_MORE_POSTS) + "</main>"), PAGE_URL)
    assert [post.link for post in posts] == [
        "https://www.linkedin.com/feed/update/urn:li:activity:7290114862035712001",
        "https://www.linkedin.com/feed/update/urn:li:activity:7335529017664348160",
        "https://www.linkedin.com/feed/update/urn:li:activity:7216830457129881600",
        "https://www.linkedin.com/feed/update/urn:li:activity:7165948203716554752",
    ]
    assert posts[0].text == (
        "Our drift alerts fired 212 times last quarter. Eleven of them mattered.\n\n"
        "We now give every monitor an alert budget: if it cries wolf twice in a month, it gets retuned or deleted.\n\n"
        "#mlops"
    )
    assert posts[0].image is None
    assert posts[1].image == "https://www.linkedin.com/linkedin/media/gpu-spend-breakdown.jpg"


def test_reshared_originals_see_more_toggles_and_actor_names_stay_out() -> None:
    texts = " ".join(post.text for post in extract_linkedin_posts(ACTIVITY_PAGE, PAGE_URL))
    for chrome in ("The original post being shared", "see more", "View Maya Okafor", "14 comments", "Repost"):
        assert chrome not in texts


@pytest.mark.parametrize(
    ("profile", "feed"),
    [
        ("https://www.linkedin.com/in/maya-okafor", "https://www.linkedin.com/in/maya-okafor/recent-activity/all/"),
        (
            "https://www.linkedin.com/in/maya-okafor/recent-activity/shares",
            "https://www.linkedin.com/in/maya-okafor/recent-activity/all/",
        ),
        ("http://127.0.0.1:8000/linkedin/in/maya", "http://127.0.0.1:8000/linkedin/in/maya/recent-activity/all/"),
    ],
)
def test_profile_links_lead_to_the_activity_feed(profile: str, feed: str) -> None:
    assert activity_page(profile) == feed


def test_a_link_that_is_not_a_profile_is_refused() -> None:
    with pytest.raises(CrawlError, match="not a LinkedIn profile link"):
        activity_page("https://www.linkedin.com/company/acme")


def test_without_credentials_the_link_fails_with_what_to_set() -> None:
    guard = NetworkGuard(allow_private_networks=False)
    options = CrawlerOptions()
    browser = ChromiumBrowserLauncher(
        guard=guard,
        rate_limiter=DomainRateLimiter(0),
        robots=None,
        page_load_timeout_s=options.page_load_timeout_s,
        scroll_wait_s=options.scroll_wait_s,
        max_bytes=options.max_page_bytes,
    )
    crawler = LinkedInCrawler(browser, None, login_url=options.linkedin_login_url, scrolls=options.linkedin_scrolls)
    with pytest.raises(CrawlError, match="LINKEDIN_USERNAME and LINKEDIN_PASSWORD"):
        crawler.crawl("https://www.linkedin.com/in/maya-okafor", UserDocument.from_full_name("Maya Okafor"))
