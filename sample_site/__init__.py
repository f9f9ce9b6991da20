"""The offline stand-in for the sites the data ETL crawls: the sample corpus served on 127.0.0.1, mirrored in git."""

from sample_site.corpus import DEFAULT_DATA_DIR, SampleArticle, SampleCorpus, SamplePost, SampleRepository
from sample_site.server import SampleSite

__all__ = ["DEFAULT_DATA_DIR", "SampleArticle", "SampleCorpus", "SamplePost", "SampleRepository", "SampleSite"]
