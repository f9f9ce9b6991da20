import pytest

from llm_engineering.application.crawlers.article import declared_language, extract_article
from llm_engineering.domain.exceptions import CrawlError
from tests.fixture_site import BLOG_ARTICLE, BLOG_CODE, SUBSTACK_POST


def test_substack_post_gives_title_description_body_and_language() -> None:
    article = extract_article(SUBSTACK_POST, "https://theobrandt.substack.com/p/data-contracts-are-just-good-manners")
    assert article["title"] == "Data contracts are just good manners"
    assert article["subtitle"] == "A schema is a promise. Treat it like one."
    assert article["language"] == "en"
    body = article["content"]
    assert body.startswith("Every data team I have worked with has a story about the column that changed type")
    assert "An upstream service renamed `customer_id` to `account_id`, nobody downstream was told" in body
    assert "## What goes in the contract" in body
    assert "- What a row means, in one sentence a new hire can read." in body
    assert "  account_id:\n    type: string\n    nullable: false" in body
    assert body.rstrip().endswith("the Friday column change is a failed build instead of a lost weekend.")


@pytest.mark.parametrize(
    "chrome",
    ["Subscribe", "Sign in", "Discussion about this post", "protobuf", "Substack is the home", "Privacy", "42"],
)
def test_substack_chrome_stays_out(chrome: str) -> None:
    article = extract_article(SUBSTACK_POST, "https://theobrandt.substack.com/p/data-contracts-are-just-good-manners")
    assert chrome not in article["content"]
    assert article["subtitle"] not in article["content"]


def test_plain_blog_article_keeps_code_and_lists_and_drops_navigation() -> None:
    article = extract_article(BLOG_ARTICLE, "https://theobrandt.dev/blog/your-notebook-is-not-a-pipeline")
    assert article["title"] == "Your notebook is not a pipeline"
    assert article["language"] == "en"
    body = article["content"]
    assert BLOG_CODE in body
    assert "2. Give the function its inputs as arguments instead of globals." in body
    for chrome in ("Recent posts", "Newsletter", "Talks", "too much coffee", "RSS"):
        assert chrome not in body


def test_a_page_without_article_text_is_a_crawl_error() -> None:
    with pytest.raises(CrawlError, match=r"no article text found at https://example\.com/empty"):
        extract_article("<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://example.com/empty")


def test_declared_language_is_the_primary_subtag() -> None:
    assert declared_language('<!DOCTYPE html><html class="x" lang="pt-BR"><body></body></html>') == "pt"
    assert declared_language("<html><body>no language</body></html>") == ""
