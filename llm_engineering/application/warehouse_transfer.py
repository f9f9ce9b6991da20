"""Export the data warehouse to JSON files and import it back, idempotently and byte-stable.

The import also reads the LLM Engineer's Handbook's warehouse dump (UserDocument.json, ArticleDocument.json, ...):
its records are converted to this project's documents, with their ids, hashes and timestamps made here.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
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
from llm_engineering.domain.ports import DocumentRepository, WriteOutcome
from llm_engineering.domain.types import DataCategory

USERS_FILE = "users.json"
HANDBOOK_USERS_FILE = "UserDocument.json"
HANDBOOK_FILES = {
    DataCategory.ARTICLES: "ArticleDocument.json",
    DataCategory.POSTS: "PostDocument.json",
    DataCategory.REPOSITORIES: "RepositoryDocument.json",
}


def _file_for(category: DataCategory) -> str:
    return f"{category.value}.json"


def _write_json(path: Path, rows: list[dict[str, Any]]) -> None:
    # Sorted keys, fixed indent and a trailing newline: the same data always gives the same bytes.
    path.write_text(json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidDocumentError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(rows, list):
        raise InvalidDocumentError(f"{path} must hold a JSON list of objects.")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidDocumentError(f"{path.name} record {index} is not a JSON object; the file must hold a list.")
    return rows


def export_warehouse(repository: DocumentRepository, directory: Path) -> dict[str, int]:
    """Write users and every category to `directory`, one sorted JSON file each; returns counts."""
    directory.mkdir(parents=True, exist_ok=True)
    users = sorted(repository.list_users(), key=lambda user: str(user.id))
    _write_json(directory / USERS_FILE, [user.model_dump(mode="json") for user in users])
    counts = {"users": len(users)}
    for category in DataCategory:
        documents = sorted(repository.iter_documents(category), key=lambda document: str(document.id))
        _write_json(directory / _file_for(category), [document.model_dump(mode="json") for document in documents])
        counts[category.value] = len(documents)
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


def _record_error(path: Path, index: int, problem: object) -> InvalidDocumentError:
    return InvalidDocumentError(f"{path.name} record {index} is malformed: {problem}. Fix or remove that record.")


def _read_native(directory: Path) -> _Parsed:
    users_path = directory / USERS_FILE
    users: list[UserDocument] = []
    for index, row in enumerate(_read_json(users_path) if users_path.exists() else []):
        try:
            users.append(UserDocument.model_validate(row))
        except ValidationError as error:
            raise _record_error(users_path, index, error) from error
    documents: dict[str, list[Document]] = {}
    for category in DataCategory:
        path = directory / _file_for(category)
        if not path.exists():
            continue
        documents[path.name] = []
        for index, row in enumerate(_read_json(path)):
            try:
                documents[path.name].append(parse_document(category, row))
            except InvalidDocumentError as error:
                raise InvalidDocumentError(f"{path.name} record {index}: {error}") from error
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


def _read_handbook(directory: Path) -> _Parsed:
    """Convert the Handbook's records; author ids are remapped to this project's ids (derived from the name)."""
    now = utc_now()
    users_path = directory / HANDBOOK_USERS_FILE
    authors: dict[str, UserDocument] = {}
    for index, row in enumerate(_read_json(users_path) if users_path.exists() else []):
        try:
            full_name = f"{_text(row['first_name'], 'first_name')} {row.get('last_name') or ''}".strip()
            authors[str(_text(row["_id"], "_id"))] = UserDocument.from_full_name(full_name, now)
        except (KeyError, TypeError, ValueError, InvalidDocumentError) as error:
            raise _record_error(users_path, index, error) from error
    documents: dict[str, list[Document]] = {}
    for category, name in HANDBOOK_FILES.items():
        path = directory / name
        if not path.exists():
            continue
        documents[name] = []
        for index, row in enumerate(_read_json(path)):
            try:
                author = authors.get(str(row.get("author_id")))
                if author is None and row.get("author_full_name"):
                    author = UserDocument.from_full_name(_text(row["author_full_name"], "author_full_name"), now)
                    authors[str(row.get("author_id"))] = author
                if author is None:
                    raise ValueError(f"author_id {row.get('author_id')!r} is not in {HANDBOOK_USERS_FILE}")
                documents[name].append(HANDBOOK_CONVERTERS[category](row, author, now))
            except (KeyError, TypeError, ValueError, AttributeError, InvalidDocumentError) as error:
                raise _record_error(path, index, error) from error
    users = list({user.id: user for user in authors.values()}.values())
    return _Parsed("llm-engineers-handbook", users, documents)


def _read_any(directory: Path) -> _Parsed:
    """Detect the format by its file names; a directory with neither, or with both, is an error."""
    if not directory.is_dir():
        raise InvalidDocumentError(f"{directory} is not a directory; give the folder that holds the JSON files.")
    native = [name for name in native_file_names() if (directory / name).exists()]
    handbook = [name for name in handbook_file_names() if (directory / name).exists()]
    if native and handbook:
        raise InvalidDocumentError(
            f"{directory} holds files of two formats ({', '.join(native + handbook)}); keep one format per folder."
        )
    if handbook:
        return _read_handbook(directory)
    if native:
        return _read_native(directory)
    raise InvalidDocumentError(
        f"{directory} holds none of the files the import reads: {', '.join(native_file_names())} "
        f"(this project's export) or {', '.join(handbook_file_names())} (the LLM Engineer's Handbook's dump)."
    )


def import_warehouse(repository: DocumentRepository, directory: Path) -> ImportReport:
    """Load this project's export or the Handbook's dump; every record is validated before anything is written."""
    parsed = _read_any(directory)
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
    return report
