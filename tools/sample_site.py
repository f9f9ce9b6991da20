"""Serve the sample corpus as a local web site: the offline demo of the data ETL.

Without internet the ETL cannot reach Medium, Substack, LinkedIn or GitHub. This tool serves the sample corpus
(data/sample) on 127.0.0.1 as Medium-, Substack-, blog- and LinkedIn-like pages (LinkedIn behind a sign-in that
accepts any user name and password), and writes its repositories as local git repositories. The real crawlers
(headless Chromium, trafilatura, git clone) then crawl it exactly as they crawl the real sites.

    llm-twin sample-site [--port 8765]
        serve until Ctrl-C, printing each author's links and the ETL config settings for this site
    llm-twin sample-site -- llm-twin run digital-data-etl --config configs/<sample-site config>.yaml
        serve only while the command runs, and exit with its exit code

The command runs with CRAWLER_ALLOW_PRIVATE_NETWORKS=true (the site is on loopback), SAMPLE_SITE_URL (the site's
base URL) and, unless they are configured already, LINKEDIN_USERNAME=sample-reader and LINKEDIN_PASSWORD=sample-site.
An ETL config for this site lists the links printed by the first form, and sets:

    routes: {127.0.0.1:8765/medium: medium, 127.0.0.1:8765/substack: substack, 127.0.0.1:8765/linkedin: linkedin}
    crawler:
      linkedin_login_url: http://127.0.0.1:8765/linkedin/login
      git_mirrors: {"https://github.com/": "file://{data_dir}/sample-site/git/"}
"""

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer
import yaml
from loguru import logger

from llm_engineering.domain.exceptions import LLMTwinError
from llm_engineering.settings import Settings, get_settings
from sample_site import DEFAULT_DATA_DIR, SampleSite
from tools.cli_logging import configure_logging

DEFAULT_PORT = 8765
DEFAULT_LINKEDIN_USERNAME = "sample-reader"
# Not a secret: the local site accepts any password.
DEFAULT_LINKEDIN_PASSWORD = "sample-site"  # noqa: S105


def default_git_dir(settings: Settings) -> Path:
    """Where the repositories are written unless --git-dir says otherwise: DATA_DIR/sample-site/git."""
    return settings.data_dir / "sample-site" / "git"


def command_environment(site: SampleSite, settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """The command's environment: base, plus what crawling the local site needs."""
    env = dict(base)
    env["CRAWLER_ALLOW_PRIVATE_NETWORKS"] = "true"
    env["SAMPLE_SITE_URL"] = site.base_url
    # The site accepts any sign-in; an account the user configured (environment or .env) is left alone.
    if not env.get("LINKEDIN_USERNAME") and not settings.LINKEDIN_USERNAME:
        env["LINKEDIN_USERNAME"] = DEFAULT_LINKEDIN_USERNAME
    if not env.get("LINKEDIN_PASSWORD") and settings.LINKEDIN_PASSWORD is None:
        env["LINKEDIN_PASSWORD"] = DEFAULT_LINKEDIN_PASSWORD
    return env


def run_command(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the command to completion; its exit code (127 when it cannot be started, 130 on Ctrl-C)."""
    logger.info("Running {}", " ".join(command))
    try:
        return subprocess.run(list(command), env=dict(env), check=False).returncode
    except FileNotFoundError:
        logger.error("Command not found: {}", command[0])
        return 127
    except KeyboardInterrupt:
        return 130


def describe(site: SampleSite, mirror: Path) -> str:
    """What a person needs to crawl the running site: each author's links and the ETL config settings."""
    lines = [f"Sample site: {site.base_url}  (Ctrl-C to stop)", f"Git mirror:  {mirror}", ""]
    for author in site.corpus.authors:
        lines.append(f"{author}:")
        lines += [f"  - {link}" for link in site.links_for(author)]
    settings_for_site = {
        "routes": site.routes,
        "crawler": {"linkedin_login_url": site.linkedin_login_url, "git_mirrors": site.git_mirrors(mirror)},
    }
    lines += [
        "",
        "Under `parameters:` of an ETL config for this site:",
        textwrap.indent(yaml.safe_dump(settings_for_site, sort_keys=False).rstrip(), "  "),
        "",
        "Crawl with CRAWLER_ALLOW_PRIVATE_NETWORKS=true and any LINKEDIN_USERNAME / LINKEDIN_PASSWORD,",
        "or let this tool run the ETL: llm-twin sample-site -- llm-twin run digital-data-etl ...",
    ]
    return "\n".join(lines)


def sample_site(
    command: Annotated[
        list[str] | None,
        typer.Argument(help="a command to run while the site serves (after --); its exit code is ours"),
    ] = None,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0: a free port)")] = DEFAULT_PORT,
    data: Annotated[
        Path, typer.Option(help="folder of users.json, articles.json, posts.json, repositories.json")
    ] = DEFAULT_DATA_DIR,
    git_dir: Annotated[
        Path | None,
        typer.Option(help="where the repositories are written as git repositories (default: DATA_DIR/sample-site/git)"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="log every request the site answers")] = False,
) -> int:
    """Serve the sample corpus as a local web site (the offline demo of the data ETL), or run a command beside it.

    Without a command it serves until Ctrl-C and prints each author's links and the ETL config settings for this
    site. `llm-twin sample-site -- COMMAND ...` serves only while COMMAND runs (with CRAWLER_ALLOW_PRIVATE_NETWORKS,
    SAMPLE_SITE_URL and a LinkedIn sign-in set for it) and exits with its exit code.
    """
    configure_logging(verbose)
    try:
        settings = get_settings()
        site = SampleSite(data, port=port)
        mirror = site.write_git_mirror(git_dir or default_git_dir(settings))
        with site:
            if command:
                return run_command(command, command_environment(site, settings, os.environ))
            print(describe(site, mirror), flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                logger.info("Stopping the sample site.")
    except (LLMTwinError, ValueError, OSError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
