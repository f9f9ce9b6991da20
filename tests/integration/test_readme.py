"""The README and the docs site stay true to the repository: the README's Layout section names every folder
that exists, its links lead to files that exist, and every docs page is in mkdocs.yml's nav."""

import re
import subprocess
from typing import Any

import yaml

from tests.conftest import REPO_ROOT


def test_the_layout_section_names_every_folder() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"(?:^|\s)([.\w][\w./-]*/)", layout))
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    folders = {line.rsplit("/", 1)[0] + "/" for line in tracked.splitlines() if "/" in line}
    # Test modules' own sub-folders (fixtures of one test) are not part of the layout.
    folders = {folder for folder in folders if not re.match(r"tests/[^/]+/.+", folder)}
    assert sorted(folders - named) == []


def test_the_readme_links_lead_to_files_that_exist() -> None:
    # The docs site's own links are checked by `mkdocs build --strict` (poe docs-check); the README is not part of it.
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    targets = {target.split("#", 1)[0] for target in re.findall(r"\]\(([^)\s]+)\)", readme)}
    local = {target for target in targets if target and not re.match(r"[a-z]+:", target)}
    assert local, "the README links into docs/"
    assert sorted(target for target in local if not (REPO_ROOT / target).exists()) == []


def _nav_pages(entry: Any) -> list[str]:
    if isinstance(entry, str):
        return [entry]
    if isinstance(entry, list):
        return [page for item in entry for page in _nav_pages(item)]
    if isinstance(entry, dict):
        return [page for value in entry.values() for page in _nav_pages(value)]
    return []


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = REPO_ROOT / config["docs_dir"]
    pages = {path.relative_to(docs).as_posix() for path in docs.rglob("*.md")}
    nav = _nav_pages(config["nav"])
    assert sorted(pages - set(nav)) == []
    assert sorted(set(nav) - pages) == []
    assert len(nav) == len(set(nav)), "a page is listed twice"
