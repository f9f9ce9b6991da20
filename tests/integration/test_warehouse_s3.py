"""The warehouse to and from S3 (`--dir s3://bucket/prefix`), against moto in server mode through AWS_ENDPOINT_URL."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import boto3
import pytest

from llm_engineering.application.warehouse_transfer import export_warehouse, import_warehouse
from llm_engineering.bootstrap.warehouse_files import warehouse_files
from llm_engineering.domain.exceptions import FileStoreError, InvalidDocumentError
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.aws.s3_files import S3Files
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
from llm_engineering.infrastructure.local.folder_files import FolderFiles
from llm_engineering.settings import Settings
from tests.aws_support import REGION, aws_emulator  # noqa: F401 - the fixture, used by name below
from tests.cli_support import llm_twin
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.usefixtures("aws_emulator")

FILES = ["users.json", "articles.json", "posts.json", "repositories.json"]


def s3() -> Any:
    """A plain boto3 client on the emulator (the environment the fixture set), for the test's own checks."""
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def bucket() -> str:
    name = f"twin-{uuid.uuid4().hex[:12]}"
    s3().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def fresh_warehouse(settings: Settings) -> Iterator[MongoDataWarehouse]:
    """A second, empty database on the same server."""
    name = f"{settings.DATABASE_NAME}_fresh"
    client = connect_mongo(settings)
    yield MongoDataWarehouse(client[name], batch_size=7)
    client.drop_database(name)
    client.close()


def contents(warehouse: MongoDataWarehouse) -> dict[str, list[UUID]]:
    """Every id the warehouse holds, per collection."""
    held = {"users": sorted(user.id for user in warehouse.list_users())}
    for category in DataCategory:
        held[category.value] = sorted(document.id for document in warehouse.iter_documents(category))
    return held


def keys_under(bucket: str, prefix: str) -> dict[str, bytes]:
    listing = s3().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {
        item["Key"]: s3().get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in listing.get("Contents", [])
    }


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_round_trip_through_s3_keeps_every_document(
    warehouse: MongoDataWarehouse,
    fresh_warehouse: MongoDataWarehouse,
    settings: Settings,
    pipeline_env: Settings,
    bucket: str,
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    before = contents(warehouse)
    assert all(before.values())

    # The command line, in process: `llm-twin warehouse export --dir s3://bucket/some/prefix`.
    assert llm_twin(["warehouse", "export", "--dir", f"s3://{bucket}/some/prefix"]) == 0

    stored = keys_under(bucket, "some/prefix/")
    assert sorted(stored) == sorted(f"some/prefix/{name}" for name in FILES)
    for name in FILES:  # the same bytes as a folder export: the sample corpus is one
        assert stored[f"some/prefix/{name}"] == (SAMPLE_DIR / name).read_bytes(), name

    report = import_warehouse(fresh_warehouse, warehouse_files(f"s3://{bucket}/some/prefix/", settings))
    assert report.format == "llm-twin" and report.users == len(before["users"])
    assert report.total(WriteOutcome.CREATED) == sum(len(ids) for name, ids in before.items() if name != "users")
    assert contents(fresh_warehouse) == before
    for category in DataCategory:
        assert fresh_warehouse.count_documents(category) == warehouse.count_documents(category)

    again = import_warehouse(fresh_warehouse, warehouse_files(f"s3://{bucket}/some/prefix", settings))
    assert again.total(WriteOutcome.CREATED) == again.total(WriteOutcome.UPDATED) == 0


def test_cli_imports_from_s3(
    warehouse: MongoDataWarehouse, fresh_warehouse: MongoDataWarehouse, pipeline_env: Settings, bucket: str
) -> None:
    for name in FILES:
        s3().put_object(Bucket=bucket, Key=f"export/{name}", Body=(SAMPLE_DIR / name).read_bytes())
    assert llm_twin(["warehouse", "import", "--dir", f"s3://{bucket}/export"]) == 0
    import_warehouse(fresh_warehouse, FolderFiles(SAMPLE_DIR))
    assert contents(warehouse) == contents(fresh_warehouse)


def test_missing_bucket_is_one_line_and_nothing_changes(
    warehouse: MongoDataWarehouse, settings: Settings, pipeline_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    import_warehouse(warehouse, FolderFiles(SAMPLE_DIR))
    before = contents(warehouse)
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/twin"
    with pytest.raises(FileStoreError, match=r"bucket 'no-such-bucket-\w+' does not exist"):
        export_warehouse(warehouse, warehouse_files(missing, settings))
    with pytest.raises(FileStoreError, match="does not exist"):
        import_warehouse(warehouse, warehouse_files(missing, settings))

    capsys.readouterr()
    assert llm_twin(["warehouse", "export", "--dir", missing]) == 1
    assert llm_twin(["warehouse", "import", "--dir", missing]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 2 and all("does not exist" in line and missing in line for line in lines), lines
    assert contents(warehouse) == before


def test_empty_prefix_on_import_is_an_error(
    warehouse: MongoDataWarehouse,
    settings: Settings,
    pipeline_env: Settings,
    bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(FileStoreError, match=rf"no warehouse files under s3://{bucket}/empty/prefix"):
        import_warehouse(warehouse, warehouse_files(f"s3://{bucket}/empty/prefix", settings))
    s3().put_object(Bucket=bucket, Key="nested/deeper/users.json", Body=b"[]")  # not directly under the prefix
    with pytest.raises(FileStoreError, match=rf"no warehouse files under s3://{bucket}/nested"):
        import_warehouse(warehouse, warehouse_files(f"s3://{bucket}/nested", settings))

    capsys.readouterr()
    assert llm_twin(["warehouse", "import", "--dir", f"s3://{bucket}/empty"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        f"error: no warehouse files under s3://{bucket}/empty/: the prefix holds no objects; "
        "check the bucket and prefix, or export there first."
    ]
    assert contents(warehouse) == {"users": [], **{category.value: [] for category in DataCategory}}


def test_prefix_without_warehouse_files_and_bad_json_name_the_s3_location(
    warehouse: MongoDataWarehouse, settings: Settings, bucket: str
) -> None:
    s3().put_object(Bucket=bucket, Key="notes/readme.txt", Body=b"hello")
    with pytest.raises(InvalidDocumentError, match=rf"s3://{bucket}/notes holds none of the files.*users\.json"):
        import_warehouse(warehouse, warehouse_files(f"s3://{bucket}/notes", settings))
    s3().put_object(Bucket=bucket, Key="broken/articles.json", Body=b"[{")
    with pytest.raises(InvalidDocumentError, match=rf"s3://{bucket}/broken/articles\.json is not valid JSON"):
        import_warehouse(warehouse, warehouse_files(f"s3://{bucket}/broken", settings))
    assert warehouse.list_users() == []


def test_no_credentials_is_one_clear_error(
    warehouse: MongoDataWarehouse, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3's default session keeps the credentials it found
    assert settings.AWS_ACCESS_KEY is None
    with pytest.raises(FileStoreError, match=r"no AWS credentials.*AWS_ACCESS_KEY and AWS_SECRET_KEY"):
        export_warehouse(warehouse, warehouse_files("s3://any-bucket/twin", settings))


def test_the_location_picks_the_adapter(settings: Settings, tmp_path: Path) -> None:
    assert isinstance(warehouse_files(str(tmp_path), settings), FolderFiles)
    assert isinstance(warehouse_files(tmp_path, settings), FolderFiles)
    files = warehouse_files("s3://bucket/a/b/", settings)
    assert isinstance(files, S3Files) and (files.bucket, files.prefix) == ("bucket", "a/b")
    assert files.describe("users.json") == "s3://bucket/a/b/users.json"
    assert warehouse_files("s3://bucket", settings).describe("users.json") == "s3://bucket/users.json"
    with pytest.raises(FileStoreError, match="names no bucket"):
        warehouse_files("s3:///prefix", settings)
