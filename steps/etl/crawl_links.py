"""The ETL step: crawl one author's links into the warehouse and record the outcome of every link."""

from dataclasses import fields
from typing import Annotated, Any

from zenml import log_metadata, step

from llm_engineering.application.etl import crawl_links
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.web.factory import CrawlerOptions, build_crawler_dispatcher, register_routes
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from llm_engineering.settings import Settings


def crawler_options(values: dict[str, Any], settings: Settings) -> CrawlerOptions:
    """The config's `crawler` section as CrawlerOptions; {data_dir} in git mirrors is the settings' DATA_DIR.

    Not ${DATA_DIR}: ZenML substitutes that form from the environment, where DATA_DIR is usually unset.
    """
    known = {f.name for f in fields(CrawlerOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"Unknown crawler option(s) {', '.join(unknown)}; valid ones: {', '.join(sorted(known))}")
    options = dict(values)
    if "git_mirrors" in options:
        options["git_mirrors"] = {
            prefix: target.replace("{data_dir}", str(settings.data_dir))
            for prefix, target in options["git_mirrors"].items()
        }
    if "medium_domains" in options:
        options["medium_domains"] = tuple(options["medium_domains"])
    return CrawlerOptions(**options)


@step
def crawl_links_step(
    user_full_name: str,
    links: list[str],
    crawler: dict[str, Any],
    routes: dict[str, str],
    max_failure_fraction: float | None,
    max_workers: int,
    max_per_domain: int,
) -> Annotated[dict[str, Any], "crawl_report"]:
    """Every link ends created, updated, unchanged or failed: <reason>; too many failures fail the step."""
    settings = settings_for_step()
    dispatcher = register_routes(build_crawler_dispatcher(settings, crawler_options(crawler, settings)), routes)
    report = crawl_links(
        user_full_name,
        links,
        dispatcher=dispatcher,
        repository=MongoDataWarehouse.from_settings(settings),
        max_failure_fraction=max_failure_fraction,
        max_workers=max_workers,
        max_per_domain=max_per_domain,
    )
    summary = report.summary()
    log_metadata(metadata=summary)
    report.check_failures()
    return summary
