"""Data ETL pipeline: an author's links (Medium, Substack, LinkedIn, GitHub, any article) → MongoDB."""

from zenml import pipeline

from llm_engineering.application.run_configs import DigitalDataEtlConfig
from steps.etl import crawl_links_step


@pipeline
def digital_data_etl(config: DigitalDataEtlConfig) -> None:
    """Re-running is idempotent: unchanged pages are reported `unchanged` and nothing is duplicated."""
    crawl_links_step(config)
