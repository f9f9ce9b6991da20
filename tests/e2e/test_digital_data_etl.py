"""The data ETL pipeline run through ZenML against the sample site, checked through tools.status --json."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import Settings
from sample_site import SampleSite
from tests.cli_support import llm_twin
from tests.conftest import REPO_ROOT, SAMPLE_DIR, latest_artifact, run_tool, sample_site_etl_config
from tests.crawl_site import (
    BLOG,
    LINKEDIN_PASSWORD,
    LINKEDIN_POSTS,
    LINKEDIN_PROFILE_PATH,
    LINKEDIN_USERNAME,
    MEDIUM,
    REPOSITORY,
    SUBSTACK,
    CrawlSite,
)


def etl_config(tmp_path: Path, site: CrawlSite, mirror: Path, links: list[str]) -> Path:
    config: dict[str, Any] = yaml.safe_load((REPO_ROOT / "configs" / "digital_data_etl_example.yaml").read_text())
    config["parameters"].update(
        user_full_name="Maya Okafor",
        links=links,
        crawler={
            "timeout_s": 2,
            "min_domain_interval_s": 0,
            "scroll_wait_s": 0.5,
            "linkedin_login_url": site.linkedin_login_url,
            "git_mirrors": site.git_mirrors(mirror),
        },
        routes=site.routes,
    )
    path = tmp_path / "etl.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_etl_pipeline_crawls_every_source_and_reruns_unchanged(
    warehouse: MongoDataWarehouse,
    pipeline_env: Settings,
    cli_env: dict[str, str],
    crawl_site: CrawlSite,
    git_mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("LINKEDIN_USERNAME", LINKEDIN_USERNAME)
    monkeypatch.setenv("LINKEDIN_PASSWORD", LINKEDIN_PASSWORD)
    links = [crawl_site.url(p) for p in (MEDIUM.path, SUBSTACK.path, BLOG.path, LINKEDIN_PROFILE_PATH)]
    config = etl_config(tmp_path, crawl_site, git_mirror, [*links, REPOSITORY.link])

    assert llm_twin(["run", "digital-data-etl", "--config", str(config)]) == 0
    first = latest_artifact("crawl_report")
    assert first["outcomes"]["created"] == 5 and first["failed"] == {}

    status = json.loads(run_tool("status", "--json", env=cli_env))
    assert status["mongo"] == {"users": 1, "articles": 3, "posts": len(LINKEDIN_POSTS), "repositories": 1}
    assert status["authors"]["Maya Okafor"]["mongo"]["articles"] == 3

    assert llm_twin(["run", "digital-data-etl", "--config", str(config)]) == 0
    second = latest_artifact("crawl_report")
    assert second["outcomes"] == {"created": 0, "updated": 0, "unchanged": 5, "failed": 0}


def test_etl_step_fails_when_its_only_link_fails(
    warehouse: MongoDataWarehouse,
    pipeline_env: Settings,
    crawl_site: CrawlSite,
    git_mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    config = etl_config(tmp_path, crawl_site, git_mirror, [crawl_site.url("/no/such/page")])
    assert llm_twin(["run", "digital-data-etl", "--config", str(config)]) == 1
    assert "/no/such/page" in caplog.text
    assert warehouse.count_users() == 1


def test_a_book_style_config_with_only_a_name_and_links_runs(
    warehouse: MongoDataWarehouse,
    pipeline_env: Settings,
    crawl_site: CrawlSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    config = tmp_path / "book.yaml"
    links = [crawl_site.url(BLOG.path), crawl_site.url(SUBSTACK.path)]
    config.write_text(yaml.safe_dump({"parameters": {"user_full_name": "Maya Okafor", "links": links}}))
    assert llm_twin(["run", "digital-data-etl", "--config", str(config)]) == 0
    assert latest_artifact("crawl_report")["outcomes"]["created"] == 2


@pytest.mark.slow
def test_the_sample_author_is_crawled_on_a_machine_without_a_browser(
    warehouse: MongoDataWarehouse,
    pipeline_env: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A PATH with git but no chromium or chromedriver: what a fresh laptop has.
    bare = tmp_path / "bin"
    bare.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bare / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bare))
    monkeypatch.setenv("CRAWLER_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("LINKEDIN_USERNAME", "sample-reader")
    monkeypatch.setenv("LINKEDIN_PASSWORD", "sample-site")
    with SampleSite(SAMPLE_DIR) as site:
        site.write_git_mirror(pipeline_env.data_dir / "sample-site" / "git")
        etl = sample_site_etl_config(site, "digital_data_etl_theo_brandt.yaml", "Theo Brandt")
        links = etl["parameters"]["links"]
        config = tmp_path / "etl.yaml"
        config.write_text(yaml.safe_dump(etl))
        assert llm_twin(["run", "digital-data-etl", "--config", str(config)]) == 0

    report = latest_artifact("crawl_report")
    [(linkedin_link, reason)] = report["failed"].items()
    assert "linkedin" in linkedin_link and "chromium" in reason
    assert report["outcomes"]["created"] == len(links) - 1
    theo = warehouse.find_user("Theo Brandt")
    assert theo is not None
    mediums = warehouse.find_documents(DataCategory.ARTICLES, author_id=theo.id, platform="medium")
    assert mediums and all(len(document.content["content"].split()) > 100 for document in mediums)
    assert capfd.readouterr().err.count("fetched over plain HTTP instead") == 1
