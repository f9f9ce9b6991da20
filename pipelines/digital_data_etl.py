"""Data ETL pipeline: an author's links (Medium, Substack, LinkedIn, GitHub, any article) → MongoDB."""

from typing import Any

from zenml import pipeline

from steps.etl import crawl_links_step


@pipeline
def digital_data_etl(
    user_full_name: str,
    links: list[str],
    crawler: dict[str, Any],
    routes: dict[str, str],
    max_failure_fraction: float | None,
    max_workers: int,
    max_per_domain: int,
) -> None:
    """Re-running is idempotent: unchanged pages are reported `unchanged` and nothing is duplicated."""
    crawl_links_step(user_full_name, links, crawler, routes, max_failure_fraction, max_workers, max_per_domain)
