import pytest

from llm_engineering.application.crawlers.medium import extract_medium_story
from llm_engineering.domain.exceptions import CrawlError
from tests.crawl_site import MEDIUM, article_page, fenced_code

# The sample site's page of a corpus story (data/sample): the story inside <article><section>, chrome all around it.
MEDIUM_STORY = article_page(MEDIUM)
[(MEDIUM_LANGUAGE, MEDIUM_CODE)] = fenced_code(MEDIUM.markdown)
CHROME = [
    "Sign in",
    "Follow",
    "min read",
    "Feb 13, 2024",
    "1145",
    "Listen",
    "Share",
    "Written by",
    "Followers",
    "More from Maya Okafor",
    "Reading a GPU Bill Like a Detective",
    "Careers",
    "Text to speech",
]
# What Medium's own markup has and the sample site's simpler pages lack: section headings as <h1>, code blocks as
# highlighted spans with <br> line breaks, figures with captions, pull quotes.
MEDIUM_MARKUP = """<html><body><article><section><h1 class="pw-post-title">Point-in-time joins</h1>
<h1 class="np nq gw">What an as-of join does</h1>
<pre class="oj ok"><span class="oy ls" data-code-block-lang="python"><span class="hljs-keyword">def</span> \
<span class="hljs-title">f</span>(events):<br/>    <span class="hljs-comment"># the latest row</span><br/><br/>\
    <span class="hljs-keyword">return</span> events</span></pre>
<figure><img alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><figcaption>Offline AUC against online lift.\
</figcaption></figure>
<blockquote><p>If a feature looks too good, ask when its value was written.</p></blockquote>
</section></article></body></html>"""


def test_title_subtitle_and_body_are_extracted() -> None:
    story = extract_medium_story(MEDIUM_STORY)
    assert story["title"] == MEDIUM.title == "Point-in-Time Joins, or How We Leaked the Future for Six Weeks"
    assert story["subtitle"] == MEDIUM.subtitle
    body = story["content"]
    assert body.startswith("## The symptom\n\nOur churn model looked wonderful offline. AUC of 0.91 on the holdout,")
    assert "## How the leak got in" in body
    assert "## The checks we added" in body
    assert "The training query was a plain left join on `customer_id`." in body
    assert "- A column in every training set recording `feature_time`, so anyone can compute the gap" in body
    assert body.endswith("Improvements of that size are usually bugs wearing a nice shirt.")


def test_code_blocks_keep_their_indentation_and_blank_lines() -> None:
    body = extract_medium_story(MEDIUM_STORY)["content"]
    assert "\n\n" in MEDIUM_CODE and "\n    " in MEDIUM_CODE
    assert f"```{MEDIUM_LANGUAGE}\n{MEDIUM_CODE}\n```" in body


def test_medium_s_own_markup_becomes_the_same_markdown() -> None:
    story = extract_medium_story(MEDIUM_MARKUP)
    assert story["content"] == (
        "## What an as-of join does\n\n"
        "```python\ndef f(events):\n    # the latest row\n\n    return events\n```\n\n"
        "> If a feature looks too good, ask when its value was written."
    )


@pytest.mark.parametrize("chrome", CHROME)
def test_page_chrome_stays_out_of_the_content(chrome: str) -> None:
    story = extract_medium_story(MEDIUM_STORY)
    assert chrome not in story["content"]
    assert story["title"] not in story["content"]


def test_a_page_without_a_story_is_a_crawl_error() -> None:
    with pytest.raises(CrawlError, match="no <article>"):
        extract_medium_story("<html><body><h1>Medium</h1><p>Sign in to continue.</p></body></html>")
    with pytest.raises(CrawlError, match="no title"):
        extract_medium_story("<html><body><article><p>Text without a title.</p></article></body></html>")
    with pytest.raises(CrawlError, match="empty body"):
        extract_medium_story("<html><body><article><h1>Only a title</h1></article></body></html>")
