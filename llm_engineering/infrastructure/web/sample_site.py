"""The sample corpus as a local web site: Medium-, Substack-, blog- and LinkedIn-like pages on 127.0.0.1, and its
repositories as local git repositories. The offline stand-in for the real sites the data ETL crawls."""

import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from math import ceil
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from loguru import logger
from markdown_it import MarkdownIt

DEFAULT_DATA_DIR = Path("data/sample")
HOST = "127.0.0.1"
LOGIN_PATH = "/linkedin/login"
FEED_PATH = "/linkedin/feed/"
SESSION_COOKIE = "li_at"
# The activity feed shows this many posts, then loads the next batch when the reader scrolls to the bottom.
POSTS_PER_BATCH = 10
GITHUB_PREFIX = "https://github.com/"
MAX_FORM_BYTES = 16 * 1024
GIT_TIMEOUT_S = 60.0
# Written inside .git of each mirror repository: only such directories are ever replaced.
MIRROR_MARKER = "llm-twin-sample-mirror"
ROBOTS_TXT = "User-agent: *\nAllow: /\n"
# The pages name images on the real CDNs (as the corpus does); the browser must not try to fetch them offline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'"
)
_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_Parsed = TypeVar("_Parsed")
# A LinkedIn post link: /posts/HANDLE_some-words-activity-1234567890123456789-AbCd.
_LINKEDIN_POST = re.compile(r"/posts/(?P<handle>[^/_]+)_[^/]*?activity-(?P<activity>\d+)")


@dataclass(frozen=True)
class SampleArticle:
    """An article of the corpus and where the site serves it."""

    link: str
    author: str
    platform: str
    handle: str
    slug: str
    title: str
    subtitle: str
    markdown: str
    published: datetime

    @property
    def path(self) -> str:
        """The page's path on the site: /medium/@HANDLE/SLUG, /substack/HANDLE/p/SLUG or /blog/HANDLE/SLUG."""
        if self.platform == "medium":
            return f"/medium/@{self.handle}/{self.slug}"
        if self.platform == "substack":
            return f"/substack/{self.handle}/p/{self.slug}"
        return f"/blog/{self.handle}/{self.slug}"


@dataclass(frozen=True)
class SamplePost:
    """A LinkedIn post of the corpus."""

    link: str
    author: str
    handle: str
    activity_id: str
    text: str
    image: str | None
    published: datetime

    @property
    def urn(self) -> str:
        return f"urn:li:activity:{self.activity_id}"

    @property
    def path(self) -> str:
        """The post's own page, the link the crawler stores for it."""
        return f"/linkedin/feed/update/{self.urn}/"


@dataclass(frozen=True)
class SampleRepository:
    """A code repository of the corpus: its GitHub link and {path: exact text} of its files."""

    link: str
    author: str
    name: str
    files: Mapping[str, str]
    committed: datetime

    @property
    def mirror_path(self) -> str:
        """OWNER/REPO as the link spells it: where a git mirror holds it (git_mirrors rewrites the link's prefix)."""
        return "/".join(_segments(self.link))


@dataclass(frozen=True)
class SampleCorpus:
    """users.json, articles.json, posts.json and repositories.json of a data directory, checked."""

    authors: tuple[str, ...]
    articles: tuple[SampleArticle, ...]
    posts: tuple[SamplePost, ...]
    repositories: tuple[SampleRepository, ...]

    @classmethod
    def load(cls, directory: Path) -> "SampleCorpus":
        """Read and check the corpus; raises ValueError naming the file and record that cannot be served."""
        authors = list(_parsed(directory / "users.json", _user_name))
        articles = _parsed(directory / "articles.json", _article)
        posts = _parsed(directory / "posts.json", _post)
        repositories = _parsed(directory / "repositories.json", _repository)
        documents: list[SampleArticle | SamplePost | SampleRepository] = [*articles, *posts, *repositories]
        for author in (document.author for document in documents):
            if author not in authors:
                authors.append(author)
        _check_unique("articles.json", [article.path for article in articles])
        _check_unique("posts.json", [post.activity_id for post in posts])
        _check_unique("repositories.json", [repository.mirror_path for repository in repositories])
        return cls(tuple(authors), articles, posts, repositories)


def _read_records(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ValueError(f"{path} is missing; point the sample site at a folder like data/sample") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ValueError(f"{path} must hold a JSON list of objects")
    return records


def _parsed(path: Path, parse: Callable[[Mapping[str, Any]], _Parsed]) -> tuple[_Parsed, ...]:
    parsed: list[_Parsed] = []
    for index, record in enumerate(_read_records(path)):
        try:
            parsed.append(parse(record))
        except (KeyError, TypeError, AttributeError) as error:
            where = record.get("link") or f"record {index}"
            raise ValueError(f"{path.name}: {where} lacks a field or has one of the wrong type ({error!r})") from error
    return tuple(parsed)


def _name(full_name: object) -> str:
    return " ".join(str(full_name).split())


def _user_name(record: Mapping[str, Any]) -> str:
    return _name(f"{record['first_name']} {record.get('last_name') or ''}")


def _timestamp(record: Mapping[str, Any]) -> datetime:
    raw = record.get("updated_at") or record.get("created_at")
    if not isinstance(raw, str):
        return datetime(2024, 1, 1, tzinfo=UTC)
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _segments(link: str) -> list[str]:
    return [segment for segment in urlsplit(link).path.split("/") if segment]


def _article(record: Mapping[str, Any]) -> SampleArticle:
    link, platform, content = str(record["link"]), str(record["platform"]), record["content"]
    host, segments = (urlsplit(link).hostname or "").removeprefix("www."), _segments(link)
    if not segments:
        raise ValueError(f"articles.json: {link} has no path to take the article's slug from")
    if platform == "medium" and segments[0].startswith("@"):
        handle = segments[0].removeprefix("@")
    elif platform == "substack" and host.endswith(".substack.com"):
        handle = host.removesuffix(".substack.com")
    elif platform == "blog" and host:
        handle = host.split(".")[0]
    else:
        raise ValueError(
            f"articles.json: cannot serve {link} (platform {platform!r}); the site serves medium.com/@HANDLE/..., "
            "HANDLE.substack.com/p/... and blog links"
        )
    return SampleArticle(
        link=link,
        author=_name(record["author_full_name"]),
        platform=platform,
        handle=handle,
        slug=segments[-1],
        title=str(content["title"]),
        subtitle=str(content.get("subtitle") or ""),
        markdown=str(content["content"]),
        published=_timestamp(record),
    )


def _post(record: Mapping[str, Any]) -> SamplePost:
    link = str(record["link"])
    match = _LINKEDIN_POST.search(urlsplit(link).path)
    if record.get("platform") != "linkedin" or match is None:
        raise ValueError(
            f"posts.json: cannot serve {link}; the site serves LinkedIn posts linked as "
            "https://www.linkedin.com/posts/HANDLE_words-activity-NUMBER-xxxx"
        )
    image = record.get("image")
    return SamplePost(
        link=link,
        author=_name(record["author_full_name"]),
        handle=match.group("handle"),
        activity_id=match.group("activity"),
        text=str(record["content"]["text"]),
        image=str(image) if image else None,
        published=_timestamp(record),
    )


def _repository(record: Mapping[str, Any]) -> SampleRepository:
    link = str(record["link"])
    segments = _segments(link)
    if not link.startswith(GITHUB_PREFIX) or len(segments) != 2:
        raise ValueError(f"repositories.json: {link} is not a https://github.com/OWNER/REPOSITORY link")
    files = {str(path): str(text) for path, text in record["content"].items()}
    for path in files:
        parts = PurePosixPath(path).parts
        if not parts or PurePosixPath(path).is_absolute() or {"..", ".git"} & set(parts) or "\\" in path:
            raise ValueError(f"repositories.json: {link} has a file path {path!r} that cannot be written safely")
    return SampleRepository(
        link=link,
        author=_name(record["author_full_name"]),
        name=segments[1].removesuffix(".git"),
        files=files,
        committed=_timestamp(record),
    )


def _check_unique(source: str, keys: list[str]) -> None:
    duplicates = sorted(key for key, count in Counter(keys).items() if count > 1)
    if duplicates:
        raise ValueError(f"{source}: two records would be served at the same place: {', '.join(duplicates)}")


def _e(text: str) -> str:
    return escape(text, quote=True)


def _date(value: datetime) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def _read_minutes(markdown: str) -> int:
    return max(1, ceil(len(markdown.split()) / 238))


def _count(seed: str, low: int, high: int) -> int:
    """A made-up but stable engagement number (claps, likes) for a page."""
    return low + zlib.crc32(seed.encode()) % (high - low)


def _page(title: str, head: str, body: str, *, lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n{head}</head>\n<body>\n{body}\n</body></html>\n"
    )


def _article_meta(article: SampleArticle, site_name: str) -> str:
    return (
        f'<meta name="description" content="{_e(article.subtitle)}">\n'
        f'<meta name="author" content="{_e(article.author)}">\n'
        f'<meta property="og:title" content="{_e(article.title)}">\n'
        f'<meta property="og:description" content="{_e(article.subtitle)}">\n'
        f'<meta property="og:site_name" content="{_e(site_name)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="article:published_time" content="{article.published.isoformat()}">\n'
    )


MEDIUM_STYLE = """<style>
body{margin:0;font-family:sohne,"Helvetica Neue",Helvetica,Arial,sans-serif;color:#242424}
.metabar{display:flex;gap:24px;padding:12px 24px;border-bottom:1px solid #f2f2f2}
.story{max-width:680px;margin:0 auto;padding:0 24px}
.pw-post-title{font-size:42px;line-height:52px}.pw-subtitle-paragraph{font-size:22px;color:#6b6b6b}
.byline,.story-actions{display:flex;gap:12px;align-items:center;color:#6b6b6b;font-size:14px}
.story-body p,.story-body li{font-family:source-serif-pro,Georgia,serif;font-size:20px;line-height:32px}
pre{background:#f9f9f9;padding:20px;overflow-x:auto}
.more-from,.author-card{max-width:680px;margin:48px auto;padding:0 24px}
.site-footer{display:flex;gap:16px;padding:24px;font-size:13px;color:#6b6b6b}
</style>
"""

MEDIUM_SIGNUP_SCRIPT = """<script>
window.addEventListener("load", function () {
  var dialog = document.createElement("div");
  dialog.setAttribute("role", "dialog");
  dialog.className = "signup-overlay";
  dialog.innerHTML = "<h2>Sign up to discover human stories that deepen your understanding of the world.</h2>";
  document.body.appendChild(dialog);
});
</script>
"""


def medium_story_page(article: SampleArticle, more_from: Iterable[SampleArticle]) -> str:
    """A Medium story page: the story inside <article><section>, site chrome and recommendations around it."""
    claps = _count(article.slug, 120, 4800)
    profile = f"/medium/@{article.handle}"
    recommendations = "".join(
        f'<div class="more-from-story"><a href="{_e(other.path)}"><h2>{_e(other.title)}</h2>'
        f"<p>{_e(other.subtitle)}</p></a><span>{_read_minutes(other.markdown)} min read · "
        f"{_date(other.published)}</span></div>\n"
        for other in more_from
    )
    body = f"""<div id="root">
<div class="metabar"><nav aria-label="Top navigation"><a href="/medium/">Medium</a>
<a href="/medium/search">Search</a> <a href="/medium/new-story">Write</a> <a href="/medium/m/signin">Sign up</a>
<a href="/medium/m/signin">Sign in</a></nav></div>
<main class="story-layout">
<article class="meteredContent"><div class="story"><section>
<div class="story-header">
<h1 class="pw-post-title" data-testid="storyTitle" data-selectable-paragraph="">{_e(article.title)}</h1>
<h2 class="pw-subtitle-paragraph" data-testid="storySubtitle">{_e(article.subtitle)}</h2>
<div class="speechify-ignore byline">
<a href="{profile}" rel="noopener follow"><img alt="{_e(article.author)}" src="{_PIXEL}" width="44" height="44"></a>
<p class="byline-name"><a href="{profile}" data-testid="authorName">{_e(article.author)}</a></p>
<button class="follow-button">Follow</button>
<span data-testid="storyReadTime">{_read_minutes(article.markdown)} min read</span><span>·</span>
<span data-testid="storyPublishDate">{_date(article.published)}</span>
</div>
<div class="speechify-ignore story-actions">
<div data-testid="headerClapButton"><button aria-label="clap">Clap</button><p>{claps}</p></div>
<div><button aria-label="responses">Responses</button><p>{claps // 40}</p></div>
<button data-testid="audioPlayButton">Listen</button>
<button data-testid="headerSocialShareButton">Share</button>
</div>
</div>
<div class="story-body">
{_MARKDOWN.render(article.markdown)}</div>
</section></div>
<div class="story story-footer">
<div data-testid="footerClapButton"><button aria-label="clap">Clap</button><p>{claps}</p></div>
<button data-testid="footerSocialShareButton">Share</button>
</div>
</article>
<div class="author-card"><h2>Written by {_e(article.author)}</h2>
<p>{_count(article.handle, 300, 9000)} Followers</p><button>Follow</button></div>
<div class="more-from"><h2>More from {_e(article.author)}</h2>
{recommendations}</div>
</main>
<footer class="site-footer"><a href="/medium/help">Help</a> <a href="/medium/status">Status</a>
<a href="/medium/about">About</a> <a href="/medium/jobs">Careers</a> <a href="/medium/privacy">Privacy</a>
<a href="/medium/terms">Terms</a> <a href="/medium/text-to-speech">Text to speech</a></footer>
</div>
{MEDIUM_SIGNUP_SCRIPT}"""
    title = f"{article.title} | by {article.author} | Medium"
    return _page(title, _article_meta(article, "Medium") + MEDIUM_STYLE, body)


def substack_post_page(article: SampleArticle) -> str:
    """A Substack post page: header, post body, subscribe widget, comments and footer."""
    newsletter = f"{article.author.split()[0]}'s Notes"
    likes = _count(article.slug, 8, 240)
    structured = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "description": article.subtitle,
            "author": [{"@type": "Person", "name": article.author}],
            "datePublished": article.published.isoformat(),
            "publisher": {"@type": "Organization", "name": newsletter},
        }
    ).replace("</", "<\\/")
    head = _article_meta(article, newsletter) + f'<script type="application/ld+json">{structured}</script>\n'
    home = f"/substack/{article.handle}/"
    body = f"""<div class="main-menu"><div class="topbar-content">
<a class="navbar-title-link" href="{home}">{_e(newsletter)}</a>
<div class="navbar-buttons"><button class="button primary">Subscribe</button><button class="button">Sign in</button>
</div></div></div>
<div class="single-post-container"><div class="container"><div class="single-post">
<article class="typography newsletter-post post">
<div class="post-header">
<h1 class="post-title published" dir="auto">{_e(article.title)}</h1>
<h3 class="subtitle" dir="auto">{_e(article.subtitle)}</h3>
<div class="post-meta"><div class="profile-hover-card-target"><a href="{home}">{_e(article.author)}</a></div>
<div class="post-date">{_date(article.published)}</div>
<div class="post-ufi"><button class="like-button">{likes}</button><button class="comment-button">{likes // 6}</button>
<button class="share-button">Share</button></div></div>
</div>
<div class="available-content"><div dir="auto" class="body markup">
{_MARKDOWN.render(article.markdown)}</div></div>
<div class="subscription-widget-wrap"><div class="subscription-widget show-subscribe">
<div class="preamble"><p class="cta-caption">Thanks for reading {_e(newsletter)}! Subscribe for free to receive new
 posts and support my work.</p></div>
<form class="form" action="{home}subscribe" method="post"><input type="email" name="email"
 placeholder="Type your email..."><button type="submit">Subscribe</button></form></div></div>
</article>
<div class="post-footer"><button class="like-button">{likes}</button><button class="share-button">Share</button></div>
</div></div></div>
<div class="comments-section"><h4>Discussion about this post</h4><p>No comments yet.</p></div>
<div class="footer-wrap"><div class="footer">© {article.published.year} {_e(article.author)} ·
<a href="{home}privacy">Privacy</a> ∙ <a href="{home}tos">Terms</a> ∙ <a href="{home}collection">Collection notice</a>
<p>Substack is the home for great culture</p></div></div>"""
    title = f"{article.title} - by {article.author} - {newsletter}"
    return _page(title, head, body)


def blog_article_page(article: SampleArticle, recent: Iterable[SampleArticle]) -> str:
    """A personal blog's article page: site header, sidebar of recent posts, the article, footer."""
    home = f"/blog/{article.handle}/"
    sidebar = "".join(f'<li><a href="{_e(other.path)}">{_e(other.title)}</a></li>' for other in recent)
    body = f"""<header class="site-header"><a class="site-title" href="{home}">{_e(article.author)}</a>
<nav><ul><li><a href="{home}">Blog</a></li><li><a href="{home}talks">Talks</a></li>
<li><a href="{home}about">About</a></li></ul></nav></header>
<div class="layout">
<aside class="sidebar"><h3>Recent posts</h3><ul>{sidebar}</ul>
<h3>Newsletter</h3><p>New posts by email, about once a month.</p></aside>
<main><article class="post">
<h1 class="post-title">{_e(article.title)}</h1>
<p class="post-meta">Published {_date(article.published)} · {_read_minutes(article.markdown)} minute read</p>
{_MARKDOWN.render(article.markdown)}</article></main>
</div>
<footer class="site-footer"><p>© {article.published.year} {_e(article.author)}. Built with a static site generator.
</p><p><a href="{home}feed.xml">RSS</a></p></footer>"""
    return _page(f"{article.title} · {article.author}", _article_meta(article, article.author), body)


LINKEDIN_NAV = """<header class="global-nav"><nav aria-label="Primary Navigation"><a href="/linkedin/feed/">Home</a>
<a href="/linkedin/mynetwork/">My Network</a> <a href="/linkedin/jobs/">Jobs</a>
<a href="/linkedin/messaging/">Messaging</a> <a href="/linkedin/notifications/">Notifications</a></nav></header>
"""


def linkedin_login_page(error: str = "") -> str:
    """The sign-in form: #username, #password and a submit button, like LinkedIn's."""
    alert = f'<div id="error-for-password" role="alert">{_e(error)}</div>\n' if error else ""
    body = f"""<main class="app__content"><div class="header__content"><h1>Sign in</h1>
<p>Stay updated on your professional world</p></div>
{alert}<form class="login__form" action="{LOGIN_PATH}" method="post" novalidate>
<div class="form__input--floating"><input id="username" name="session_key" type="text" autocomplete="username">
<label for="username">Email or Phone</label></div>
<div class="form__input--floating"><input id="password" name="session_password" type="password"
 autocomplete="current-password"><label for="password">Password</label></div>
<div class="login__form_action_container"><button class="btn__primary--large" type="submit"
 aria-label="Sign in">Sign in</button></div>
</form></main>"""
    return _page("LinkedIn Login, Sign in | LinkedIn", "", body)


def linkedin_post_html(post: SamplePost) -> str:
    """One update of the feed: actor, text (line breaks as <br>), image, counts and the action bar."""
    text = "<br>".join(_e(line) for line in post.text.split("\n"))
    image = (
        f'<div class="update-components-image"><img class="update-components-image__image" src="{_e(post.image)}"'
        ' alt="Image" loading="lazy"></div>\n'
        if post.image
        else ""
    )
    reactions = _count(post.activity_id, 12, 900)
    return f"""<div class="feed-shared-update-v2" data-urn="{post.urn}" role="article">
<div class="update-components-actor"><a class="update-components-actor__meta-link" href="/linkedin/in/{post.handle}/">
<span class="update-components-actor__name"><span aria-hidden="true">{_e(post.author)}</span>
<span class="visually-hidden">View {_e(post.author)}'s profile</span></span></a>
<a class="update-components-actor__sub-description" href="{post.path}"><span aria-hidden="true">
{_date(post.published)} •</span><span class="visually-hidden">{_date(post.published)} • Visible to anyone</span></a>
</div>
<div class="feed-shared-update-v2__description-wrapper"><div class="update-components-text relative">
<span class="break-words"><span dir="ltr">{text}</span></span>
<button class="feed-shared-inline-show-more-text__see-more-less-toggle">…see more</button></div></div>
{image}<div class="social-details-social-counts"><span class="social-details-social-counts__reactions-count">
{reactions}</span> <span>{reactions // 9} comments</span></div>
<div class="feed-shared-social-action-bar"><button>Like</button><button>Comment</button><button>Repost</button>
<button>Send</button></div>
</div>
"""


def _batch_html(posts: list[SamplePost], next_start: int) -> str:
    # data-next: where the next batch starts; -1 when the feed has no more posts.
    updates = "".join(linkedin_post_html(post) for post in posts)
    return f'<div class="scaffold-finite-scroll__batch" data-next="{next_start}">\n{updates}</div>\n'


LINKEDIN_SCROLL_SCRIPT = """<script>
(function () {
  var feed = document.getElementById("activity-feed");
  var loading = false;
  window.addEventListener("scroll", function () {
    var next = Number(feed.lastElementChild.dataset.next);
    if (loading || next < 0) { return; }
    if (window.innerHeight + window.scrollY < document.body.scrollHeight - 200) { return; }
    loading = true;
    fetch(feed.dataset.batches + next, {credentials: "same-origin", redirect: "error"})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.text(); })
      .then(function (html) { feed.insertAdjacentHTML("beforeend", html); loading = false; })
      .catch(function () { feed.lastElementChild.dataset.next = "-1"; });
  });
})();
</script>
"""


def linkedin_activity_page(author: str, handle: str, first_batch: str) -> str:
    """The profile's "All activity" page: the first batch of posts; the rest load as the reader scrolls."""
    body = f"""{LINKEDIN_NAV}<main class="scaffold-layout__main">
<section class="profile-card"><h1>{_e(author)}</h1><a href="/linkedin/in/{handle}/">View profile</a></section>
<h2>All activity</h2>
<div class="pv-recent-activity-detail__core-rail"><div id="activity-feed"
 data-batches="/linkedin/voyager/activity/{handle}/">
{first_batch}</div></div>
</main>
<aside class="msg-overlay-list-bubble"><p>Messaging</p><p>You have no unread messages</p></aside>
{LINKEDIN_SCROLL_SCRIPT}"""
    return _page(f"Activity | {author} | LinkedIn", "", body)


def linkedin_profile_page(author: str, handle: str, post_count: int) -> str:
    """A member's profile page, linking to the activity feed."""
    body = f"""{LINKEDIN_NAV}<main class="scaffold-layout__main"><section class="pv-top-card">
<h1 class="text-heading-xlarge">{_e(author)}</h1><p class="text-body-medium">Writes about data and ML engineering</p>
</section><section class="pv-recent-activity"><h2>Activity</h2><p>{post_count} posts</p>
<a href="/linkedin/in/{handle}/recent-activity/all/">Show all posts →</a></section></main>"""
    return _page(f"{author} | LinkedIn", "", body)


def linkedin_feed_page(people: Iterable[tuple[str, str]]) -> str:
    """The home feed a member lands on after signing in."""
    suggestions = "".join(f'<li><a href="/linkedin/in/{handle}/">{_e(name)}</a></li>' for name, handle in people)
    body = f"""{LINKEDIN_NAV}<main class="scaffold-layout__main"><div class="share-box-feed-entry">
<button>Start a post</button></div><p>You are all caught up.</p>
<aside class="feed-follows-module"><h2>Add to your feed</h2><ul>{suggestions}</ul></aside></main>"""
    return _page("Feed | LinkedIn", "", body)


def linkedin_post_page(post: SamplePost) -> str:
    """One post on its own page (the link the crawler stores for it)."""
    body = f'{LINKEDIN_NAV}<main class="scaffold-layout__main">\n{linkedin_post_html(post)}</main>'
    return _page(f"{post.text.split(chr(10))[0][:60]} | {post.author} | LinkedIn", "", body)


NOT_FOUND_PAGE = _page("Page not found", "", "<main><h1>404</h1><p>There is nothing here.</p></main>")


@dataclass(frozen=True)
class _Response:
    content_type: str
    body: bytes
    signed_in_only: bool = False


def _html(text: str, *, signed_in_only: bool = False) -> _Response:
    return _Response("text/html; charset=utf-8", text.encode("utf-8"), signed_in_only)


def _route(path: str) -> str:
    """The key a request path is looked up by: percent-decoded, without a trailing slash."""
    return unquote(path).rstrip("/") or "/"


class _SampleServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    site: "SampleSite"

    def handle_error(self, request: object, client_address: object) -> None:
        logger.opt(exception=True).warning("sample site: answering {} failed", client_address)


class _SampleHandler(BaseHTTPRequestHandler):
    server: _SampleServer
    server_version = "SampleSite/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sample site {}: {}", self.address_string(), format % args)

    def do_GET(self) -> None:
        self.server.site._answer_get(self)

    def do_POST(self) -> None:
        self.server.site._answer_post(self)


class SampleSite:
    """Serves the corpus on 127.0.0.1 from a background thread; start() or `with SampleSite() as site:`.

    Medium stories at /medium/@HANDLE/SLUG, Substack posts at /substack/HANDLE/p/SLUG, blog articles at
    /blog/HANDLE/SLUG, and LinkedIn behind a sign-in (any user name and password) at /linkedin/in/HANDLE/.
    Repositories are not served: write_git_mirror() writes them as git repositories to clone from.
    """

    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, *, port: int = 0) -> None:
        self.corpus = SampleCorpus.load(data_dir)
        self._requested_port = port
        self._responses = self._render()
        self._sessions: set[str] = set()
        self._lock = threading.Lock()
        self._server: _SampleServer | None = None
        self._thread: threading.Thread | None = None

    def _render(self) -> dict[str, _Response]:
        articles = self.corpus.articles
        responses: dict[str, _Response] = {"/robots.txt": _Response("text/plain; charset=utf-8", ROBOTS_TXT.encode())}
        for article in articles:
            siblings = [
                other
                for other in articles
                if other.platform == article.platform and other.handle == article.handle and other != article
            ]
            if article.platform == "medium":
                page = medium_story_page(article, siblings[:3])
            elif article.platform == "substack":
                page = substack_post_page(article)
            else:
                page = blog_article_page(article, siblings[:5])
            responses[_route(article.path)] = _html(page)
        profiles: dict[str, list[SamplePost]] = {}
        for post in sorted(self.corpus.posts, key=lambda post: int(post.activity_id), reverse=True):
            profiles.setdefault(post.handle, []).append(post)
            responses[_route(post.path)] = _html(linkedin_post_page(post), signed_in_only=True)
        for handle, posts in profiles.items():
            author = posts[0].author
            responses[f"/linkedin/in/{handle}"] = _html(
                linkedin_profile_page(author, handle, len(posts)), signed_in_only=True
            )
            batches = [posts[start : start + POSTS_PER_BATCH] for start in range(0, len(posts), POSTS_PER_BATCH)]
            for index, batch in enumerate(batches):
                next_start = (index + 1) * POSTS_PER_BATCH if index + 1 < len(batches) else -1
                fragment = _batch_html(batch, next_start)
                if index == 0:
                    page = linkedin_activity_page(author, handle, fragment)
                    responses[f"/linkedin/in/{handle}/recent-activity/all"] = _html(page, signed_in_only=True)
                else:
                    start = index * POSTS_PER_BATCH
                    responses[f"/linkedin/voyager/activity/{handle}/{start}"] = _html(fragment, signed_in_only=True)
        people = [(posts[0].author, handle) for handle, posts in profiles.items()]
        responses[_route(FEED_PATH)] = _html(linkedin_feed_page(people), signed_in_only=True)
        return responses

    def start(self) -> Self:
        """Listen on 127.0.0.1:port (0: a free port) and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"the sample site is already serving at {self.base_url}")
        try:
            server = _SampleServer((HOST, self._requested_port), _SampleHandler)
        except OSError as error:
            raise OSError(
                f"the sample site cannot listen on {HOST}:{self._requested_port} ({error}); "
                "choose another port, or 0 for a free one"
            ) from error
        server.site = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sample-site", daemon=True
        )
        self._thread.start()
        logger.info(
            "Sample site serving {} articles, {} posts at {}",
            len(self.corpus.articles),
            len(self.corpus.posts),
            self.base_url,
        )
        return self

    def stop(self) -> None:
        """Stop serving and free the port; does nothing when the site is not running."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None
        with self._lock:
            self._sessions.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the running site listens on."""
        if self._server is None:
            raise RuntimeError("the sample site is not running; call start() first")
        port: int = self._server.server_address[1]
        return port

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT of the running site."""
        return f"http://{HOST}:{self.port}"

    @property
    def routes(self) -> dict[str, str]:
        """{"127.0.0.1:PORT/path": crawler kind}: the ETL config `routes` that send the site's pages to the crawlers
        of the platforms they imitate (blog pages need none: the fallback article crawler takes them)."""
        host = f"{HOST}:{self.port}"
        return {f"{host}/medium": "medium", f"{host}/substack": "substack", f"{host}/linkedin": "linkedin"}

    @property
    def linkedin_login_url(self) -> str:
        """The sign-in page, for the crawler option linkedin_login_url."""
        return self.base_url + LOGIN_PATH

    def links_for(self, full_name: str) -> list[str]:
        """Every link an ETL config of this author lists: article pages, one LinkedIn profile, GitHub repositories."""
        name = " ".join(full_name.split())
        if name not in self.corpus.authors:
            raise KeyError(f"{full_name!r} is not an author of the sample corpus; its authors: {self.corpus.authors}")
        links = [self.base_url + article.path for article in self.corpus.articles if article.author == name]
        handles = dict.fromkeys(post.handle for post in self.corpus.posts if post.author == name)
        links += [f"{self.base_url}/linkedin/in/{handle}/" for handle in handles]
        links += [repository.link for repository in self.corpus.repositories if repository.author == name]
        return links

    @staticmethod
    def git_mirrors(directory: Path) -> dict[str, str]:
        """The crawler option git_mirrors that clones GitHub links from a mirror written by write_git_mirror()."""
        return {GITHUB_PREFIX: directory.expanduser().resolve().as_uri() + "/"}

    def write_git_mirror(self, directory: Path) -> Path:
        """Write each corpus repository as a one-commit git repository at directory/OWNER/REPO; returns the
        absolute directory. Commits have fixed authors and dates, so the same corpus gives the same commits."""
        root = directory.expanduser().resolve()
        for repository in self.corpus.repositories:
            _write_repository(root / repository.mirror_path, repository)
        logger.info("Wrote {} repositories as git repositories under {}", len(self.corpus.repositories), root)
        return root

    def _signed_in(self, handler: BaseHTTPRequestHandler) -> bool:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(handler.headers.get("Cookie", ""))
        except CookieError:
            return False
        session = cookies.get(SESSION_COOKIE)
        with self._lock:
            return session is not None and session.value in self._sessions

    def _answer_get(self, handler: BaseHTTPRequestHandler) -> None:
        path = _route(urlsplit(handler.path).path)
        if path == LOGIN_PATH:
            self._send(handler, HTTPStatus.OK, _html(linkedin_login_page()))
            return
        response = self._responses.get(path)
        if response is None:
            self._send(handler, HTTPStatus.NOT_FOUND, _html(NOT_FOUND_PAGE))
        elif response.signed_in_only and not self._signed_in(handler):
            self._redirect(handler, HTTPStatus.FOUND, LOGIN_PATH)
        else:
            self._send(handler, HTTPStatus.OK, response)

    def _answer_post(self, handler: BaseHTTPRequestHandler) -> None:
        if _route(urlsplit(handler.path).path) != LOGIN_PATH:
            self._send(handler, HTTPStatus.NOT_FOUND, _html(NOT_FOUND_PAGE))
            return
        try:
            length = int(handler.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_FORM_BYTES:
            self._send(handler, HTTPStatus.BAD_REQUEST, _html(linkedin_login_page("The form could not be read.")))
            return
        form = parse_qs(handler.rfile.read(length).decode("utf-8", errors="replace"))
        username = form.get("session_key", [""])[0].strip()
        password = form.get("session_password", [""])[0]
        if not username or not password:
            page = linkedin_login_page("Please enter an email address or phone number, and a password.")
            self._send(handler, HTTPStatus.OK, _html(page))
            return
        session = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions.add(session)
        logger.debug("sample site: signed in {!r}", username)
        handler.send_response(HTTPStatus.SEE_OTHER)
        handler.send_header("Location", FEED_PATH)
        handler.send_header("Set-Cookie", f"{SESSION_COOKIE}={session}; Path=/linkedin; HttpOnly; SameSite=Lax")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: HTTPStatus, response: _Response) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(response.body)))
        if response.content_type.startswith("text/html"):
            handler.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if response.signed_in_only:
            handler.send_header("Cache-Control", "private, no-store")
        handler.end_headers()
        handler.wfile.write(response.body)

    @staticmethod
    def _redirect(handler: BaseHTTPRequestHandler, status: HTTPStatus, location: str) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def _write_repository(target: Path, repository: SampleRepository) -> None:
    if target.exists():
        if not (target / ".git" / MIRROR_MARKER).is_file():
            raise FileExistsError(
                f"{target} exists and is not a sample-site mirror; remove it or write the mirror to another directory"
            )
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for relative, text in repository.files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, not text mode: line endings and trailing whitespace stay exactly as in the corpus.
        path.write_bytes(text.encode("utf-8"))
    name = repository.author
    email = f"{repository.mirror_path.split('/')[0]}@users.noreply.github.com"
    when = f"{int(repository.committed.timestamp())} +0000"
    # The user's git configuration (hooks, signing, autocrlf, templates) must not change what is committed.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_AUTHOR_DATE=when,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_COMMITTER_DATE=when,
    )
    _git(target, env, "init", "--quiet", "--initial-branch=main")
    (target / ".git" / MIRROR_MARKER).write_text(f"{repository.link}\n", encoding="utf-8")
    _git(target, env, "add", "--all", "--force")
    _git(
        target,
        env,
        "commit",
        "--quiet",
        "--no-verify",
        "--allow-empty",
        "--message",
        f"{repository.name}: sample corpus snapshot",
    )


def _git(repository: Path, env: Mapping[str, str], *args: str) -> None:
    command = ["git", "-C", str(repository), "-c", "core.autocrlf=false", *args]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise RuntimeError("git is not installed; install git to write the sample repositories") from error
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"`git {args[0]}` in {repository} took longer than {GIT_TIMEOUT_S:g}s") from error
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise RuntimeError(f"`git {args[0]}` failed in {repository}: {detail}")
