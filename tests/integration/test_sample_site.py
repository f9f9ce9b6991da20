"""The sample site: its routes, its git mirror, its CLI, and the real crawlers reading the corpus back from it."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.robotparser import RobotFileParser

import httpx
import pytest
from bs4 import BeautifulSoup

from llm_engineering.application.crawlers.article import extract_article
from llm_engineering.application.crawlers.linkedin import extract_linkedin_posts
from llm_engineering.application.crawlers.medium import extract_medium_story
from llm_engineering.application.crawlers.repository import read_repository_files
from llm_engineering.application.etl import crawl_links
from llm_engineering.bootstrap.crawling import build_crawler_dispatcher
from llm_engineering.domain.crawling import CrawlerKind, CrawlerOptions
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from sample_site import SampleSite
from tests.conftest import REPO_ROOT, SAMPLE_DIR, make_settings

# Theo Brandt has every kind of document: Medium, Substack and blog articles, LinkedIn posts, a repository.
AUTHOR = "Theo Brandt"
_FENCED_CODE = re.compile(r"^```(\w*)\n(.*?)\n```$", re.DOTALL | re.MULTILINE)
_FENCE_LANGUAGE = re.compile(r"```\w+")
_ACTIVITY_ID = re.compile(r"activity-(\d+)")


def corpus(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((SAMPLE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return records


def of_author(name: str, author: str) -> list[dict[str, Any]]:
    return [record for record in corpus(name) if record["author_full_name"] == author]


def words(text: str) -> str:
    """Whitespace-normalised words, without the marks the crawlers render differently: emphasis, inline-code
    backticks and a code fence's language."""
    return " ".join(_FENCE_LANGUAGE.sub("```", text).replace("*", "").replace("`", "").split())


def assert_same_article(crawled: dict[str, Any], expected: dict[str, Any], *, exact_code: bool) -> None:
    """Title and subtitle equal; the body has the corpus body's words, nothing else; headings and code survive."""
    assert crawled["title"] == expected["title"]
    assert crawled["subtitle"] == expected["subtitle"]
    body, source = crawled["content"], expected["content"]
    assert words(body) == words(source)
    lines = body.split("\n")
    for heading in (line for line in _FENCED_CODE.sub("", source).split("\n") if line.startswith("#")):
        assert heading in lines, f"heading {heading!r} lost"
    for language, code in _FENCED_CODE.findall(source):
        if exact_code:
            assert f"```{language}\n{code}\n```" in body
        else:
            # trafilatura keeps neither the blank lines inside a code block nor the fence's language.
            assert "\n".join(line for line in code.split("\n") if line.strip()) in body


def expected_posts(author: str) -> dict[str, tuple[str, str | None]]:
    """{activity id: (text, image)} of the author's corpus posts."""
    found: dict[str, tuple[str, str | None]] = {}
    for post in of_author("posts", author):
        match = _ACTIVITY_ID.search(post["link"])
        assert match is not None
        found[match.group(1)] = (post["content"]["text"], post["image"])
    return found


@pytest.fixture(scope="module")
def site() -> Iterator[SampleSite]:
    with SampleSite(SAMPLE_DIR) as site:
        yield site


@pytest.fixture
def signed_in(site: SampleSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, trust_env=False) as client:
        client.post("/linkedin/login", data={"session_key": "reader", "session_password": "pw"})
        yield client


def test_links_name_every_document_of_each_author(site: SampleSite) -> None:
    for user in corpus("users"):
        author = f"{user['first_name']} {user['last_name']}"
        links = site.links_for(author)
        articles = [link for link in links if link.startswith(site.base_url) and "/linkedin/" not in link]
        assert len(articles) == len(of_author("articles", author))
        [handle] = {post["link"].split("/posts/")[1].split("_")[0] for post in of_author("posts", author)}
        assert [link for link in links if "/linkedin/" in link] == [f"{site.base_url}/linkedin/in/{handle}/"]
        assert [link for link in links if link.startswith("https://github.com/")] == [
            repository["link"] for repository in of_author("repositories", author)
        ]
    assert site.links_for(" Theo  Brandt ") == site.links_for(AUTHOR)
    with pytest.raises(KeyError, match="not an author of the sample corpus"):
        site.links_for("Nobody Here")
    host = f"127.0.0.1:{site.port}"
    assert site.routes == {f"{host}/medium": "medium", f"{host}/substack": "substack", f"{host}/linkedin": "linkedin"}


def test_every_article_is_served_and_anything_else_is_not_found(site: SampleSite) -> None:
    with httpx.Client(base_url=site.base_url, trust_env=False) as client:
        robots = client.get("/robots.txt")
        assert robots.status_code == 200
        parser = RobotFileParser()
        parser.parse(robots.text.splitlines())
        assert parser.can_fetch("LLMTwinCrawler", site.base_url + "/medium/@theobrandt/anything")
        for author in site.corpus.authors:
            for link in site.links_for(author):
                if link.startswith(site.base_url) and "/linkedin/" not in link:
                    page = client.get(link)
                    assert page.status_code == 200
                    assert page.headers["content-type"] == "text/html; charset=utf-8"
                    assert "img-src 'self' data:" in page.headers["content-security-policy"]
        for missing in ("/", "/nothing", "/medium/@theobrandt/no-such-story", "/blog/nobody/x", "/linkedin/in/x/"):
            assert client.get(missing).status_code == 404
        assert client.post("/medium/@theobrandt/x", data={"a": "b"}).status_code == 404


def test_linkedin_pages_need_a_sign_in_that_accepts_any_account(site: SampleSite) -> None:
    activity = "/linkedin/in/theobrandt/recent-activity/all/"
    with httpx.Client(base_url=site.base_url, trust_env=False) as client:
        refused = client.get(activity)
        assert refused.status_code == 302
        assert refused.headers["location"] == "/linkedin/login"
        form = BeautifulSoup(client.get("/linkedin/login").text, "lxml")
        assert form.select_one("#username") and form.select_one("#password")
        assert form.select_one("button[type=submit]")

        empty = client.post("/linkedin/login", data={"session_key": "reader", "session_password": ""})
        assert empty.status_code == 200
        assert "set-cookie" not in empty.headers
        assert 'role="alert"' in empty.text

        forged = client.get(activity, cookies={"li_at": "made-up"})
        assert forged.status_code == 302

        signed = client.post("/linkedin/login", data={"session_key": "anyone", "session_password": "anything"})
        assert signed.status_code == 303
        assert signed.headers["location"] == "/linkedin/feed/"
        assert client.cookies.get("li_at")
        assert client.get("/linkedin/feed/").status_code == 200
        assert client.get("/linkedin/in/theobrandt/").status_code == 200
        page = client.get(activity)
        assert page.status_code == 200
        assert len(BeautifulSoup(page.text, "lxml").select("[data-urn]")) == 10


def test_every_article_page_extracts_to_its_corpus_article(site: SampleSite) -> None:
    expected = {record["link"]: record for record in corpus("articles")}
    with httpx.Client(base_url=site.base_url, trust_env=False) as client:
        for article in site.corpus.articles:
            url = site.base_url + article.path
            html = client.get(url).text
            if article.platform == "medium":
                assert_same_article(extract_medium_story(html), expected[article.link]["content"], exact_code=True)
            else:
                assert_same_article(extract_article(html, url), expected[article.link]["content"], exact_code=False)


def test_the_activity_feed_and_its_batches_hold_every_post(site: SampleSite, signed_in: httpx.Client) -> None:
    for handle, author in (("theobrandt", "Theo Brandt"), ("mayaokafor", "Maya Okafor")):
        page_url = f"{site.base_url}/linkedin/in/{handle}/recent-activity/all/"
        html = signed_in.get(page_url).text
        # Follow the batches the page's script loads on scrolling, as the browser does.
        next_start = BeautifulSoup(html, "lxml").select(".scaffold-finite-scroll__batch")[-1]["data-next"]
        while next_start != "-1":
            batch = signed_in.get(f"/linkedin/voyager/activity/{handle}/{next_start}")
            assert batch.status_code == 200
            html += batch.text
            next_start = BeautifulSoup(batch.text, "lxml").select(".scaffold-finite-scroll__batch")[0]["data-next"]
        posts = extract_linkedin_posts(html, page_url)
        found = {post.link.rsplit(":", 1)[-1]: (post.text, post.image) for post in posts}
        assert found == expected_posts(author)
        assert all(post.link.startswith(f"{site.base_url}/linkedin/feed/update/urn:li:activity:") for post in posts)


def test_the_git_mirror_holds_each_repository_exactly_and_is_reproducible(site: SampleSite, tmp_path: Path) -> None:
    first = site.write_git_mirror(tmp_path / "one")
    second = site.write_git_mirror(tmp_path / "two")
    site.write_git_mirror(tmp_path / "one")
    options = CrawlerOptions()
    for repository in corpus("repositories"):
        owner_and_name = repository["link"].removeprefix("https://github.com/")
        heads = {
            subprocess.run(
                ["git", "-C", str(root / owner_and_name), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for root in (first, second)
        }
        assert len(heads) == 1
        assert (
            read_repository_files(
                first / owner_and_name,
                max_file_bytes=options.max_file_bytes,
                max_total_bytes=options.max_repository_bytes,
            )
            == repository["content"]
        )
    assert site.git_mirrors(tmp_path / "one") == {"https://github.com/": f"{first.as_uri()}/"}
    foreign = tmp_path / "foreign"
    (foreign / "theobrandt" / "duckdb-lint").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not a sample-site mirror"):
        site.write_git_mirror(foreign)


@pytest.mark.slow
def test_the_real_crawlers_read_an_author_back_from_the_site(
    site: SampleSite, tmp_path: Path, warehouse: MongoDataWarehouse
) -> None:
    mirror = site.write_git_mirror(tmp_path / "git")
    settings = make_settings(
        tmp_path / "data", CRAWLER_ALLOW_PRIVATE_NETWORKS=True, LINKEDIN_USERNAME="reader", LINKEDIN_PASSWORD="pw"
    )
    options = CrawlerOptions(
        min_domain_interval_s=0,
        respect_robots=True,
        linkedin_login_url=f"{site.base_url}/linkedin/login",
        git_mirrors={"https://github.com/": f"file://{mirror}/"},
    )
    port = site.port
    routes = {
        f"127.0.0.1:{port}/{kind}": kind for kind in (CrawlerKind.MEDIUM, CrawlerKind.SUBSTACK, CrawlerKind.LINKEDIN)
    }
    dispatcher = build_crawler_dispatcher(settings, options, routes)
    links = site.links_for(AUTHOR)

    report = crawl_links(AUTHOR, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert not report.failures, report.render_table()

    author_id = UserDocument.from_full_name(AUTHOR).id
    articles = warehouse.find_documents(DataCategory.ARTICLES, author_id=author_id)
    corpus_articles = {record["link"]: record for record in of_author("articles", AUTHOR)}
    assert len(articles) == len(corpus_articles)
    served = {site.base_url + article.path: article.link for article in site.corpus.articles}
    for document in articles:
        expected = corpus_articles[served[document.link]]
        assert document.platform == expected["platform"]
        assert_same_article(document.content, expected["content"], exact_code=expected["platform"] == "medium")

    posts = warehouse.find_documents(DataCategory.POSTS, author_id=author_id)
    crawled_posts = {post.link.rsplit(":", 1)[-1]: (post.content["text"], post.extras()["image"]) for post in posts}
    assert crawled_posts == expected_posts(AUTHOR)

    repositories = warehouse.find_documents(DataCategory.REPOSITORIES, author_id=author_id)
    expected_repositories = {record["link"]: record for record in of_author("repositories", AUTHOR)}
    assert {document.link for document in repositories} == set(expected_repositories)
    for document in repositories:
        assert document.content == expected_repositories[document.link]["content"]
        assert document.extras()["name"] == expected_repositories[document.link]["name"]

    again = crawl_links(AUTHOR, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": len(links), "failed": 0}
    total = len(articles) + len(posts) + len(repositories)
    assert again.document_counts() == {"created": 0, "updated": 0, "unchanged": total}


CHILD = """
import os, sys, httpx
robots = httpx.get(os.environ["SAMPLE_SITE_URL"] + "/robots.txt", trust_env=False)
print(robots.status_code, os.environ["CRAWLER_ALLOW_PRIVATE_NETWORKS"], os.environ["LINKEDIN_USERNAME"],
      os.environ["LINKEDIN_PASSWORD"])
sys.exit(7)
"""


def test_the_cli_serves_the_site_while_a_command_runs(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINKEDIN_")}
    env.update(DATA_DIR=str(tmp_path / "data"), LINKEDIN_USERNAME="me@example.com", PYTHONPATH=str(REPO_ROOT))
    command = [sys.executable, "-m", "tools", "sample-site", "--port", "0", "--data", str(SAMPLE_DIR)]
    # The working directory has no .env: the test sees only the environment it sets.
    result = subprocess.run(
        [*command, "--", sys.executable, "-c", CHILD], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 7, result.stderr
    assert result.stdout.split() == ["200", "true", "me@example.com", "sample-site"]
    assert (tmp_path / "data" / "sample-site" / "git" / "theobrandt" / "duckdb-lint" / ".git").is_dir()

    helped = subprocess.run([*command, "--help"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert helped.returncode == 0
    assert "offline demo of the data ETL" in " ".join(helped.stdout.split())  # help wraps to the terminal
