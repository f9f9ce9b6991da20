"""The one place that picks where the warehouse's JSON files live: an S3 prefix or a local folder."""

from pathlib import Path

from llm_engineering.domain.ports import WarehouseFiles
from llm_engineering.infrastructure.aws.clients import s3_client
from llm_engineering.infrastructure.aws.s3_files import S3Files, is_s3_url
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings


def warehouse_files(location: str | Path, settings: Settings) -> WarehouseFiles:
    """`s3://bucket/prefix` on boto3 (region, credentials from `settings`; AWS_ENDPOINT_URL honoured), else a folder."""
    if isinstance(location, str) and is_s3_url(location):
        return S3Files.from_url(location, s3_client(settings))
    return FolderFiles(Path(location))
