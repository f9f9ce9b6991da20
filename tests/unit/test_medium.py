import pytest

from llm_engineering.application.crawlers.medium import extract_medium_story
from llm_engineering.domain.exceptions import CrawlError
from tests.fixture_site import MEDIUM_CODE, MEDIUM_STORY

CHROME = [
    "Sign in",
    "Follow",
    "7 min read",
    "1.2K",
    "Listen",
    "Share",
    "Machine Learning",
    "Written by",
    "More from Maya Okafor",
    "Recommended from Medium",
    "Ten Python tricks",
    "Careers",
    "Text to speech",
    "Offline AUC",
]


def test_title_subtitle_and_body_are_extracted() -> None:
    story = extract_medium_story(MEDIUM_STORY)
    assert story["title"] == "Point-in-time joins leaked the future"
    assert story["subtitle"] == "Six weeks of great offline metrics, and the join that explained them"
    body = story["content"]
    assert body.startswith("For six weeks our churn model looked better offline than anything we had shipped.")
    assert "## What an as-of join does" in body
    assert "## Three checks we now run" in body
    assert "most recent feature row `at or before` the event's timestamp" in body
    assert "- Training sets are built by the same as-of join the online store answers with." in body
    assert "> If a feature looks too good, ask when its value was written." in body
    assert body.endswith("bookkeeping is where models quietly go wrong.")


def test_code_blocks_keep_their_indentation_and_blank_lines() -> None:
    body = extract_medium_story(MEDIUM_STORY)["content"]
    assert f"```python\n{MEDIUM_CODE}\n```" in body


@pytest.mark.parametrize("chrome", CHROME)
def test_page_chrome_stays_out_of_the_content(chrome: str) -> None:
    story = extract_medium_story(MEDIUM_STORY)
    assert chrome not in story["content"]
    assert story["title"] not in story["content"]


def test_a_page_without_a_story_is_a_crawl_error() -> None:
    with pytest.raises(CrawlError, match="no <article>"):
        extract_medium_story("<html><body><h1>Medium</h1><p>Sign in to continue.</p></body></html>")
    with pytest.raises(CrawlError, match="no title"):
        extract_medium_story("<html><body><article><p>Text without a title.</p></article></body></html>")
    with pytest.raises(CrawlError, match="empty body"):
        extract_medium_story("<html><body><article><h1>Only a title</h1></article></body></html>")
