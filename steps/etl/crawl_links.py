"""The ETL step: crawl one author's links into the warehouse and record the outcome of every link."""

from typing import Annotated, Any

from zenml import step

from llm_engineering.application.etl import crawl_links
from llm_engineering.application.run_configs import DigitalDataEtlConfig
from llm_engineering.bootstrap.crawling import build_crawler_dispatcher
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from steps.metadata import record_metadata


@step
def crawl_links_step(config: DigitalDataEtlConfig) -> Annotated[dict[str, Any], "crawl_report"]:
    """Every link ends created, updated, unchanged or failed: <reason>; too many failures fail the step."""
    settings = settings_for_step()
    report = crawl_links(
        config.user_full_name,
        config.links,
        dispatcher=build_crawler_dispatcher(settings, config.crawler, config.routes),
        repository=MongoDataWarehouse.from_settings(settings),
        max_failure_fraction=config.max_failure_fraction,
        max_workers=config.max_workers,
        max_per_domain=config.max_per_domain,
    )
    summary = report.summary()
    record_metadata(summary)
    report.check_failures()
    return summary
