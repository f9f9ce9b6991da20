"""The corpus repositories written as local git repositories, the mirror the crawler clones GitHub links from."""

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from loguru import logger

from sample_site.corpus import GITHUB_PREFIX, SampleRepository

GIT_TIMEOUT_S = 60.0
# Written inside .git of each mirror repository: only such directories are ever replaced.
MIRROR_MARKER = "llm-twin-sample-mirror"


def git_mirrors(directory: Path) -> dict[str, str]:
    """The crawler option git_mirrors that clones GitHub links from a mirror written by write_git_mirror()."""
    return {GITHUB_PREFIX: directory.expanduser().resolve().as_uri() + "/"}


def write_git_mirror(repositories: Sequence[SampleRepository], directory: Path) -> Path:
    """Write each repository as a one-commit git repository at directory/OWNER/REPO; returns the absolute
    directory. Commits have fixed authors and dates, so the same corpus gives the same commits."""
    root = directory.expanduser().resolve()
    for repository in repositories:
        _write_repository(root / repository.mirror_path, repository)
    logger.info("Wrote {} repositories as git repositories under {}", len(repositories), root)
    return root


def _write_repository(target: Path, repository: SampleRepository) -> None:
    if target.exists():
        if not (target / ".git" / MIRROR_MARKER).is_file():
            raise FileExistsError(
                f"{target} exists and is not a sample-site mirror; remove it or write the mirror to another directory"
            )
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for relative, text in repository.files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, not text mode: line endings and trailing whitespace stay exactly as in the corpus.
        path.write_bytes(text.encode("utf-8"))
    name = repository.author
    email = f"{repository.mirror_path.split('/')[0]}@users.noreply.github.com"
    when = f"{int(repository.committed.timestamp())} +0000"
    # The user's git configuration (hooks, signing, autocrlf, templates) must not change what is committed.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_AUTHOR_DATE=when,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_COMMITTER_DATE=when,
    )
    _git(target, env, "init", "--quiet", "--initial-branch=main")
    (target / ".git" / MIRROR_MARKER).write_text(f"{repository.link}\n", encoding="utf-8")
    _git(target, env, "add", "--all", "--force")
    _git(
        target,
        env,
        "commit",
        "--quiet",
        "--no-verify",
        "--allow-empty",
        "--message",
        f"{repository.name}: sample corpus snapshot",
    )


def _git(repository: Path, env: Mapping[str, str], *args: str) -> None:
    command = ["git", "-C", str(repository), "-c", "core.autocrlf=false", *args]
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise RuntimeError("git is not installed; install git to write the sample repositories") from error
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"`git {args[0]}` in {repository} took longer than {GIT_TIMEOUT_S:g}s") from error
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise RuntimeError(f"`git {args[0]}` failed in {repository}: {detail}")
