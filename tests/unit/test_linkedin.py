import dataclasses

import pytest

from llm_engineering.application.crawlers.linkedin import LinkedInCrawler, activity_page, extract_linkedin_posts
from llm_engineering.domain.crawling import CrawlerOptions
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import CrawlError
from llm_engineering.infrastructure.web.browser import ChromiumBrowserLauncher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from sample_site.pages import batch_html, linkedin_activity_page, linkedin_post_html
from sample_site.server import POSTS_PER_BATCH
from tests.crawl_site import LINKEDIN_POSTS

PAGE_URL = "https://www.linkedin.com/in/theobrandt/recent-activity/all/"
# The sample site's activity page of a corpus author (data/sample): the first batch of posts comes with the page,
# the others load while scrolling.
FIRST_BATCH, MORE_POSTS = LINKEDIN_POSTS[:POSTS_PER_BATCH], LINKEDIN_POSTS[POSTS_PER_BATCH:]
ACTIVITY_PAGE = linkedin_activity_page("Theo Brandt", "theobrandt", batch_html(FIRST_BATCH, POSTS_PER_BATCH))
# What LinkedIn's feed has and the sample site's lacks: a reshared original nested inside a post.
RESHARED = (
    '<div class="feed-shared-update-v2__reshared" data-urn="urn:li:activity:7335000000000000001">'
    '<div class="update-components-text"><span class="break-words">The original post being shared.</span>'
    "</div></div>"
)


def test_each_post_with_text_becomes_one_post_in_page_order() -> None:
    more = batch_html(MORE_POSTS, -1)
    posts = extract_linkedin_posts(ACTIVITY_PAGE.replace("</main>", more + "</main>"), PAGE_URL)
    # Each post's own page, linked from its date, relative to the page.
    assert [post.link for post in posts] == [
        f"https://www.linkedin.com/linkedin/feed/update/urn:li:activity:{post.activity_id}" for post in LINKEDIN_POSTS
    ]
    assert [(post.text, post.image) for post in posts] == [(post.text, post.image) for post in LINKEDIN_POSTS]
    # Line breaks survive: the corpus text comes back exactly.
    assert posts[0].text.startswith("You don't need Kafka. You need a table with an updated_at column.\n\nI say this")
    assert "\n- Does anyone act on this data within seconds?\n- Is there more" in posts[0].text
    assert posts[0].image is None
    assert str(posts[11].image).startswith("https://media.licdn.com/dms/image/")


def test_reshared_originals_see_more_toggles_and_actor_names_stay_out() -> None:
    first = linkedin_post_html(FIRST_BATCH[0])
    reshare = first.replace(
        '<div class="social-details-social-counts">', RESHARED + '<div class="social-details-social-counts">'
    )
    page = ACTIVITY_PAGE.replace(first, reshare)
    assert RESHARED in page
    posts = extract_linkedin_posts(page, PAGE_URL)
    assert len(posts) == len(FIRST_BATCH)
    texts = " ".join(post.text for post in posts)
    for chrome in ("The original post being shared", "see more", "View Theo Brandt", "comments", "Repost", "Visible"):
        assert chrome not in texts


def test_an_image_given_by_a_relative_source_is_resolved_against_the_page() -> None:
    post = dataclasses.replace(FIRST_BATCH[0], image="/media/gpu-spend-breakdown.jpg")
    [found] = extract_linkedin_posts(linkedin_post_html(post), PAGE_URL)
    assert found.image == "https://www.linkedin.com/media/gpu-spend-breakdown.jpg"


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
