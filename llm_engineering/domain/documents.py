"""Raw documents as the data warehouse stores them, and the authors who wrote them."""

from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.domain.ids import content_hash, document_id, user_id
from llm_engineering.domain.types import DataCategory


def utc_now() -> datetime:
    """Current time in UTC at millisecond precision (what MongoDB stores)."""
    return normalise_timestamp(datetime.now(UTC))


def normalise_timestamp(value: datetime) -> datetime:
    """UTC, millisecond precision: a timestamp survives a MongoDB round trip unchanged."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class DomainModel(BaseModel):
    """Base of the persisted models: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("created_at", "updated_at", mode="after", check_fields=False)
    @classmethod
    def _timestamps_in_utc(cls, value: datetime) -> datetime:
        return normalise_timestamp(value)


class UserDocument(DomainModel):
    """An author whose writing feeds the twin."""

    id: UUID
    first_name: str = Field(min_length=1)
    last_name: str
    created_at: datetime

    @property
    def full_name(self) -> str:
        """First and last name joined by a space, the author's natural key."""
        return f"{self.first_name} {self.last_name}".strip()

    @classmethod
    def from_full_name(cls, full_name: str, now: datetime | None = None) -> Self:
        """Split "First Last Names" into first and last name; the id follows from the full name."""
        parts = full_name.split()
        if not parts:
            raise InvalidDocumentError("An author needs a non-empty full name.")
        return cls(
            id=user_id(full_name),
            first_name=parts[0],
            last_name=" ".join(parts[1:]),
            created_at=now or utc_now(),
        )


def _check_link(link: str) -> str:
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"link must be an absolute http(s) URL, got {link!r}")
    return link


class Document(DomainModel):
    """A raw document in the warehouse. Identity is (platform, link, author)."""

    category: ClassVar[DataCategory]
    extra_fields: ClassVar[tuple[str, ...]] = ()

    id: UUID
    author_id: UUID
    author_full_name: str = Field(min_length=1)
    platform: str = Field(min_length=1)
    link: str
    content: dict[str, Any]
    content_hash: str
    created_at: datetime
    updated_at: datetime

    _link_is_url = field_validator("link")(_check_link)

    @field_validator("content")
    @classmethod
    def _content_not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("content must not be empty")
        return value

    @classmethod
    def create(
        cls,
        *,
        author: UserDocument,
        platform: str,
        link: str,
        content: dict[str, Any],
        now: datetime | None = None,
        **extra: Any,
    ) -> Self:
        """Build a new document with its deterministic id and content hash."""
        timestamp = now or utc_now()
        try:
            return cls(
                id=document_id(platform, link, author.id),
                author_id=author.id,
                author_full_name=author.full_name,
                platform=platform,
                link=link,
                content=content,
                content_hash=cls.hash_of(content, extra),
                created_at=timestamp,
                updated_at=timestamp,
                **extra,
            )
        except ValidationError as error:
            raise InvalidDocumentError(f"Invalid {cls.category.value} document {link!r}: {error}") from error

    @classmethod
    def hash_of(cls, content: dict[str, Any], extra: dict[str, Any]) -> str:
        """Hash of everything a crawl can change: the content and the category's extra fields."""
        return content_hash({"content": content, **{k: extra.get(k) for k in cls.extra_fields}})

    def extras(self) -> dict[str, Any]:
        """The category-specific fields, as passed to `create`."""
        return {name: getattr(self, name) for name in self.extra_fields}


class ArticleDocument(Document):
    """An article: content holds `title`, `subtitle` and the markdown `content` body."""

    category = DataCategory.ARTICLES


class PostDocument(Document):
    """A short social post: content holds `text`; `image` is the post's image link, if any."""

    category = DataCategory.POSTS
    extra_fields = ("image",)

    image: str | None = None


class RepositoryDocument(Document):
    """A code repository: content maps each kept file path to its exact text."""

    category = DataCategory.REPOSITORIES
    extra_fields = ("name",)

    name: str = Field(min_length=1)

    @field_validator("content")
    @classmethod
    def _files_are_text(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path, text in value.items():
            if not isinstance(text, str):
                raise ValueError(f"file {path!r} must map to its text, got {type(text).__name__}")
        return value


DOCUMENT_CLASSES: dict[DataCategory, type[Document]] = {
    DataCategory.ARTICLES: ArticleDocument,
    DataCategory.POSTS: PostDocument,
    DataCategory.REPOSITORIES: RepositoryDocument,
}


def parse_document(category: DataCategory, data: dict[str, Any]) -> Document:
    """Validate a stored or imported record as a document of `category`."""
    try:
        return DOCUMENT_CLASSES[category].model_validate(data)
    except ValidationError as error:
        where = data.get("link") or data.get("id") or "<no link>"
        raise InvalidDocumentError(f"Malformed {category.value} document {where}: {error}") from error
