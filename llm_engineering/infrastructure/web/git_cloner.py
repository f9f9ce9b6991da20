"""Shallow `git clone` into a temporary directory: the RepositoryCloner port."""

import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.domain.links import link_port
from llm_engineering.infrastructure.web.network_guard import NetworkGuard


class GitRepositoryCloner:
    """Clones the latest commit only (--depth 1), never prompting for credentials and never changing directory.

    `mirrors` maps a link prefix to another source (like git's insteadOf); a file:// source is local, so it is
    allowed only where private networks are.
    """

    def __init__(
        self,
        *,
        guard: NetworkGuard,
        timeout_s: float,
        mirrors: Mapping[str, str] | None = None,
        git: str = "git",
    ) -> None:
        self._guard = guard
        self._timeout_s = timeout_s
        self._mirrors = dict(mirrors or {})
        self._git = git

    def source_for(self, url: str) -> str:
        """Where url is really cloned from: the longest matching mirror prefix rewritten, else url itself."""
        matches = [prefix for prefix in self._mirrors if url.startswith(prefix)]
        if not matches:
            return url
        prefix = max(matches, key=len)
        return self._mirrors[prefix] + url.removeprefix(prefix)

    @contextmanager
    def clone(self, url: str) -> Iterator[Path]:
        """Clone the repository's latest commit into a temporary folder, yielded and removed on exit."""
        source = self.source_for(url)
        protocol_options = self._checked_protocol_options(url, source)
        with tempfile.TemporaryDirectory(prefix="llm-twin-clone-") as workspace:
            checkout = Path(workspace) / "repository"
            command = [
                self._git,
                *protocol_options,
                "-c",
                "http.followRedirects=false",
                "clone",
                "--depth",
                "1",
                "--single-branch",
                "--no-tags",
                "--quiet",
                "--",
                source,
                str(checkout),
            ]
            # No credential prompt can hang the run, and large LFS files are not downloaded.
            env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_LFS_SKIP_SMUDGE": "1"}
            try:
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=self._timeout_s, env=env, check=False
                )
            except subprocess.TimeoutExpired as error:
                raise CrawlError(
                    f"git clone of {url} took longer than {self._timeout_s:g}s; the repository is too large "
                    "or the server too slow (raise git_timeout_s)"
                ) from error
            except FileNotFoundError as error:
                raise CrawlError(f"git is not installed ({self._git!r} not found); install git") from error
            if result.returncode != 0:
                errors = result.stderr.strip().splitlines()
                detail = errors[-1] if errors else f"exit status {result.returncode}"
                raise CrawlError(f"git clone of {url} failed: {detail}")
            yield checkout

    def _checked_protocol_options(self, url: str, source: str) -> list[str]:
        """Git -c options allowing only the source's protocol, with the guard's checked address pinned."""
        scheme = urlsplit(source).scheme
        if scheme == "file":
            if not self._guard.allow_private_networks:
                raise LinkRefusedError(
                    f"{url} is cloned from the local path {source}; refused (set CRAWLER_ALLOW_PRIVATE_NETWORKS=true "
                    "to allow local sources)"
                )
            return ["-c", "protocol.allow=never", "-c", "protocol.file.allow=always"]
        if scheme not in {"http", "https"}:
            raise LinkRefusedError(f"{url} would be cloned over {scheme or 'an unknown protocol'}; only https is used")
        address = self._guard.resolve(source)[0]
        host = urlsplit(source).hostname or ""
        # curl connects to the address the guard checked instead of resolving the host again.
        pinned = f"{host}:{link_port(source)}:{f'[{address}]' if ':' in address else address}"
        return [
            "-c",
            "protocol.allow=never",
            "-c",
            f"protocol.{scheme}.allow=always",
            "-c",
            f"http.curloptResolve={pinned}",
        ]
