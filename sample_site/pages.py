"""The HTML of the imitated sites: Medium stories, Substack posts, blog articles and LinkedIn's pages."""

import json
import zlib
from collections.abc import Iterable
from datetime import datetime
from html import escape
from math import ceil

from markdown_it import MarkdownIt

from sample_site.corpus import SampleArticle, SamplePost

LOGIN_PATH = "/linkedin/login"
_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


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


def batch_html(posts: list[SamplePost], next_start: int) -> str:
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
