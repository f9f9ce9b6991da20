"""build_crawler_dispatcher: which crawler each kind of link gets, wired from Settings."""

from pathlib import Path

import pytest
from pydantic import SecretStr

from llm_engineering.application.crawlers.article import ArticleCrawler
from llm_engineering.application.crawlers.linkedin import LinkedInCrawler
from llm_engineering.application.crawlers.medium import MediumCrawler
from llm_engineering.application.crawlers.repository import RepositoryCrawler
from llm_engineering.bootstrap.crawling import build_crawler_dispatcher
from llm_engineering.domain.crawling import CrawlerOptions
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import LinkRefusedError
from tests.conftest import make_settings
from tests.crawl_site import BLOG, CrawlSite


@pytest.mark.parametrize(
    ("link", "kind", "platform"),
    [
        ("https://medium.com/@mayaokafor/reading-a-gpu-bill-like-a-detective-fd49b856fc94", MediumCrawler, None),
        ("https://mayaokafor.medium.com/some-story-1a2b", MediumCrawler, None),
        ("https://towardsdatascience.com/a-story-9f8e", MediumCrawler, None),
        ("https://mayaokafor.substack.com/p/labelling-is-an-engineering-problem", ArticleCrawler, "substack"),
        ("https://www.linkedin.com/in/mayaokafor", LinkedInCrawler, None),
        ("https://github.com/theobrandt/duckdb-lint", RepositoryCrawler, None),
        ("https://theobrandt.dev/blog/airflow-or-dagster", ArticleCrawler, "blog"),
    ],
)
def test_each_source_gets_its_crawler(tmp_path: Path, link: str, kind: type, platform: str | None) -> None:
    dispatcher = build_crawler_dispatcher(
        make_settings(tmp_path), CrawlerOptions(medium_domains=("towardsdatascience.com",))
    )
    crawler = dispatcher.crawler_for(link)
    assert isinstance(crawler, kind)
    if platform is not None:
        assert isinstance(crawler, ArticleCrawler)
        assert crawler.platform == platform


def test_private_networks_are_refused_unless_settings_allow_them(tmp_path: Path, crawl_site: CrawlSite) -> None:
    author = UserDocument.from_full_name("Theo Brandt")
    link = crawl_site.url(BLOG.path)
    with pytest.raises(LinkRefusedError, match="CRAWLER_ALLOW_PRIVATE_NETWORKS=true"):
        build_crawler_dispatcher(make_settings(tmp_path)).crawl(link, author)
    allowed = build_crawler_dispatcher(make_settings(tmp_path, CRAWLER_ALLOW_PRIVATE_NETWORKS=True))
    [document] = allowed.crawl(link, author)
    assert document.content["title"] == BLOG.title == "Your Notebook Is Not a Pipeline"


def test_linkedin_credentials_come_from_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, LINKEDIN_USERNAME="maya@example.com", LINKEDIN_PASSWORD=SecretStr("s3cret-pw"))
    crawler = build_crawler_dispatcher(settings).crawler_for("https://www.linkedin.com/in/mayaokafor")
    assert isinstance(crawler, LinkedInCrawler)
    assert crawler.credentials is not None
    assert crawler.credentials.username == "maya@example.com"
    assert "s3cret-pw" not in repr(crawler.credentials)
