"""The warehouse's JSON files under an S3 prefix (the `WarehouseFiles` port), on boto3's `s3` client.

The client comes from `clients.s3_client`: region and credentials from Settings, the endpoint from AWS_ENDPOINT_URL
when it is set (boto3 reads it), so a local emulator or an S3-compatible store works unchanged. Every S3 failure is
raised as a `FileStoreError` whose one line names the location and the fix.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from llm_engineering.domain.exceptions import FileStoreError

SCHEME = "s3://"
_ACCESS_CODES = {"AccessDenied", "AllAccessDisabled", "AccountProblem"}
_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
}


class S3Api(Protocol):
    """The calls of boto3's `s3` client used here."""

    meta: Any  # the client's metadata: `endpoint_url`, named in messages

    def list_objects_v2(self, **kwargs: Any) -> Any:
        """One page (up to 1,000 keys) of the objects under a prefix."""
        ...

    def get_object(self, **kwargs: Any) -> Any:
        """One object, its body a stream."""
        ...

    def put_object(self, **kwargs: Any) -> Any:
        """Write one object, replacing any with the same key."""
        ...


def is_s3_url(location: str) -> bool:
    """Whether the location is an `s3://bucket/prefix` URL rather than a folder."""
    return location[: len(SCHEME)].lower() == SCHEME


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix without leading or trailing slashes) of `s3://bucket/prefix`."""
    if not is_s3_url(url):
        raise FileStoreError(f"{url} is not an S3 location; write it as s3://BUCKET/PREFIX.")
    bucket, _, prefix = url[len(SCHEME) :].partition("/")
    if not bucket:
        raise FileStoreError(f"{url} names no bucket; write it as s3://BUCKET/PREFIX.")
    return bucket, prefix.strip("/")


class S3Files:
    """Files directly under one prefix of one bucket: `s3://bucket/prefix/users.json` and so on."""

    def __init__(self, client: S3Api, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def from_url(cls, url: str, client: S3Api) -> "S3Files":
        """The files under `s3://bucket/prefix`."""
        bucket, prefix = parse_s3_url(url)
        return cls(client, bucket, prefix)

    @property
    def location(self) -> str:
        """`s3://bucket/prefix`."""
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def describe(self, name: str) -> str:
        """The object's s3:// URL."""
        return f"{SCHEME}{self.bucket}/{self._key(name)}"

    def names(self) -> set[str]:
        """The names of the objects directly under the prefix; an error when there is none."""
        list_prefix = f"{self.prefix}/" if self.prefix else ""
        found: set[str] = set()
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": list_prefix, "Delimiter": "/"}
        with self._failures("list", self.location):
            while True:
                page = self.client.list_objects_v2(**request)
                found.update(item["Key"][len(list_prefix) :] for item in page.get("Contents", []))
                if not page.get("IsTruncated"):
                    break
                request["ContinuationToken"] = page["NextContinuationToken"]
        found.discard("")  # the folder marker some tools write as `prefix/`
        if not found:
            raise FileStoreError(
                f"no warehouse files under {self.location}/: the prefix holds no objects; "
                "check the bucket and prefix, or export there first."
            )
        return found

    def read_text(self, name: str) -> str:
        """The object's text (UTF-8)."""
        with self._failures("read", self.describe(name)):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"]
            data: bytes = body.read()
        return data.decode("utf-8")

    def write_text(self, name: str, text: str) -> None:
        """Write the object (UTF-8 JSON), replacing one with the same key."""
        with self._failures("write", self.describe(name)):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(name),
                Body=text.encode("utf-8"),
                ContentType="application/json; charset=utf-8",
            )

    @contextmanager
    def _failures(self, action: str, where: str) -> Iterator[None]:
        """Turn botocore's errors into one FileStoreError line: what failed, where, and what to check."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        endpoint = getattr(self.client.meta, "endpoint_url", None) or "S3"
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise FileStoreError(
                f"cannot {action} {where}: no AWS credentials ({error}); set AWS_ACCESS_KEY and AWS_SECRET_KEY "
                "(or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an IAM role)."
            ) from error
        except EndpointConnectionError as error:
            raise FileStoreError(
                f"cannot {action} {where}: {error}; check AWS_ENDPOINT_URL and the network."
            ) from error
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", ""))
            message = str(details.get("Message", "")).strip()[:300]
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code == "NoSuchBucket":
                raise FileStoreError(
                    f"cannot {action} {where}: bucket {self.bucket!r} does not exist at {endpoint}; "
                    "create it, or fix the bucket name (and AWS_ENDPOINT_URL, AWS_REGION)."
                ) from error
            if code in _ACCESS_CODES or (status == 403 and code not in _CREDENTIAL_CODES):
                raise FileStoreError(
                    f"cannot {action} {where}: access denied ({code or status}); the credentials need "
                    f"s3:ListBucket, s3:GetObject and s3:PutObject on bucket {self.bucket!r}."
                ) from error
            if code in _CREDENTIAL_CODES:
                raise FileStoreError(
                    f"cannot {action} {where}: AWS rejected the credentials ({code}); check AWS_ACCESS_KEY and "
                    "AWS_SECRET_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."
                ) from error
            if code in {"NoSuchKey", "404"}:
                raise FileStoreError(f"cannot {action} {where}: no such object.") from error
            raise FileStoreError(
                f"cannot {action} {where}: S3 answered {code or 'an error'} (HTTP {status}): {message}"
            ) from error
        except BotoCoreError as error:
            raise FileStoreError(f"cannot {action} {where}: {error}") from error
