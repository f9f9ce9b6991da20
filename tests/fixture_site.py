"""The crawlers' outside world for tests: a local web site (Medium-, Substack- and LinkedIn-like pages, a blog, the
bad cases) and a local git "github.com"."""

import os
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

MEDIUM_PATH = "/medium/@maya-okafor/point-in-time-joins-leaked-the-future-cf2a449eba7b"
SUBSTACK_PATH = "/substack/p/data-contracts-are-just-good-manners"
BLOG_PATH = "/blog/your-notebook-is-not-a-pipeline"
REDIRECT_PATH = "/blog/old-address"
REDIRECT_TO_FILE_PATH = "/blog/attachment"
REDIRECT_LOOP_PATH = "/blog/loop"
DISALLOWED_PATH = "/private/drafts/next-post"
SLOW_PATH = "/slow"
HUGE_PATH = "/huge"
PDF_PATH = "/report.pdf"
FLAKY_PATH = "/flaky"
LINKEDIN_LOGIN_PATH = "/linkedin/login"
LINKEDIN_PROFILE_PATH = "/linkedin/in/maya-okafor"
LINKEDIN_ACTIVITY_PATH = "/linkedin/in/maya-okafor/recent-activity/all"
LINKEDIN_USERNAME = "maya.okafor@example.com"
LINKEDIN_PASSWORD = "correct horse battery staple"
SLOW_SECONDS = 3.0
HUGE_BYTES = 3 * 1024 * 1024
_SESSION_COOKIE = "li_at=fixture-session-7f3a"

ROBOTS_TXT = """User-agent: *
Disallow: /private/

User-agent: GreedyBot
Disallow: /
"""

# Medium's markup: atomic CSS classes, the story inside <article><section>, chrome all around it.
MEDIUM_STORY = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Point-in-time joins leaked the future | by Maya Okafor | Medium</title>
<meta name="description" content="Six weeks of great offline metrics, and the join that explained them.">
<meta property="og:site_name" content="Medium">
<script>window.__APOLLO_STATE__ = {"viewer": null};</script>
</head><body>
<div id="root"><div class="a b c">
<div class="s t u"><nav class="ak al am"><a href="/">Medium</a> <a href="/search">Search</a>
<a href="/new-story">Write</a> <a href="/m/signin">Sign up</a> <a href="/m/signin">Sign in</a></nav></div>
<div class="l"><main class="q r"><article><div class="l"><div class="l"><section><div><div class="gn go gp gq gr"></div>
<div class="ab ca"><div class="ch bg ew ex ey ez">
<div><h1 id="7a1c" class="pw-post-title gu gv gw bf gx gy gz" data-testid="storyTitle"
 data-selectable-paragraph="">Point-in-time joins leaked the future</h1></div>
<div><h2 id="b3d2" class="pw-subtitle-paragraph hp hq hr bf b hs ht">Six weeks of great offline metrics,
 and the join that explained them</h2></div>
<div class="speechify-ignore ab cp"><div class="speechify-ignore bh l"><div class="ib ic id ie if ab">
<div><a href="/@maya-okafor" rel="noopener follow"><img alt="Maya Okafor" class="l eu by ig ih cx"
 src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="44" height="44"></a></div>
<div class="bm bg l"><p class="bf b bg z ba"><a href="/@maya-okafor">Maya Okafor</a></p>
<span><button class="bf b bg z ji">Follow</button></span></div>
<span class="bf b bg z du" data-testid="storyReadTime">7 min read</span><span>·</span>
<span data-testid="storyPublishDate">Mar 3, 2024</span></div></div>
<div class="ab cp kl km"><div data-testid="headerClapButton"><button aria-label="clap">
<svg width="24" height="24"></svg></button><p class="bf b dv z du">1.2K</p></div>
<div><button aria-label="responses"><svg width="24" height="24"></svg></button><p>18</p></div>
<button data-testid="audioPlayButton" class="af fj ah">Listen</button>
<button data-testid="headerSocialShareButton">Share</button></div></div>
<p id="11d0" class="pw-post-body-paragraph mj mk gw ml b mm mn" data-selectable-paragraph="">For six weeks our
 churn model looked <strong class="ml gx">better offline than anything</strong> we had shipped. Then it went live
 and did worse than the rule it replaced.</p>
<p id="31a7" class="pw-post-body-paragraph mj mk gw ml b mm mn" data-selectable-paragraph="">The cause was a join.
 Every training row picked up the <em class="no">latest</em> feature values, including ones written after the
 event we were predicting. The model learned to read the future, and the future is not available at serving time.</p>
<h1 id="4c2e" class="np nq gw bf nr ns nt" data-selectable-paragraph="">What an as-of join does</h1>
<p id="5f90" class="pw-post-body-paragraph mj mk gw ml b mm mn" data-selectable-paragraph="">An as-of join
 attaches to each event the most recent feature row <code class="cw od oe of og b">at or before</code> the
 event's timestamp, per entity:</p>
<pre class="oj ok ol om on os ot ou ov ow ox oq bj"><span id="4e1a" class="oy ls ge oz b bf pa pb l pc pd"
 data-code-block-mode="2" spellcheck="false" data-code-block-lang="python"><span class="hljs-keyword">def</span> \
<span class="hljs-title function_">as_of_join</span>(<span class="hljs-params">events, features</span>):<br/>\
    <span class="hljs-comment"># Each event joined to the latest feature row at or before it.</span><br/>\
    features = features.sort_values(<span class="hljs-string">"ts"</span>)<br/><br/>\
    <span class="hljs-keyword">return</span> pd.merge_asof(<br/>\
        events.sort_values(<span class="hljs-string">"ts"</span>),<br/>\
        features,<br/>\
        on=<span class="hljs-string">"ts"</span>,<br/>\
        by=<span class="hljs-string">"user_id"</span>,<br/>\
        direction=<span class="hljs-string">"backward"</span>,<br/>\
    )</span></pre>
<h2 id="8a0b" class="pe nq gw bf nr pf" data-selectable-paragraph="">Three checks we now run</h2>
<ul class=""><li id="9b1c" class="mj mk gw ml b mm pg mo ph" data-selectable-paragraph="">Every feature row
 carries the time it became known, not just the time it describes.</li>
<li id="a2d3" class="mj mk gw ml b mm pl mo pm" data-selectable-paragraph="">Training sets are built by the
 same as-of join the online store answers with.</li>
<li id="b4e5" class="mj mk gw ml b mm pl mo pm" data-selectable-paragraph="">A canary feature holding the
 label itself must score as useless; if it helps, something leaks.</li></ul>
<figure class="pq pr ps pt pu pv"><div class="pw px"><img alt="" class="bh lq qa" width="700" height="394"
 src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></div><figcaption class="qb ff qc">Offline AUC against
 online lift, week by week.</figcaption></figure>
<blockquote class="qd qe qf"><p id="c6f7" class="pw-post-body-paragraph mj mk gw ml b mm" data-selectable-paragraph="">
If a feature looks too good, ask when its value was written.</p></blockquote>
<p id="d8a9" class="pw-post-body-paragraph mj mk gw ml b mm mn" data-selectable-paragraph="">None of this is
 exotic. It is bookkeeping about time, and bookkeeping is where models quietly go wrong.</p>
<div id="lazy-tail"></div>
</div></div></section></div></div>
<div class="ab ca"><div class="ch bg ew"><div class="qg qh ab"><a href="/tag/machine-learning">Machine Learning</a>
<a href="/tag/feature-store">Feature Store</a><a href="/tag/mlops">Mlops</a></div>
<div data-testid="footerClapButton"><button aria-label="clap"><svg></svg></button><p>1.2K</p></div></div></div>
</article>
<div class="rb rc"><h2 class="bf kw">Written by Maya Okafor</h2><p>2.4K Followers</p>
<p>ML platform engineer. Writes about the boring parts that decide whether models work.</p></div>
<div class="rd re"><h2 class="bf kw">More from Maya Okafor</h2>
<div><a href="/@maya-okafor/reading-a-gpu-bill-like-a-detective"><h2>Reading a GPU bill like a detective</h2>
<p>Where forty percent of the spend hid.</p></a></div></div>
<div class="rf rg"><h2 class="bf kw">Recommended from Medium</h2>
<div><a href="/@someone/ten-python-tricks"><h2>Ten Python tricks you did not need</h2>
<p>Number seven will not surprise you.</p></a></div></div>
</main></div>
<footer class="sa sb"><a href="https://help.medium.com">Help</a> <a href="/status">Status</a>
<a href="/about">About</a> <a href="/jobs">Careers</a> <a href="/privacy">Privacy</a> <a href="/terms">Terms</a>
<a href="/text-to-speech">Text to speech</a></footer>
</div></div>
<div id="signup-overlay"></div>
<script>
document.getElementById("signup-overlay").innerHTML =
  "<div role='dialog'><h2>Sign up to discover human stories that deepen your understanding.</h2></div>";
var tail = document.createElement("p");
tail.className = "pw-post-body-paragraph mj mk gw ml b mm mn";
tail.textContent = "Thanks to the on-call team, who found the leak before I did.";
document.getElementById("lazy-tail").appendChild(tail);
</script>
</body></html>
"""

MEDIUM_CODE = """def as_of_join(events, features):
    # Each event joined to the latest feature row at or before it.
    features = features.sort_values("ts")

    return pd.merge_asof(
        events.sort_values("ts"),
        features,
        on="ts",
        by="user_id",
        direction="backward",
    )"""

SUBSTACK_POST = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Data contracts are just good manners - by Theo Brandt - Theo's Data Notes</title>
<meta name="description" content="A schema is a promise. Treat it like one.">
<meta property="og:title" content="Data contracts are just good manners">
<meta property="og:description" content="A schema is a promise. Treat it like one.">
<meta property="og:type" content="article">
<meta name="author" content="Theo Brandt">
<meta property="article:published_time" content="2024-05-14T08:00:00+00:00">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Data contracts are just good manners","description":"A schema is a promise. Treat it like one.",
"author":[{"@type":"Person","name":"Theo Brandt"}],"datePublished":"2024-05-14T08:00:00+00:00"}</script>
</head><body>
<div class="main-menu"><div class="topbar-content"><a class="navbar-title-link" href="/">Theo's Data Notes</a>
<div class="navbar-buttons"><button class="button primary">Subscribe</button><button class="button">Sign in</button>
</div></div></div>
<div class="single-post-container"><div class="container"><div class="single-post">
<article class="typography newsletter-post post">
<div class="post-header"><h1 class="post-title published" dir="auto">Data contracts are just good manners</h1>
<h3 class="subtitle" dir="auto">A schema is a promise. Treat it like one.</h3>
<div class="post-meta"><div class="profile-hover-card-target"><a href="https://substack.com/@theobrandt">Theo Brandt</a>
</div><div class="post-date">May 14, 2024</div>
<div class="post-ufi"><button class="like-button">42</button><button class="comment-button">9</button>
<button class="share-button">Share</button></div></div></div>
<div class="available-content"><div dir="auto" class="body markup">
<p>Every data team I have worked with has a story about the column that changed type on a Friday. An upstream
 service renamed <code>customer_id</code> to <code>account_id</code>, nobody downstream was told, and a dashboard
 quietly showed zero revenue for a weekend.</p>
<p>A data contract is the boring fix: the producer writes down what it emits, and a check in its own CI refuses a
 change that breaks the promise. No committee, no catalogue, just a test that runs where the change is made.</p>
<h2 class="header-anchor-post">What goes in the contract</h2>
<ul><li><p>The columns, their types, and which ones may be null.</p></li>
<li><p>What a row means, in one sentence a new hire can read.</p></li>
<li><p>Who to ask, and how much notice a breaking change gets.</p></li></ul>
<pre><code>columns:
  account_id:
    type: string
    nullable: false
  signed_up_at:
    type: timestamp
    nullable: false</code></pre>
<p>The check itself is twenty lines. The hard part was agreeing that the producer owns it, because that is where
 the knowledge lives and where the change is cheapest to stop.</p>
<blockquote><p>Consumers can ask for a contract. Only producers can keep one.</p></blockquote>
<p>We rolled this out one table at a time, starting with the three that had broken most often. Six months later,
 the Friday column change is a failed build instead of a lost weekend.</p>
</div></div>
<div class="subscription-widget-wrap"><div class="subscription-widget show-subscribe">
<div class="preamble"><p class="cta-caption">Thanks for reading Theo's Data Notes! Subscribe for free to receive new
 posts and support my work.</p></div><form class="form"><input type="email" placeholder="Type your email...">
<button type="submit">Subscribe</button></form></div></div>
</article>
<div class="post-footer"><button class="like-button">42</button><button class="share-button">Share</button></div>
</div></div></div>
<div class="comments-section"><h4>Discussion about this post</h4>
<div class="comment"><span class="commenter-name">Ana</span><p>We did the same with protobuf schemas.</p></div></div>
<div class="footer-wrap"><div class="footer">© 2024 Theo Brandt · <a href="/privacy">Privacy</a> ∙
 <a href="/tos">Terms</a> ∙ <a href="/collection">Collection notice</a>
<a href="https://substack.com/signup">Start Writing</a> <a href="https://substack.com/app">Get the app</a>
<p>Substack is the home for great culture</p></div></div>
</body></html>
"""

BLOG_ARTICLE = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>Your notebook is not a pipeline · Theo Brandt</title>
<meta name="description" content="Notebooks are for thinking. Schedules are for modules.">
</head><body>
<header class="site-header"><a class="site-title" href="/">Theo Brandt</a>
<nav><ul><li><a href="/blog">Blog</a></li><li><a href="/talks">Talks</a></li><li><a href="/about">About</a></li>
</ul></nav></header>
<div class="layout"><aside class="sidebar"><h3>Recent posts</h3><ul><li><a href="/blog/airflow-or-dagster">Airflow
 or Dagster?</a></li><li><a href="/blog/dead-dashboards">Dead dashboards</a></li></ul>
<h3>Newsletter</h3><p>Get new posts by email, about once a month.</p></aside>
<main><article class="post">
<h1 class="post-title">Your notebook is not a pipeline</h1>
<p class="post-meta">Published 2 October 2024 · 4 minute read</p>
<p>A notebook that cron runs every night is not a pipeline. It has hidden state, cells that only work in one order,
 and outputs committed to git that nobody meant to publish.</p>
<p>Notebooks are wonderful for exploring a dataset and showing your reasoning to a colleague. The moment other
 people depend on the result, the code belongs in a module with functions, arguments and a test.</p>
<h2>The afternoon it takes</h2>
<ol><li>Move each cell that computes something into a function.</li>
<li>Give the function its inputs as arguments instead of globals.</li>
<li>Write one test that runs it on ten rows.</li></ol>
<pre><code class="language-python">def daily_active_users(events):
    active = events[events["kind"] == "session_start"]
    return active.groupby(active["ts"].dt.date)["user_id"].nunique()
</code></pre>
<p>It takes an afternoon. The page at two in the morning that it prevents takes much longer.</p>
</article></main></div>
<footer class="site-footer"><p>© 2024 Theo Brandt. Built with a static site generator and too much coffee.</p>
<p><a href="/feed.xml">RSS</a> · <a href="https://example.org/@theo">Mastodon</a></p></footer>
</body></html>
"""

BLOG_CODE = """def daily_active_users(events):
    active = events[events["kind"] == "session_start"]
    return active.groupby(active["ts"].dt.date)["user_id"].nunique()"""

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>LinkedIn Login, Sign in | LinkedIn</title></head><body>
<main class="app__content"><div class="header__content"><h1>Sign in</h1>
<p>Stay updated on your professional world</p></div>{error}
<form class="login__form" action="/linkedin/login" method="post" novalidate>
<div class="form__input--floating"><input id="username" name="session_key" type="email" autocomplete="username">
<label for="username">Email or Phone</label></div>
<div class="form__input--floating"><input id="password" name="session_password" type="password">
<label for="password">Password</label></div>
<div class="login__form_action_container"><button class="btn__primary--large from__button--floating"
 type="submit" aria-label="Sign in">Sign in</button></div></form></main></body></html>
"""

FEED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Feed | LinkedIn</title></head><body>
<header class="global-nav"><a href="/feed/">Home</a> <a href="/mynetwork/">My Network</a></header>
<main><h1>Start a post</h1></main></body></html>
"""


def _linkedin_post(urn: str, text_html: str, image: str | None = None, reshared: str = "") -> str:
    image_html = (
        f'<div class="update-components-image"><img class="update-components-image__image" src="{image}"'
        ' alt="Image"></div>'
        if image
        else ""
    )
    return f"""<div class="feed-shared-update-v2" data-urn="{urn}" role="article" style="min-height: 700px">
<div class="update-components-actor"><span class="update-components-actor__name"><span aria-hidden="true">Maya
 Okafor</span><span class="visually-hidden">View Maya Okafor's profile</span></span>
<span class="update-components-actor__sub-description">1w • Edited</span></div>
<div class="feed-shared-update-v2__description-wrapper"><div class="update-components-text relative">
<span class="break-words"><span dir="ltr">{text_html}</span></span></div>
<button class="feed-shared-inline-show-more-text__see-more-less-toggle">…see more</button></div>
{image_html}{reshared}
<div class="social-details-social-counts"><span class="social-details-social-counts__reactions-count">128</span>
<span>14 comments</span></div>
<div class="feed-shared-social-action-bar"><button>Like</button><button>Comment</button><button>Repost</button>
<button>Send</button></div></div>"""


LINKEDIN_POSTS = [
    _linkedin_post(
        "urn:li:activity:7290114862035712001",
        "Our drift alerts fired 212 times last quarter. Eleven of them mattered.<br><br>"
        "We now give every monitor an alert budget: if it cries wolf twice in a month, it gets retuned or deleted."
        "<br><br><a href='/feed/hashtag/mlops'>#mlops</a>",
    ),
    _linkedin_post(
        "urn:li:activity:7335529017664348160",
        "We cut our GPU bill by 38% without touching a single model.<br><br>Idle notebooks were 19% of the spend.",
        image="/linkedin/media/gpu-spend-breakdown.jpg",
        reshared=(
            '<div class="feed-shared-update-v2__reshared" data-urn="urn:li:activity:7335000000000000001">'
            '<div class="update-components-text"><span class="break-words">The original post being shared.</span>'
            "</div></div>"
        ),
    ),
]
LINKEDIN_MORE_POSTS = [
    _linkedin_post(
        "urn:li:activity:7216830457129881600",
        "I wrote a tiny feature store to understand point-in-time joins. 300 lines, one test file.",
        image="/linkedin/media/tiny-feature-store.jpg",
    ),
    _linkedin_post(
        "urn:li:activity:7165948203716554752",
        "Six weeks of leaking the future: the post-mortem is up. The fix was a join, not a model.",
    ),
]
LINKEDIN_POST_COUNT = len(LINKEDIN_POSTS) + len(LINKEDIN_MORE_POSTS)

ACTIVITY_PAGE = (
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Activity | Maya Okafor | LinkedIn</title></head><body>
<header class="global-nav"><a href="/feed/">Home</a> <a href="/mynetwork/">My Network</a> <a href="/jobs/">Jobs</a>
<a href="/messaging/">Messaging</a></header>
<main class="scaffold-layout__main"><h2>All activity</h2><div id="feed">"""
    + "".join(LINKEDIN_POSTS)
    + """</div><div class="scaffold-finite-scroll__load-button"></div></main>
<aside class="msg-overlay-list-bubble"><p>Messaging</p><p>You have 3 unread messages</p></aside>
<script>
var more = """
    + repr("".join(LINKEDIN_MORE_POSTS)).replace("\\n", " ")
    + """;
var loaded = false;
window.addEventListener("scroll", function () {
  if (loaded || window.innerHeight + window.scrollY < document.body.scrollHeight - 50) { return; }
  loaded = true;
  setTimeout(function () { document.getElementById("feed").insertAdjacentHTML("beforeend", more); }, 150);
});
</script></body></html>
"""
)

NOT_FOUND_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Not found</title></head>
<body><h1>404</h1><p>There is nothing here.</p></body></html>
"""


@dataclass(frozen=True)
class Page:
    content_type: str
    body: bytes


def html(text: str) -> Page:
    return Page("text/html; charset=utf-8", text.encode("utf-8"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Do not wait for the slow page's sleeping handler when the test ends.
    block_on_close = False
    site: "FixtureSite"

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out close the connection mid-response; that is the point of the slow page.
        return


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.server.site.handle_get(self)

    def do_POST(self) -> None:
        self.server.site.handle_post(self)


class FixtureSite:
    """The site on 127.0.0.1 in a background thread; pages can be changed while it runs."""

    def __init__(self) -> None:
        self._pages: dict[str, Page] = {
            MEDIUM_PATH: html(MEDIUM_STORY),
            SUBSTACK_PATH: html(SUBSTACK_POST),
            BLOG_PATH: html(BLOG_ARTICLE),
            DISALLOWED_PATH: html(BLOG_ARTICLE),
            FLAKY_PATH: html(BLOG_ARTICLE),
            SLOW_PATH: html(BLOG_ARTICLE),
            PDF_PATH: Page("application/pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
            "/robots.txt": Page("text/plain; charset=utf-8", ROBOTS_TXT.encode()),
            LINKEDIN_LOGIN_PATH: html(LOGIN_PAGE.format(error="")),
            "/linkedin/feed": html(FEED_PAGE),
            LINKEDIN_ACTIVITY_PATH: html(ACTIVITY_PAGE),
        }
        self._hits: Counter[str] = Counter()
        self._user_agents: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        # A short poll interval: shutdown() waits for the next poll, and every test stops the site.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fixture-site", daemon=True
        )

    @classmethod
    def start(cls) -> "FixtureSite":
        site = cls()
        site._thread.start()
        return site

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host_port}{path}"

    def set_page(self, path: str, text: str) -> None:
        with self._lock:
            self._pages[path] = html(text)

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]

    def user_agents(self) -> list[str]:
        """The User-Agent header of every GET so far, in order."""
        with self._lock:
            return list(self._user_agents)

    def handle_get(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path.rstrip("/") or "/"
        with self._lock:
            self._user_agents.append(handler.headers.get("User-Agent", ""))
            self._hits[path] += 1
            hits = self._hits[path]
            page = self._pages.get(path)
        if path == REDIRECT_PATH:
            self._redirect(handler, HTTPStatus.MOVED_PERMANENTLY, BLOG_PATH)
        elif path == REDIRECT_TO_FILE_PATH:
            self._redirect(handler, HTTPStatus.FOUND, "file:///etc/passwd")
        elif path == REDIRECT_LOOP_PATH:
            self._redirect(handler, HTTPStatus.FOUND, REDIRECT_LOOP_PATH)
        elif path == FLAKY_PATH and hits == 1:
            self._send(handler, HTTPStatus.SERVICE_UNAVAILABLE, html("<h1>Service Unavailable</h1>"))
        elif path == SLOW_PATH:
            time.sleep(SLOW_SECONDS)
            self._send(handler, HTTPStatus.OK, html(BLOG_ARTICLE))
        elif path == HUGE_PATH:
            self._send_huge(handler)
        elif path.startswith("/linkedin/media/"):
            self._send(handler, HTTPStatus.OK, Page("image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
        elif path in {LINKEDIN_ACTIVITY_PATH, "/linkedin/feed"} and _SESSION_COOKIE not in handler.headers.get(
            "Cookie", ""
        ):
            self._redirect(handler, HTTPStatus.FOUND, LINKEDIN_LOGIN_PATH)
        elif page is None:
            self._send(handler, HTTPStatus.NOT_FOUND, html(NOT_FOUND_PAGE))
        else:
            self._send(handler, HTTPStatus.OK, page)

    def handle_post(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        form = parse_qs(handler.rfile.read(length).decode("utf-8"))
        valid = form.get("session_key") == [LINKEDIN_USERNAME] and form.get("session_password") == [LINKEDIN_PASSWORD]
        if urlsplit(handler.path).path != LINKEDIN_LOGIN_PATH or not valid:
            error = '<div id="error-for-password" role="alert">Wrong email or password. Try again.</div>'
            self._send(handler, HTTPStatus.OK, html(LOGIN_PAGE.format(error=error)))
            return
        handler.send_response(HTTPStatus.SEE_OTHER)
        handler.send_header("Location", "/linkedin/feed")
        handler.send_header("Set-Cookie", f"{_SESSION_COOKIE}; Path=/; HttpOnly")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @staticmethod
    def _send(handler: _Handler, status: HTTPStatus, page: Page) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", page.content_type)
        handler.send_header("Content-Length", str(len(page.body)))
        handler.end_headers()
        handler.wfile.write(page.body)

    @staticmethod
    def _redirect(handler: _Handler, status: HTTPStatus, location: str) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @staticmethod
    def _send_huge(handler: _Handler) -> None:
        # No Content-Length: the crawler can only find out by counting what it reads.
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        handler.wfile.write(b"<!DOCTYPE html><html><body><article>")
        paragraph = b"<p>" + b"All work and no play makes a very long page. " * 20 + b"</p>\n"
        for _ in range(HUGE_BYTES // len(paragraph) + 1):
            handler.wfile.write(paragraph)
        handler.wfile.write(b"</article></body></html>")


def medium_story_with(paragraph: str) -> str:
    """The Medium story with its closing paragraph replaced: the same link, changed content."""
    return MEDIUM_STORY.replace("None of this is\n exotic.", paragraph + " None of this is\n exotic.")


def blog_article_with(paragraph: str) -> str:
    """The blog article with one more paragraph at the end of its body."""
    return BLOG_ARTICLE.replace("</article>", f"<p>{paragraph}</p>\n</article>")


TINY_FEATURE_STORE_LINK = "https://github.com/mayaokafor/tiny-feature-store"
STORE_PY = 'class Store:\n\t"""Tabs, CRLF and trailing spaces are kept."""   \r\n    pass\n'


def _git(cwd: Path, *args: str) -> None:
    identity = {"GIT_AUTHOR_NAME": "Maya Okafor", "GIT_AUTHOR_EMAIL": "maya@example.com"}
    identity.update(GIT_COMMITTER_NAME="Maya Okafor", GIT_COMMITTER_EMAIL="maya@example.com")
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **identity}, check=True, capture_output=True)


def make_git_mirror(root: Path) -> Path:
    """A local stand-in for github.com under root: mayaokafor/tiny-feature-store, two commits of typical clutter."""
    repository = root / "mayaokafor" / "tiny-feature-store"
    files: dict[str, bytes] = {
        "tiny_feature_store/store.py": STORE_PY.encode(),
        "README.md": b"# tiny-feature-store\n\nPoint-in-time joins in 300 lines.\n",
        "docs/diagram.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "package-lock.json": b'{"lockfileVersion": 3}\n',
        "poetry.lock": b"[[package]]\nname = 'pandas'\n",
        "vendor/six.py": b"# vendored copy\n",
        "data/big_fixture.csv": b"id,value\n" + b"1,2\n" * 100_000,
    }
    for relative, data in files.items():
        path = repository / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    _git(repository, "init", "--quiet", "--initial-branch=main")
    _git(repository, "add", "--all")
    _git(repository, "commit", "--quiet", "--message", "First version")
    (repository / "tiny_feature_store" / "pit.py").write_text("def as_of(frame):\n    return frame\n")
    _git(repository, "add", "--all")
    _git(repository, "commit", "--quiet", "--message", "Add as-of joins")
    return root
