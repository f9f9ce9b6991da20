"""Article pages over plain HTTP (Substack, blogs, any other site): trafilatura finds the article in the page."""

import re
from typing import Any

import trafilatura

from llm_engineering.domain.crawling import WebFetcher
from llm_engineering.domain.documents import ArticleDocument, UserDocument
from llm_engineering.domain.exceptions import CrawlError

# Fewer words than this is a login wall, an error page or a landing page, not an article.
MIN_ARTICLE_WORDS = 20
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})\b", re.IGNORECASE)
_HEADING_MARKS = re.compile(r"^#+\s*")
# A line break from the page's source layout: a newline, indentation, then text that starts no list item.
_SOURCE_LINE_BREAK = re.compile(r"\n[ \t]+(?![-*+] |\d+\. )(?=\S)")


def extract_article(html: str, url: str) -> dict[str, str]:
    """{"title", "subtitle", "content"[, "language"]} of an article page; raises CrawlError when none is found."""
    found: Any = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_formatting=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    body = (found.text or "").strip() if found is not None else ""
    if len(body.split()) < MIN_ARTICLE_WORDS:
        raise CrawlError(
            f"no article text found at {url}: under {MIN_ARTICLE_WORDS} words of readable text "
            "(an error page, a sign-in wall or a page that needs JavaScript)"
        )
    title = (found.title or "").strip()
    subtitle = (found.description or "").strip()
    body = _without_repeated_header(_joined_source_lines(body), {title, subtitle})
    content = {"title": title, "subtitle": subtitle, "content": body}
    language = declared_language(html)
    if language:
        content["language"] = language
    return content


def _joined_source_lines(body: str) -> str:
    # Code fences alternate with prose when split on ```; only prose gets its source line breaks joined.
    parts = body.split("```")
    return "```".join(part if index % 2 else _SOURCE_LINE_BREAK.sub(" ", part) for index, part in enumerate(parts))


def _without_repeated_header(body: str, header: set[str]) -> str:
    # Some sites keep the title and subtitle inside the article element; they are already stored apart.
    blocks = body.split("\n\n")
    while len(blocks) > 1 and _HEADING_MARKS.sub("", blocks[0]).strip() in header - {""}:
        blocks.pop(0)
    return "\n\n".join(blocks)


def declared_language(html: str) -> str:
    """The primary language subtag the page declares on <html lang>, lower case; "" when it declares none."""
    match = _HTML_LANG.search(html, 0, 20_000)
    return match.group(1).lower() if match else ""


class ArticleCrawler:
    """Fetches a page over plain HTTP and stores its article; the fallback for domains without a crawler."""

    def __init__(self, fetcher: WebFetcher, *, platform: str = "blog") -> None:
        self._fetcher = fetcher
        self._platform = platform

    @property
    def platform(self) -> str:
        """The platform its documents are stored under."""
        return self._platform

    def crawl(self, link: str, author: UserDocument) -> list[ArticleDocument]:
        """One article document for the page at link."""
        page = self._fetcher.fetch(link)
        content = extract_article(page.text, page.final_url)
        return [ArticleDocument.create(author=author, platform=self._platform, link=link, content=content)]
