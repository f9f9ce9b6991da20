"""LinkedIn posts of a profile: a logged-in browser scrolls the profile's activity feed; each post is a document."""

import re
from contextlib import closing
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup
from bs4.element import Tag

from llm_engineering.application.crawlers.html_markdown import inline_text
from llm_engineering.domain.crawling import BrowserLauncher, Credentials, LoginForm
from llm_engineering.domain.documents import PostDocument, UserDocument
from llm_engineering.domain.exceptions import CrawlError
from llm_engineering.domain.links import normalise_link

_ACTIVITY_URN = re.compile(r"^urn:li:activity:\d+$")
_PROFILE_PATH = re.compile(r"^(?P<profile>.*?/in/[^/]+)(?:/.*)?$")
POST_TEXT = ".update-components-text, .feed-shared-update-v2__description, .feed-shared-text"
POST_IMAGE = "img.update-components-image__image, .update-components-image img, img.feed-shared-image__image"
# Screen-reader duplicates and the "…see more" toggles repeat or truncate the text.
POST_NOISE = ".visually-hidden, button, [aria-hidden=true]"


@dataclass(frozen=True)
class LinkedInPost:
    """One post of the activity feed as found on the page."""

    link: str
    text: str
    image: str | None


def activity_page(profile_link: str) -> str:
    """The "all activity" page of a profile link (https://www.linkedin.com/in/NAME[/...])."""
    parts = urlsplit(profile_link)
    match = _PROFILE_PATH.match(parts.path)
    if match is None:
        raise CrawlError(f"{profile_link} is not a LinkedIn profile link; give it as https://www.linkedin.com/in/NAME")
    path = str(match.group("profile")) + "/recent-activity/all/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def extract_linkedin_posts(html: str, page_url: str) -> list[LinkedInPost]:
    """Every post with text on a rendered activity page, in page order, once each."""
    soup = BeautifulSoup(html, "lxml")
    posts: list[LinkedInPost] = []
    seen: set[str] = set()
    for update in soup.find_all(True, attrs={"data-urn": _ACTIVITY_URN}):
        urn = str(update.get("data-urn"))
        # A reshare nests the original update inside; the outer one is the author's post.
        if urn in seen or update.find_parent(True, attrs={"data-urn": _ACTIVITY_URN}) is not None:
            continue
        seen.add(urn)
        text_node = update.select_one(POST_TEXT)
        if text_node is None:
            continue
        for noise in text_node.select(POST_NOISE):
            noise.decompose()
        text = inline_text(text_node)
        if text:
            link = _post_link(update, urn, page_url)
            posts.append(LinkedInPost(link=link, text=text, image=_image(update, page_url)))
    return posts


def _post_link(update: Tag, urn: str, page_url: str) -> str:
    anchor = update.select_one("a[href*='/feed/update/']")
    href = anchor.get("href") if anchor is not None else None
    target = href if isinstance(href, str) and href else f"/feed/update/{urn}/"
    return normalise_link(urljoin(page_url, target))


def _image(update: Tag, page_url: str) -> str | None:
    image = update.select_one(POST_IMAGE)
    source = image.get("src") if image is not None else None
    if not isinstance(source, str) or not source or source.startswith("data:"):
        return None
    return urljoin(page_url, source)


class LinkedInCrawler:
    """Logs in with the configured account, scrolls a profile's activity feed and stores each post."""

    def __init__(
        self,
        browser: BrowserLauncher,
        credentials: Credentials | None,
        *,
        login_url: str,
        scrolls: int,
    ) -> None:
        self._browser = browser
        self._credentials = credentials
        # LinkedIn's sign-in form: user name, password, submit button (CSS selectors).
        self._login = LoginForm(login_url, "#username", "#password", "button[type=submit]")
        self._scrolls = scrolls

    @property
    def credentials(self) -> Credentials | None:
        """The account it signs in with, if one is configured."""
        return self._credentials

    def crawl(self, link: str, author: UserDocument) -> list[PostDocument]:
        """One post document per post on the profile's activity feed."""
        if self._credentials is None:
            raise CrawlError(
                "LinkedIn shows posts only to a signed-in member: set LINKEDIN_USERNAME and LINKEDIN_PASSWORD "
                "(in .env or the environment) and re-run"
            )
        feed_url = activity_page(link)
        with closing(self._browser.launch()) as session:
            landed = session.log_in(self._login, self._credentials)
            if _still_signing_in(landed.final_url, self._login.url):
                raise CrawlError(
                    f"LinkedIn sign-in failed (still on {landed.final_url}): check LINKEDIN_USERNAME and "
                    "LINKEDIN_PASSWORD, or pass LinkedIn's security check once in a normal browser"
                )
            page = session.render(feed_url, scrolls=self._scrolls)
        posts = extract_linkedin_posts(page.html, page.final_url)
        if not posts:
            raise CrawlError(
                f"no posts found on {feed_url}: the profile has no activity, LinkedIn showed a sign-in wall, "
                "or its markup changed"
            )
        return [
            PostDocument.create(
                author=author, platform="linkedin", link=post.link, content={"text": post.text}, image=post.image
            )
            for post in posts
        ]


def _still_signing_in(landed_url: str, login_url: str) -> bool:
    path = urlsplit(landed_url).path.rstrip("/")
    return path == urlsplit(login_url).path.rstrip("/") or "/checkpoint" in path or "/uas/login" in path
