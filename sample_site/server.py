"""The sample site's HTTP server on 127.0.0.1: its routes, the LinkedIn sign-in and its session cookie."""

import secrets
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from loguru import logger

from sample_site.corpus import DEFAULT_DATA_DIR, SampleCorpus, SamplePost
from sample_site.git_mirror import git_mirrors, write_git_mirror
from sample_site.pages import (
    LOGIN_PATH,
    NOT_FOUND_PAGE,
    batch_html,
    blog_article_page,
    linkedin_activity_page,
    linkedin_feed_page,
    linkedin_login_page,
    linkedin_post_page,
    linkedin_profile_page,
    medium_story_page,
    substack_post_page,
)

HOST = "127.0.0.1"
FEED_PATH = "/linkedin/feed/"
SESSION_COOKIE = "li_at"
# The activity feed shows this many posts, then loads the next batch when the reader scrolls to the bottom.
POSTS_PER_BATCH = 10
MAX_FORM_BYTES = 16 * 1024
ROBOTS_TXT = "User-agent: *\nAllow: /\n"
# The pages name images on the real CDNs (as the corpus does); the browser must not try to fetch them offline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'"
)


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
                fragment = batch_html(batch, next_start)
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
        return git_mirrors(directory)

    def write_git_mirror(self, directory: Path) -> Path:
        """Write each corpus repository as a one-commit git repository at directory/OWNER/REPO; returns the
        absolute directory. Commits have fixed authors and dates, so the same corpus gives the same commits."""
        return write_git_mirror(self.corpus.repositories, directory)

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
