import pytest

from llm_engineering.application.crawlers.article import declared_language, extract_article
from llm_engineering.domain.exceptions import CrawlError
from tests.crawl_site import BLOG, SUBSTACK, article_page, fenced_code

# The sample site's pages of two corpus articles (data/sample).
SUBSTACK_POST = article_page(SUBSTACK)
BLOG_ARTICLE = article_page(BLOG)
[(_, BLOG_CODE)] = fenced_code(BLOG.markdown)


def test_substack_post_gives_title_description_body_and_language() -> None:
    article = extract_article(SUBSTACK_POST, SUBSTACK.link)
    assert article["title"] == SUBSTACK.title == "Data Contracts Are Just Good Manners"
    assert article["subtitle"] == SUBSTACK.subtitle
    assert article["language"] == "en"
    body = article["content"]
    assert body.startswith("Every few years our industry takes an old idea, gives it a new name, and sells it back")
    assert "It won't catch semantic changes, like a `status` column that quietly gains a new value." in body
    assert "## What actually goes wrong" in body
    assert "- Agree on a deprecation window instead of a ban on change" in body
    assert "2. **A check.** Something automated that fails *before* the change ships." in body
    assert '    promised = {col["name"]: col["type"] for col in CONTRACT["columns"]}\n    actual = {' in body
    assert body.rstrip().endswith("Just make sure somebody picks up the phone.")


@pytest.mark.parametrize(
    "chrome",
    [
        "Subscribe",
        "Sign in",
        "Discussion about this post",
        "No comments yet",
        "Substack is the home",
        "Privacy",
        "Theo's Notes",
        "72",
    ],
)
def test_substack_chrome_stays_out(chrome: str) -> None:
    article = extract_article(SUBSTACK_POST, SUBSTACK.link)
    assert chrome not in article["content"]
    assert article["subtitle"] not in article["content"]


def test_plain_blog_article_keeps_code_and_lists_and_drops_navigation() -> None:
    article = extract_article(BLOG_ARTICLE, BLOG.link)
    assert article["title"] == BLOG.title == "Your Notebook Is Not a Pipeline"
    assert article["language"] == "en"
    body = article["content"]
    # trafilatura keeps the code's lines and indentation, not the blank lines between them.
    assert "\n".join(line for line in BLOG_CODE.split("\n") if line.strip()) in body
    assert "    return pl.read_parquet(path).filter(" in body
    assert "3. **No tests.** Because how would you even test cell 14?" in body
    assert "- Anything exploratory stays in notebooks, and nobody depends on it" in body
    for chrome in ("Recent posts", "Airflow or Dagster", "Newsletter", "Talks", "minute read", "static site", "RSS"):
        assert chrome not in body


def test_a_page_without_article_text_is_a_crawl_error() -> None:
    with pytest.raises(CrawlError, match=r"no article text found at https://example\.com/empty"):
        extract_article("<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://example.com/empty")


def test_declared_language_is_the_primary_subtag() -> None:
    assert declared_language('<!DOCTYPE html><html class="x" lang="pt-BR"><body></body></html>') == "pt"
    assert declared_language("<html><body>no language</body></html>") == ""
