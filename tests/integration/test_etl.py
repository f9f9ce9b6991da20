"""crawl_links end to end: the real crawlers against the local site, documents in a real Mongo-wire warehouse."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from llm_engineering.application.crawlers.dispatcher import CrawlerDispatcher
from llm_engineering.application.etl import LinkOutcome, crawl_links
from llm_engineering.bootstrap.crawling import build_crawler_dispatcher
from llm_engineering.domain.crawling import CrawlerKind, CrawlerOptions
from llm_engineering.domain.exceptions import CrawlFailuresExceededError
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import Settings
from tests.crawl_site import (
    BLOG,
    DISALLOWED_PATH,
    HUGE_PATH,
    LINKEDIN_PASSWORD,
    LINKEDIN_POSTS,
    LINKEDIN_PROFILE_PATH,
    LINKEDIN_USERNAME,
    MEDIUM,
    PDF_PATH,
    REDIRECT_PATH,
    REPOSITORY,
    SUBSTACK,
    CrawlSite,
    article_page,
    article_with,
)

MAYA = "Maya Okafor"


# Real links of each crawler's domain: the sample site is routed to the crawler the factory chose for them.
def site_dispatcher(site: CrawlSite, settings: Settings, git_mirror: Path | None = None) -> CrawlerDispatcher:
    """The production dispatcher; the site's /medium, /substack and /linkedin go where the real sites go."""
    options = CrawlerOptions(
        timeout_s=0.5,
        max_retries=1,
        backoff_s=0.05,
        min_domain_interval_s=0.0,
        max_page_bytes=1024 * 1024,
        page_load_timeout_s=15.0,
        scroll_wait_s=1.0,
        linkedin_scrolls=3,
        linkedin_login_url=site.linkedin_login_url,
        git_mirrors=site.git_mirrors(git_mirror) if git_mirror else {},
    )
    routes = {pattern: CrawlerKind(kind) for pattern, kind in site.routes.items()}
    return build_crawler_dispatcher(settings, options, routes)


@pytest.fixture
def crawl_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"CRAWLER_ALLOW_PRIVATE_NETWORKS": True})


@pytest.fixture
def dispatcher(crawl_site: CrawlSite, crawl_settings: Settings) -> CrawlerDispatcher:
    return site_dispatcher(crawl_site, crawl_settings)


def test_a_second_run_changes_nothing(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    links = [crawl_site.url(BLOG.path), crawl_site.url(SUBSTACK.path), crawl_site.url(REDIRECT_PATH) + "/"]
    first = crawl_links(MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert first.counts() == {"created": 3, "updated": 0, "unchanged": 0, "failed": 0}
    [substack] = warehouse.find_documents(DataCategory.ARTICLES, link=crawl_site.url(SUBSTACK.path))
    assert substack.platform == "substack"
    assert substack.content["title"] == SUBSTACK.title
    assert substack.content["language"] == "en"
    [redirected] = warehouse.find_documents(DataCategory.ARTICLES, link=crawl_site.url(REDIRECT_PATH))
    assert redirected.platform == "blog"

    second = crawl_links(MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert second.counts() == {"created": 0, "updated": 0, "unchanged": 3, "failed": 0}
    assert warehouse.count_documents(DataCategory.ARTICLES) == 3
    assert len(warehouse.list_users()) == 1


def test_changed_content_updates_the_document(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    link = crawl_site.url(BLOG.path)
    crawl_links(MAYA, [link], dispatcher=dispatcher, repository=warehouse, progress=False)
    [before] = warehouse.find_documents(DataCategory.ARTICLES, link=link)
    crawl_site.set_page(BLOG.path, article_page(article_with(BLOG, "Update: the module now has three tests, not one.")))
    report = crawl_links(MAYA, [link], dispatcher=dispatcher, repository=warehouse, progress=False)
    [after] = warehouse.find_documents(DataCategory.ARTICLES, link=link)
    assert report.results[0].outcome is LinkOutcome.UPDATED
    assert after.id == before.id
    assert after.content_hash != before.content_hash
    assert after.content["content"].endswith("Update: the module now has three tests, not one.")
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at
    assert warehouse.count_documents(DataCategory.ARTICLES) == 1


def test_the_same_link_for_two_authors_is_two_documents(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    link = crawl_site.url(BLOG.path)
    for author in (MAYA, "Theo Brandt", "Theo  Brandt"):
        crawl_links(author, [link], dispatcher=dispatcher, repository=warehouse, progress=False)
    documents = warehouse.find_documents(DataCategory.ARTICLES, link=link)
    assert sorted(document.author_full_name for document in documents) == [MAYA, "Theo Brandt"]


def test_each_failure_is_recorded_with_its_reason_and_the_others_still_crawl(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    links = [
        crawl_site.url("/blog/never-written"),
        crawl_site.url(PDF_PATH),
        crawl_site.url(DISALLOWED_PATH),
        crawl_site.url(HUGE_PATH),
        "ftp://example.com/notes.txt",
        crawl_site.url(BLOG.path),
    ]
    report = crawl_links(
        MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False, max_failure_fraction=1.0
    )
    reasons = {result.link: result.status for result in report.results}
    assert reasons["ftp://example.com/notes.txt"].startswith("failed: invalid link")
    assert "HTTP 404" in reasons[crawl_site.url("/blog/never-written")]
    assert "not an HTML page" in reasons[crawl_site.url(PDF_PATH)]
    assert "robots.txt" in reasons[crawl_site.url(DISALLOWED_PATH)]
    assert "byte cap" in reasons[crawl_site.url(HUGE_PATH)]
    assert reasons[crawl_site.url(BLOG.path)] == "created"
    assert report.per_domain() == {
        "(invalid link)": {"created": 0, "updated": 0, "unchanged": 0, "failed": 1},
        "127.0.0.1": {"created": 1, "updated": 0, "unchanged": 0, "failed": 4},
    }
    table = report.render_table()
    assert "failed: HTTP 404" in table
    assert "6 links (1 created, 0 updated, 0 unchanged, 5 failed)" in table
    report.check_failures()


def test_malformed_links_are_rejected_before_any_request(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    report = crawl_links(
        MAYA,
        ["medium.com/@maya/story", "https://exa mple.com/"],
        dispatcher=dispatcher,
        repository=warehouse,
        progress=False,
    )
    assert [result.reason for result in report.results] == [
        "invalid link 'medium.com/@maya/story': not an absolute URL; write it as https://host/path",
        "invalid link 'https://exa mple.com/': contains spaces or control characters; percent-encode them",
    ]
    assert crawl_site.user_agents() == []


@pytest.mark.parametrize(
    ("good", "bad", "fraction", "raises"),
    [(0, 1, None, True), (2, 1, None, False), (1, 2, None, True), (1, 1, None, False), (3, 1, 0.2, True)],
)
def test_the_run_fails_only_past_the_failure_threshold(
    crawl_site: CrawlSite,
    dispatcher: CrawlerDispatcher,
    warehouse: MongoDataWarehouse,
    good: int,
    bad: int,
    fraction: float | None,
    raises: bool,
) -> None:
    links = [crawl_site.url(f"/missing/{index}") for index in range(bad)]
    links += [crawl_site.url(path) for path in (BLOG.path, SUBSTACK.path, REDIRECT_PATH)[:good]]
    report = crawl_links(
        MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False, max_failure_fraction=fraction
    )
    if not raises:
        report.check_failures()
        return
    with pytest.raises(CrawlFailuresExceededError) as caught:
        report.check_failures()
    for index in range(bad):
        assert f"{crawl_site.url(f'/missing/{index}')}: HTTP 404" in str(caught.value)
    assert f"{bad} of {good + bad} links failed" in str(caught.value)


def test_a_failure_fraction_outside_zero_to_one_is_refused(
    dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        crawl_links(MAYA, [], dispatcher=dispatcher, repository=warehouse, max_failure_fraction=1.5)


def test_linkedin_without_credentials_fails_only_that_link(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    links = [crawl_site.url(LINKEDIN_PROFILE_PATH), crawl_site.url(BLOG.path)]
    report = crawl_links(MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert "set LINKEDIN_USERNAME and LINKEDIN_PASSWORD" in report.results[0].reason
    assert report.results[1].outcome is LinkOutcome.CREATED
    report.check_failures()


def test_concurrent_crawling_gives_the_same_outcomes(
    crawl_site: CrawlSite, dispatcher: CrawlerDispatcher, warehouse: MongoDataWarehouse
) -> None:
    links = [crawl_site.url(path) for path in (BLOG.path, SUBSTACK.path, REDIRECT_PATH, "/missing")]
    links.append(f"http://localhost:{crawl_site.port}{BLOG.path}")
    report = crawl_links(
        MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False, max_workers=4, max_per_domain=2
    )
    assert [result.link for result in report.results] == links
    assert [result.outcome.value for result in report.results] == ["created"] * 3 + ["failed", "created"]
    assert set(report.per_domain()) == {"127.0.0.1", "localhost"}
    again = crawl_links(MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False, max_workers=4)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 4, "failed": 1}


@pytest.mark.slow
def test_every_crawler_in_one_idempotent_run(
    crawl_site: CrawlSite,
    crawl_settings: Settings,
    warehouse: MongoDataWarehouse,
    git_mirror: Path,
) -> None:
    settings = crawl_settings.model_copy(
        update={"LINKEDIN_USERNAME": LINKEDIN_USERNAME, "LINKEDIN_PASSWORD": SecretStr(LINKEDIN_PASSWORD)}
    )
    dispatcher = site_dispatcher(crawl_site, settings, git_mirror=git_mirror)
    links = [
        crawl_site.url(MEDIUM.path),
        crawl_site.url(SUBSTACK.path),
        crawl_site.url(BLOG.path),
        crawl_site.url(LINKEDIN_PROFILE_PATH),
        REPOSITORY.link,
    ]
    first = crawl_links(MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert first.counts() == {"created": 5, "updated": 0, "unchanged": 0, "failed": 0}
    assert first.results[3].documents == {"created": len(LINKEDIN_POSTS)}
    assert first.per_domain()["github.com"] == {"created": 1, "updated": 0, "unchanged": 0, "failed": 0}
    counts = {category: warehouse.count_documents(category) for category in DataCategory}
    assert counts == {DataCategory.ARTICLES: 3, DataCategory.POSTS: len(LINKEDIN_POSTS), DataCategory.REPOSITORIES: 1}
    [repository] = warehouse.find_documents(DataCategory.REPOSITORIES)
    assert repository.extras() == {"name": "tiny-feature-store"}

    crawl_site.set_page(MEDIUM.path, article_page(article_with(MEDIUM, "We now check every new feature for leaks.")))
    second = crawl_links(MAYA, links, dispatcher=dispatcher, repository=warehouse, progress=False)
    assert [result.outcome.value for result in second.results] == ["updated"] + ["unchanged"] * 4
    assert {category: warehouse.count_documents(category) for category in DataCategory} == counts
