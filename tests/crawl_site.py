"""The crawler tests' outside world: the project's sample site (sample_site, serving data/sample) plus what it lacks.

The sample site serves the good pages: Medium, Substack and blog articles, LinkedIn's sign-in and activity feed,
and a git mirror standing in for github.com. CrawlSite adds only what crawler tests need on top of it: a log of the
requests, pages that change between two crawls, and the bad cases of the real web (redirects, a redirect loop and
one to a file, a slow, a huge and a flaky page, a PDF, and a path that robots.txt disallows). write_cluttered_mirror()
adds the clutter of real repositories (binaries, lock files, vendored code, a big data file, a second commit) to
the sample git mirror.
"""

import contextlib
import dataclasses
import json
import re
import subprocess
import threading
import time
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sample_site import SampleArticle, SampleCorpus, SamplePost, SampleSite
from sample_site.git_mirror import write_git_mirror
from sample_site.pages import LOGIN_PATH, blog_article_page, medium_story_page, substack_post_page

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
CORPUS = SampleCorpus.load(SAMPLE_DIR)


def corpus_article(link: str) -> SampleArticle:
    [article] = [article for article in CORPUS.articles if article.link == link]
    return article


MEDIUM = corpus_article("https://medium.com/@mayaokafor/point-in-time-joins-leaked-the-future-cf2a449eba7b")
SUBSTACK = corpus_article("https://theobrandt.substack.com/p/data-contracts-are-just-good-manners")
BLOG = corpus_article("https://theobrandt.dev/blog/your-notebook-is-not-a-pipeline")
# Theo Brandt's feed holds more posts than the activity page shows at first: the rest load on scrolling.
LINKEDIN_POSTS: list[SamplePost] = sorted(
    (post for post in CORPUS.posts if post.handle == "theobrandt"), key=lambda post: int(post.activity_id), reverse=True
)
LINKEDIN_PROFILE_PATH = "/linkedin/in/theobrandt/"
LINKEDIN_LOGIN_PATH = LOGIN_PATH
# The sample site signs in any account with a user name and a password; it refuses an empty password.
LINKEDIN_USERNAME = "reader@example.com"
LINKEDIN_PASSWORD = "correct horse battery staple"
[REPOSITORY] = [repository for repository in CORPUS.repositories if repository.name == "tiny-feature-store"]

# The bad cases, all under the sample site's own host and port.
REDIRECT_PATH = "/blog/theobrandt/old-address"
REDIRECT_TO_FILE_PATH = "/blog/theobrandt/attachment"
REDIRECT_LOOP_PATH = "/blog/theobrandt/loop"
DISALLOWED_PATH = "/private/drafts/next-post"
SLOW_PATH = "/slow"
HUGE_PATH = "/huge"
PDF_PATH = "/report.pdf"
FLAKY_PATH = "/flaky"
SLOW_SECONDS = 3.0
HUGE_BYTES = 3 * 1024 * 1024
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n"
_HTML = "text/html; charset=utf-8"
_FENCED_CODE = re.compile(r"^```(\w*)\n(.*?)\n```$", re.DOTALL | re.MULTILINE)


def article_page(article: SampleArticle) -> str:
    """The page of a corpus article as the sample site renders it (with the same siblings in its sidebars)."""
    siblings = [
        other
        for other in CORPUS.articles
        if other.platform == article.platform and other.handle == article.handle and other != article
    ]
    if article.platform == "medium":
        return medium_story_page(article, siblings[:3])
    if article.platform == "substack":
        return substack_post_page(article)
    return blog_article_page(article, siblings[:5])


def fenced_code(markdown: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced code block of a corpus article's markdown."""
    return [(language, code) for language, code in _FENCED_CODE.findall(markdown)]


def article_with(article: SampleArticle, paragraph: str) -> SampleArticle:
    """The article with one more paragraph at the end of its body: the same link, changed content."""
    return dataclasses.replace(article, markdown=article.markdown.rstrip("\n") + f"\n\n{paragraph}\n")


def with_script_written_paragraph(page: str, text: str) -> str:
    """A Medium story page whose last paragraph only a browser sees: a script writes it into the story body."""
    script = (
        '<script>var tail = document.createElement("p");'
        f"tail.textContent = {json.dumps(text)};"
        'document.querySelector(".story-body").appendChild(tail);</script>\n'
    )
    return page.replace("</body>", script + "</body>")


def _route(raw_path: str) -> str:
    return unquote(urlsplit(raw_path).path).rstrip("/") or "/"


def _send(handler: BaseHTTPRequestHandler, status: HTTPStatus, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _redirect(handler: BaseHTTPRequestHandler, status: HTTPStatus, location: str) -> None:
    handler.send_response(status)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _send_huge(handler: BaseHTTPRequestHandler) -> None:
    # No Content-Length: the crawler can only find out by counting what it reads.
    handler.send_response(HTTPStatus.OK)
    handler.send_header("Content-Type", _HTML)
    handler.end_headers()
    handler.wfile.write(b"<!DOCTYPE html><html><body><article>")
    paragraph = b"<p>" + b"All work and no play makes a very long page. " * 20 + b"</p>\n"
    for _ in range(HUGE_BYTES // len(paragraph) + 1):
        handler.wfile.write(paragraph)
    handler.wfile.write(b"</article></body></html>")


class CrawlSite(SampleSite):
    """The sample site on 127.0.0.1 with a request log, replaceable pages and the bad cases; start() it."""

    def __init__(self) -> None:
        super().__init__(SAMPLE_DIR)
        self._blog_page = article_page(BLOG).encode()
        self._replaced: dict[str, bytes] = {}
        self._hits: Counter[str] = Counter()
        self._user_agents: list[str] = []
        self._log_lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    def set_page(self, path: str, html: str) -> None:
        """Serve html at path from now on instead of the sample site's page."""
        with self._log_lock:
            self._replaced[_route(path)] = html.encode()

    def hits(self, path: str) -> int:
        with self._log_lock:
            return self._hits[_route(path)]

    def user_agents(self) -> list[str]:
        """The User-Agent header of every GET so far, in order."""
        with self._log_lock:
            return list(self._user_agents)

    def _answer_get(self, handler: BaseHTTPRequestHandler) -> None:
        path = _route(handler.path)
        with self._log_lock:
            self._user_agents.append(handler.headers.get("User-Agent", ""))
            self._hits[path] += 1
            hits = self._hits[path]
            replaced = self._replaced.get(path)
        if replaced is not None:
            _send(handler, HTTPStatus.OK, _HTML, replaced)
        elif path == "/robots.txt":
            _send(handler, HTTPStatus.OK, "text/plain; charset=utf-8", ROBOTS_TXT.encode())
        elif path == REDIRECT_PATH:
            _redirect(handler, HTTPStatus.MOVED_PERMANENTLY, BLOG.path)
        elif path == REDIRECT_TO_FILE_PATH:
            _redirect(handler, HTTPStatus.FOUND, "file:///etc/passwd")
        elif path == REDIRECT_LOOP_PATH:
            _redirect(handler, HTTPStatus.FOUND, REDIRECT_LOOP_PATH)
        elif path == FLAKY_PATH and hits == 1:
            _send(handler, HTTPStatus.SERVICE_UNAVAILABLE, _HTML, b"<h1>Service Unavailable</h1>")
        elif path == SLOW_PATH:
            time.sleep(SLOW_SECONDS)
            # The crawler has given up waiting by now, which is the point of the slow page.
            with contextlib.suppress(ConnectionError):
                _send(handler, HTTPStatus.OK, _HTML, self._blog_page)
        elif path in {FLAKY_PATH, DISALLOWED_PATH}:
            _send(handler, HTTPStatus.OK, _HTML, self._blog_page)
        elif path == HUGE_PATH:
            # The crawler hangs up once the page passes its byte cap.
            with contextlib.suppress(ConnectionError):
                _send_huge(handler)
        elif path == PDF_PATH:
            _send(handler, HTTPStatus.OK, "application/pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
        else:
            super()._answer_get(handler)


# Written into REPOSITORY by a second commit: text whose tabs, CRLF and trailing spaces must survive, and clutter
# the repository crawler must leave out (an image, lock files, vendored code, a file over the size cap).
KEPT_EXACTLY = {
    "tiny_feature_store/legacy.py": 'class Legacy:\n\t"""Tabs, CRLF and trailing spaces are kept."""   \r\n'
}
CLUTTER = {
    "docs/diagram.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "package-lock.json": b'{"lockfileVersion": 3}\n',
    "poetry.lock": b"[[package]]\nname = 'pandas'\n",
    "vendor/six.py": b"# vendored copy\n",
    "data/big_fixture.csv": b"id,value\n" + b"1,2\n" * 100_000,
}


def write_cluttered_mirror(directory: Path) -> Path:
    """The sample git mirror (a local github.com) under directory, REPOSITORY with a second commit of clutter."""
    root = write_git_mirror(CORPUS.repositories, directory)
    repository = root / REPOSITORY.mirror_path
    files = {**{path: text.encode() for path, text in KEPT_EXACTLY.items()}, **CLUTTER}
    for relative, data in files.items():
        path = repository / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    settings = ["user.name=Maya Okafor", "user.email=maya@example.com", "core.autocrlf=false", "commit.gpgsign=false"]
    git = ["git", "-C", str(repository), *(part for setting in settings for part in ("-c", setting))]
    for command in (["add", "--all", "--force"], ["commit", "--quiet", "--no-verify", "--message", "Add clutter"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    return root
