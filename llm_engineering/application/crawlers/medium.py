"""Medium stories, rendered by a headless browser: title, subtitle and the story body as markdown.

Where no browser can start, a story is fetched over plain HTTP instead (Medium serves most of a story's
text in its first HTML), so a laptop without Chromium still crawls Medium links.
"""

import threading
from contextlib import closing

from bs4 import BeautifulSoup
from bs4.element import Tag
from loguru import logger

from llm_engineering.application.crawlers.article import extract_article
from llm_engineering.application.crawlers.html_markdown import inline_text, markdown_blocks
from llm_engineering.domain.crawling import BrowserLauncher, WebFetcher
from llm_engineering.domain.documents import ArticleDocument, UserDocument
from llm_engineering.domain.exceptions import BrowserUnavailableError, CrawlError

# Story chrome that sits inside <article>: the byline, clap and share bars, audio player, buttons.
NOISE = ", ".join(
    [
        "nav",
        "footer",
        "aside",
        "button",
        "form",
        "script",
        "style",
        "noscript",
        "svg",
        "iframe",
        "[role=button]",
        "[role=navigation]",
        ".speechify-ignore",
        "[data-testid^=header]",
        "[data-testid^=footer]",
        "[data-testid*=Clap]",
        "[data-testid*=audio]",
    ]
)
TITLE = "h1[data-testid=storyTitle], h1.pw-post-title"
SUBTITLE = ".pw-subtitle-paragraph, [data-testid=storySubtitle]"


def extract_medium_story(html: str) -> dict[str, str]:
    """{"title", "subtitle", "content"} of a rendered Medium story; raises CrawlError when there is none."""
    soup = BeautifulSoup(html, "lxml")
    article = soup.find("article")
    if not isinstance(article, Tag):
        raise CrawlError("no <article> on the page: it is not a Medium story, or Medium changed its markup")
    for noise in article.select(NOISE):
        noise.decompose()
    title = article.select_one(TITLE) or article.find("h1")
    if not isinstance(title, Tag) or not inline_text(title):
        raise CrawlError("the Medium story has no title (no <h1> in the <article>)")
    subtitle = article.select_one(SUBTITLE)
    skip = frozenset(id(tag) for tag in (title, subtitle) if tag is not None)
    # The story body lives in the article's <section>s; tags and "written by" blocks sit outside them.
    sections = [section for section in article.find_all("section") if section.find_parent("section") is None]
    roots = sections or [article]
    blocks = [block for root in roots for block in markdown_blocks(root, skip=skip)]
    if not blocks:
        raise CrawlError("the Medium story has an empty body (a member-only story shown to a visitor?)")
    return {
        "title": inline_text(title),
        "subtitle": inline_text(subtitle) if subtitle is not None else "",
        "content": "\n\n".join(blocks),
    }


class MediumCrawler:
    """Renders a Medium story in a headless browser (Medium builds pages with scripts) and extracts it.

    With `fallback` set, a browser that cannot start makes the crawler fetch the story over plain HTTP.
    """

    def __init__(
        self, browser: BrowserLauncher, *, fallback: WebFetcher | None = None, platform: str = "medium"
    ) -> None:
        self._browser = browser
        self._fallback = fallback
        self._platform = platform
        self._warned = threading.Event()

    @property
    def platform(self) -> str:
        """The platform its documents are stored under."""
        return self._platform

    def crawl(self, link: str, author: UserDocument) -> list[ArticleDocument]:
        """One article document for the story at link."""
        try:
            with closing(self._browser.launch()) as session:
                page = session.render(link, wait_for="article")
            content = extract_medium_story(page.html)
        except BrowserUnavailableError as error:
            if self._fallback is None:
                raise
            if not self._warned.is_set():
                self._warned.set()
                logger.warning(
                    "{} Medium links are fetched over plain HTTP instead, which can miss parts of a story.", error
                )
            fetched = self._fallback.fetch(link)
            try:
                content = extract_medium_story(fetched.text)
            except CrawlError:
                content = extract_article(fetched.text, fetched.final_url)
        return [ArticleDocument.create(author=author, platform=self._platform, link=link, content=content)]
