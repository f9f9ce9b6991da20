"""The README stays true to the repository: its Layout section names every folder that exists."""

import re
import subprocess

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
