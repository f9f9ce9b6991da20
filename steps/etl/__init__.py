"""Steps of the data ETL pipeline."""

from steps.etl.crawl_links import crawl_links_step

__all__ = ["crawl_links_step"]
