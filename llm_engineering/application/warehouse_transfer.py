"""Export the data warehouse to JSON files and import it back, idempotently and byte-stable.

The warehouse here is the authors, their documents and people's reviews of the dataset rows. The files live wherever
a `WarehouseFiles` adapter puts them: a local folder or an S3 prefix (see bootstrap).

The import also reads the LLM Engineer's Handbook's warehouse dump (UserDocument.json, ArticleDocument.json, ...):
its records are converted to this project's documents, with their ids, hashes and timestamps made here.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from llm_engineering.domain.documents import (
    ArticleDocument,
    Document,
    PostDocument,
    RepositoryDocument,
    UserDocument,
    parse_document,
    utc_now,
)
from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.domain.ports import DocumentRepository, ReviewStore, WarehouseFiles, WriteOutcome
from llm_engineering.domain.reviews import Review
from llm_engineering.domain.types import DataCategory

USERS_FILE = "users.json"
REVIEWS_FILE = "reviews.json"
HANDBOOK_USERS_FILE = "UserDocument.json"
HANDBOOK_FILES = {
    DataCategory.ARTICLES: "ArticleDocument.json",
    DataCategory.POSTS: "PostDocument.json",
    DataCategory.REPOSITORIES: "RepositoryDocument.json",
}


def _file_for(category: DataCategory) -> str:
    return f"{category.value}.json"


def _json_text(rows: list[dict[str, Any]]) -> str:
    # Sorted keys, fixed indent and a trailing newline: the same data always gives the same bytes.
    return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _read_json(files: WarehouseFiles, name: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(files.read_text(name))
    except json.JSONDecodeError as error:
        raise InvalidDocumentError(f"{files.describe(name)} is not valid JSON: {error}") from error
    if not isinstance(rows, list):
        raise InvalidDocumentError(f"{files.describe(name)} must hold a JSON list of objects.")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidDocumentError(f"{name} record {index} is not a JSON object; the file must hold a list.")
    return rows


def export_warehouse(
    repository: DocumentRepository, files: WarehouseFiles, reviews: ReviewStore | None = None
) -> dict[str, int]:
    """Write users, every category and (given a store) the reviews to `files`, one sorted JSON file each; counts.

    Everything is read from the warehouse before the first file is written. A warehouse without reviews writes no
    reviews file, so an export of documents alone stays as it was.
    """
    users = sorted(repository.list_users(), key=lambda user: str(user.id))
    texts = {USERS_FILE: _json_text([user.model_dump(mode="json") for user in users])}
    counts = {"users": len(users)}
    for category in DataCategory:
        documents = sorted(repository.iter_documents(category), key=lambda document: str(document.id))
        texts[_file_for(category)] = _json_text([document.model_dump(mode="json") for document in documents])
        counts[category.value] = len(documents)
    if reviews is not None:
        stored = [
            review for kind in ("instruction", "preference") for review in reviews.find_reviews_of_kind(kind).values()
        ]
        if stored:
            stored.sort(key=lambda review: review.key.id)
            texts[REVIEWS_FILE] = _json_text([review.model_dump(mode="json") for review in stored])
        counts["reviews"] = len(stored)
    for name, text in texts.items():
        files.write_text(name, text)
    return counts


@dataclass
class ImportReport:
    """The format read, how many authors it held, and what the upsert did with each file's documents."""

    format: str = "llm-twin"
    users: int = 0
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, outcome: WriteOutcome) -> int:
        """How many documents, over all categories, had this outcome."""
        return sum(counts.get(outcome.value, 0) for counts in self.outcomes.values())


@dataclass
class _Parsed:
    format: str
    users: list[UserDocument]
    documents: dict[str, list[Document]]  # by file name


def native_file_names() -> list[str]:
    """The files export_warehouse writes: users.json and one per category."""
    return [USERS_FILE, *(_file_for(category) for category in DataCategory)]


def handbook_file_names() -> list[str]:
    """The files of the LLM Engineer's Handbook's warehouse dump."""
    return [HANDBOOK_USERS_FILE, *HANDBOOK_FILES.values()]


def _record_error(name: str, index: int, problem: object) -> InvalidDocumentError:
    return InvalidDocumentError(f"{name} record {index} is malformed: {problem}. Fix or remove that record.")


def _read_native(files: WarehouseFiles, present: set[str]) -> _Parsed:
    users: list[UserDocument] = []
    for index, row in enumerate(_read_json(files, USERS_FILE) if USERS_FILE in present else []):
        try:
            users.append(UserDocument.model_validate(row))
        except ValidationError as error:
            raise _record_error(USERS_FILE, index, error) from error
    documents: dict[str, list[Document]] = {}
    for category in DataCategory:
        name = _file_for(category)
        if name not in present:
            continue
        documents[name] = []
        for index, row in enumerate(_read_json(files, name)):
            try:
                documents[name].append(parse_document(category, row))
            except InvalidDocumentError as error:
                raise InvalidDocumentError(f"{name} record {index}: {error}") from error
    return _Parsed("llm-twin", users, documents)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _handbook_article(record: dict[str, Any], author: UserDocument, now: datetime) -> Document:
    content = record["content"]
    return ArticleDocument.create(
        author=author,
        platform=_text(record["platform"], "platform"),
        link=_text(record["link"], "link"),
        content={
            "title": str(content.get("Title") or ""),
            "subtitle": str(content.get("Subtitle") or ""),
            "content": _text(content.get("Content"), "content.Content"),
        },
        now=now,
    )


def _handbook_post(record: dict[str, Any], author: UserDocument, now: datetime) -> Document:
    content = record["content"]
    platform = _text(record["platform"], "platform")
    link = record.get("link")
    if link is None:
        # The Handbook's posts may have no link; one made from the dump's _id keeps a re-import idempotent.
        host = platform if "." in platform else f"www.{platform}.com"
        link = f"https://{host}/handbook-post/{_text(record['_id'], '_id')}"
    text = content.get("Content", content.get("text"))
    return PostDocument.create(
        author=author,
        platform=platform,
        link=_text(link, "link"),
        content={"text": _text(text, "content.Content (or content.text)")},
        now=now,
        image=record.get("image", content.get("image")),
    )


def _handbook_repository(record: dict[str, Any], author: UserDocument, now: datetime) -> Document:
    link = _text(record["link"], "link")
    return RepositoryDocument.create(
        author=author,
        platform=str(record.get("platform") or "github"),
        link=link,
        content=dict(record["content"]),
        now=now,
        name=_text(record.get("name") or link.rstrip("/").rsplit("/", 1)[-1], "name"),
    )


HANDBOOK_CONVERTERS: dict[DataCategory, Callable[[dict[str, Any], UserDocument, datetime], Document]] = {
    DataCategory.ARTICLES: _handbook_article,
    DataCategory.POSTS: _handbook_post,
    DataCategory.REPOSITORIES: _handbook_repository,
}


def _read_handbook(files: WarehouseFiles, present: set[str]) -> _Parsed:
    """Convert the Handbook's records; author ids are remapped to this project's ids (derived from the name)."""
    now = utc_now()
    authors: dict[str, UserDocument] = {}
    for index, row in enumerate(_read_json(files, HANDBOOK_USERS_FILE) if HANDBOOK_USERS_FILE in present else []):
        try:
            full_name = f"{_text(row['first_name'], 'first_name')} {row.get('last_name') or ''}".strip()
            authors[str(_text(row["_id"], "_id"))] = UserDocument.from_full_name(full_name, now)
        except (KeyError, TypeError, ValueError, InvalidDocumentError) as error:
            raise _record_error(HANDBOOK_USERS_FILE, index, error) from error
    documents: dict[str, list[Document]] = {}
    for category, name in HANDBOOK_FILES.items():
        if name not in present:
            continue
        documents[name] = []
        for index, row in enumerate(_read_json(files, name)):
            try:
                author = authors.get(str(row.get("author_id")))
                if author is None and row.get("author_full_name"):
                    author = UserDocument.from_full_name(_text(row["author_full_name"], "author_full_name"), now)
                    authors[str(row.get("author_id"))] = author
                if author is None:
                    raise ValueError(f"author_id {row.get('author_id')!r} is not in {HANDBOOK_USERS_FILE}")
                documents[name].append(HANDBOOK_CONVERTERS[category](row, author, now))
            except (KeyError, TypeError, ValueError, AttributeError, InvalidDocumentError) as error:
                raise _record_error(name, index, error) from error
    users = list({user.id: user for user in authors.values()}.values())
    return _Parsed("llm-engineers-handbook", users, documents)


def _read_any(files: WarehouseFiles) -> _Parsed:
    """Detect the format by its file names; a location with neither, or with both, is an error."""
    present = files.names()
    native = [name for name in native_file_names() if name in present]
    handbook = [name for name in handbook_file_names() if name in present]
    if native and handbook:
        raise InvalidDocumentError(
            f"{files.location} holds files of two formats ({', '.join(native + handbook)}); keep one format per folder."
        )
    if handbook:
        return _read_handbook(files, present)
    if native:
        return _read_native(files, present)
    raise InvalidDocumentError(
        f"{files.location} holds none of the files the import reads: {', '.join(native_file_names())} "
        f"(this project's export) or {', '.join(handbook_file_names())} (the LLM Engineer's Handbook's dump)."
    )


def _read_reviews(files: WarehouseFiles) -> list[Review]:
    reviews = []
    for index, row in enumerate(_read_json(files, REVIEWS_FILE)):
        try:
            reviews.append(Review.model_validate(row))
        except ValidationError as error:
            raise _record_error(REVIEWS_FILE, index, error) from error
    return reviews


def import_warehouse(
    repository: DocumentRepository, files: WarehouseFiles, reviews: ReviewStore | None = None
) -> ImportReport:
    """Load this project's export or the Handbook's dump; every record is validated before anything is written.

    Given a review store, the export's reviews go back too, each with its version; a newer review in the warehouse
    is kept.
    """
    parsed = _read_any(files)
    exported_reviews = _read_reviews(files) if reviews is not None and REVIEWS_FILE in files.names() else []
    known_authors = {user.id for user in parsed.users} | {user.id for user in repository.list_users()}
    for name, documents in parsed.documents.items():
        for document in documents:
            if document.author_id not in known_authors:
                raise InvalidDocumentError(
                    f"{name}: {document.category.value} document {document.link} names author "
                    f"{document.author_id}, who is neither in the folder's authors file nor in the warehouse."
                )
    report = ImportReport(format=parsed.format, users=len(parsed.users))
    for user in parsed.users:
        repository.upsert_user(user)
    for name, documents in parsed.documents.items():
        counts = {outcome.value: 0 for outcome in WriteOutcome}
        for outcome in repository.upsert_documents(documents).values():
            counts[outcome.value] += 1
        report.outcomes[name] = counts
    if reviews is not None and exported_reviews:
        counts = {outcome.value: 0 for outcome in WriteOutcome}
        for review in exported_reviews:
            counts[reviews.restore_review(review).value] += 1
        report.outcomes[REVIEWS_FILE] = counts
    return report
