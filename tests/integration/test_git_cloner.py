"""The git cloner and the repository crawler on a real local repository, cloned through a file:// mirror."""

import subprocess
from pathlib import Path

import pytest

from llm_engineering.application.crawlers.repository import RepositoryCrawler
from llm_engineering.domain.crawling import CrawlerOptions
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.infrastructure.web.git_cloner import GitRepositoryCloner
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from tests.crawl_site import KEPT_EXACTLY, REPOSITORY

LINK = REPOSITORY.link
THEO = UserDocument.from_full_name("Theo Brandt")


def make_cloner(git_mirror: Path, *, allow_private_networks: bool = True) -> GitRepositoryCloner:
    return GitRepositoryCloner(
        guard=NetworkGuard(allow_private_networks=allow_private_networks),
        timeout_s=30,
        mirrors={"https://github.com/": git_mirror.as_uri() + "/"},
    )


def make_crawler(
    git_mirror: Path, *, allow_private_networks: bool = True, max_file_bytes: int | None = None
) -> RepositoryCrawler:
    options = CrawlerOptions()
    return RepositoryCrawler(
        make_cloner(git_mirror, allow_private_networks=allow_private_networks),
        platform="github",
        max_file_bytes=max_file_bytes or options.max_file_bytes,
        max_repository_bytes=options.max_repository_bytes,
    )


def test_a_repository_keeps_its_hand_written_text_exactly(git_mirror: Path) -> None:
    workdir = Path.cwd()
    [document] = make_crawler(git_mirror, max_file_bytes=64 * 1024).crawl(LINK, THEO)
    assert Path.cwd() == workdir
    assert document.name == "tiny-feature-store"
    assert document.link == LINK
    assert document.platform == "github"
    # The corpus files and the second commit's text file; the second commit's clutter is left out.
    assert document.content == {**REPOSITORY.files, **KEPT_EXACTLY}
    assert "\t" in document.content["tiny_feature_store/legacy.py"]
    assert '"""   \r\n' in document.content["tiny_feature_store/legacy.py"]


def test_the_clone_is_shallow_and_removed_afterwards(git_mirror: Path) -> None:
    with make_cloner(git_mirror).clone(LINK) as checkout:
        history = subprocess.run(
            ["git", "-C", str(checkout), "rev-list", "--count", "HEAD"], capture_output=True, text=True, check=True
        )
        assert history.stdout.strip() == "1"
    assert not checkout.exists()


def test_a_local_source_is_refused_without_private_networks(git_mirror: Path) -> None:
    with pytest.raises(LinkRefusedError, match="CRAWLER_ALLOW_PRIVATE_NETWORKS=true"):
        make_crawler(git_mirror, allow_private_networks=False).crawl(LINK, THEO)


def test_a_missing_repository_fails_with_git_s_reason(git_mirror: Path) -> None:
    with pytest.raises(CrawlError, match=r"git clone of https://github\.com/mayaokafor/never-pushed failed: "):
        make_crawler(git_mirror).crawl("https://github.com/mayaokafor/never-pushed", THEO)


def test_mirrors_rewrite_the_longest_matching_prefix(git_mirror: Path) -> None:
    cloner = GitRepositoryCloner(
        guard=NetworkGuard(allow_private_networks=True),
        timeout_s=30,
        mirrors={"https://github.com/": "file:///a/", "https://github.com/theobrandt/": "file:///b/"},
    )
    assert cloner.source_for("https://github.com/theobrandt/duckdb-lint") == "file:///b/duckdb-lint"
    assert cloner.source_for("https://github.com/mayaokafor/x") == "file:///a/mayaokafor/x"
    assert cloner.source_for("https://gitlab.com/x/y") == "https://gitlab.com/x/y"
