"""Export the data warehouse to JSON files and import it back, idempotently and byte-stable."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_engineering.domain.documents import UserDocument, parse_document
from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.domain.ports import DocumentRepository, WriteOutcome
from llm_engineering.domain.types import DataCategory

USERS_FILE = "users.json"


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
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise InvalidDocumentError(f"{path} must hold a JSON list of objects.")
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
    """How many records each file held and what the upsert did with them."""

    users: int = 0
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, outcome: WriteOutcome) -> int:
        return sum(counts.get(outcome.value, 0) for counts in self.outcomes.values())


def import_warehouse(repository: DocumentRepository, directory: Path) -> ImportReport:
    """Load a directory written by export_warehouse; every record is validated before anything is written."""
    if not directory.is_dir():
        raise InvalidDocumentError(f"{directory} is not a directory with users.json and one JSON file per category.")
    users_path = directory / USERS_FILE
    users = [UserDocument.model_validate(row) for row in _read_json(users_path)] if users_path.exists() else []
    parsed = {}
    for category in DataCategory:
        path = directory / _file_for(category)
        parsed[category] = [parse_document(category, row) for row in _read_json(path)] if path.exists() else []
    known_authors = {user.id for user in users} | {user.id for user in repository.list_users()}
    for category, documents in parsed.items():
        for document in documents:
            if document.author_id not in known_authors:
                raise InvalidDocumentError(
                    f"{category.value} document {document.link} names author {document.author_id}, "
                    f"who is neither in {users_path} nor in the warehouse."
                )
    report = ImportReport(users=len(users))
    for user in users:
        repository.upsert_user(user)
    for category, documents in parsed.items():
        counts = {outcome.value: 0 for outcome in WriteOutcome}
        for outcome in repository.upsert_documents(documents).values():
            counts[outcome.value] += 1
        report.outcomes[category.value] = counts
    return report
