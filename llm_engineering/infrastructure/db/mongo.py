"""MongoDB data warehouse adapter: authors and raw documents, upserted by natural key."""

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import UUID

from loguru import logger
from pymongo import ASCENDING, MongoClient, ReturnDocument, UpdateOne
from pymongo.collection import Collection as MongoCollection
from pymongo.database import Database
from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

from llm_engineering.domain.documents import Document, UserDocument, parse_document, utc_now
from llm_engineering.domain.exceptions import DataWarehouseUnavailableError
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.local.mongo_server import ensure_local_mongo
from llm_engineering.settings import Settings

USERS = "users"
MongoRecord = dict[str, Any]


def connect_mongo(settings: Settings) -> MongoClient[MongoRecord]:
    """A connected client: starts the embedded server first when no DATABASE_HOST is set."""
    ensure_local_mongo(settings)
    client: MongoClient[MongoRecord] = MongoClient(
        settings.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=settings.DATABASE_TIMEOUT_MS
    )
    try:
        client.admin.command("ping")
    except PyMongoError as error:
        client.close()
        hint = (
            "Start it with `poe local-infrastructure-up`."
            if settings.uses_embedded_mongo
            else "Check DATABASE_HOST, or unset it to use the embedded local server."
        )
        raise DataWarehouseUnavailableError(
            f"Cannot reach MongoDB at {_redacted(settings.mongo_uri)}: {error}. {hint}"
        ) from error
    return client


def _redacted(uri: str) -> str:
    """The URI without its password, for error messages and logs."""
    if "@" not in uri:
        return uri
    scheme, rest = uri.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _to_record(model: Document | UserDocument) -> MongoRecord:
    data = model.model_dump(mode="python")
    record: MongoRecord = {"_id": str(data.pop("id"))}
    for key, value in data.items():
        record[key] = str(value) if isinstance(value, UUID) else value
    return record


def _from_record(record: MongoRecord) -> MongoRecord:
    data = dict(record)
    data["id"] = data.pop("_id")
    return data


class MongoDataWarehouse:
    """The `twin` database: `users`, `articles`, `posts`, `repositories`."""

    def __init__(self, database: Database[MongoRecord], batch_size: int = 500) -> None:
        self._db = database
        self._batch_size = batch_size
        self._indexed: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> "MongoDataWarehouse":
        """The warehouse on the database the settings name, connecting to Mongo (embedded or server)."""
        return cls(connect_mongo(settings)[settings.DATABASE_NAME])

    @property
    def database(self) -> Database[MongoRecord]:
        """The underlying pymongo database."""
        return self._db

    def _collection(self, name: str) -> MongoCollection[MongoRecord]:
        collection = self._db[name]
        if name not in self._indexed:
            self._create_indexes(collection)
            self._indexed.add(name)
        return collection

    @staticmethod
    def _create_indexes(collection: MongoCollection[MongoRecord]) -> None:
        try:
            if collection.name == USERS:
                collection.create_index([("first_name", ASCENDING), ("last_name", ASCENDING)], name="full_name")
                return
            collection.create_index(
                [("platform", ASCENDING), ("link", ASCENDING), ("author_id", ASCENDING)],
                unique=True,
                name="natural_key",
            )
            collection.create_index([("author_id", ASCENDING)], name="author")
        except ServerSelectionTimeoutError as error:
            raise DataWarehouseUnavailableError(f"MongoDB went away while creating indexes: {error}") from error

    def upsert_user(self, user: UserDocument) -> UserDocument:
        """Insert the author if new; an existing author keeps its original created_at."""
        record = _to_record(user)
        created_at = record.pop("created_at")
        stored = self._collection(USERS).find_one_and_update(
            {"_id": record["_id"]},
            {"$set": record, "$setOnInsert": {"created_at": created_at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if stored is None:
            raise DataWarehouseUnavailableError(f"MongoDB acknowledged no write for author {user.full_name!r}.")
        return UserDocument.model_validate(_from_record(stored))

    def find_user(self, full_name: str) -> UserDocument | None:
        """The author whose first and last names make this full name, or None."""
        parts = full_name.split()
        if not parts:
            return None
        record = self._collection(USERS).find_one({"first_name": parts[0], "last_name": " ".join(parts[1:])})
        return UserDocument.model_validate(_from_record(record)) if record else None

    def list_users(self) -> list[UserDocument]:
        """Every author, in id order."""
        records = self._collection(USERS).find().sort("_id", ASCENDING)
        return [UserDocument.model_validate(_from_record(record)) for record in records]

    def upsert_documents(self, documents: Iterable[Document]) -> dict[UUID, WriteOutcome]:
        """Write new and changed documents in batches; unchanged ones are not touched."""
        outcomes: dict[UUID, WriteOutcome] = {}
        for batch in _batched(documents, self._batch_size):
            by_category: dict[DataCategory, list[Document]] = {}
            for document in batch:
                by_category.setdefault(document.category, []).append(document)
            for category, docs in by_category.items():
                outcomes.update(self._upsert_batch(category, docs))
        return outcomes

    def _upsert_batch(self, category: DataCategory, documents: list[Document]) -> dict[UUID, WriteOutcome]:
        collection = self._collection(category.value)
        ids = [str(document.id) for document in documents]
        stored = {
            record["_id"]: record["content_hash"]
            for record in collection.find({"_id": {"$in": ids}}, {"content_hash": 1})
        }
        outcomes: dict[UUID, WriteOutcome] = {}
        operations = []
        now = utc_now()
        for document in documents:
            previous_hash = stored.get(str(document.id))
            if previous_hash == document.content_hash:
                outcomes[document.id] = WriteOutcome.UNCHANGED
                continue
            outcomes[document.id] = WriteOutcome.CREATED if previous_hash is None else WriteOutcome.UPDATED
            record = _to_record(document)
            created_at: datetime = record.pop("created_at")
            if previous_hash is not None:
                record["updated_at"] = max(now, record["updated_at"])
            operations.append(
                UpdateOne(
                    {"_id": record["_id"]}, {"$set": record, "$setOnInsert": {"created_at": created_at}}, upsert=True
                )
            )
        if operations:
            collection.bulk_write(operations, ordered=False)
        return outcomes

    def find_documents(
        self,
        category: DataCategory,
        *,
        author_id: UUID | None = None,
        platform: str | None = None,
        link: str | None = None,
    ) -> list[Document]:
        """The documents of one category, narrowed by author, platform or link when given."""
        query: MongoRecord = {}
        if author_id is not None:
            query["author_id"] = str(author_id)
        if platform is not None:
            query["platform"] = platform
        if link is not None:
            query["link"] = link
        records = self._collection(category.value).find(query).sort("_id", ASCENDING)
        return [parse_document(category, _from_record(record)) for record in records]

    def iter_documents(
        self, category: DataCategory, *, author_id: UUID | None = None, batch_size: int = 500
    ) -> Iterator[Document]:
        """All documents of a category in id order, read in pages keyed on _id (no skip scans)."""
        query: MongoRecord = {} if author_id is None else {"author_id": str(author_id)}
        last_id: str | None = None
        collection = self._collection(category.value)
        while True:
            page_query = query if last_id is None else {**query, "_id": {"$gt": last_id}}
            page = list(collection.find(page_query).sort("_id", ASCENDING).limit(batch_size))
            for record in page:
                yield parse_document(category, _from_record(record))
            if len(page) < batch_size:
                return
            last_id = page[-1]["_id"]

    def find_documents_by_ids(self, category: DataCategory, ids: Iterable[UUID]) -> list[Document]:
        """The documents with these ids (missing ones are simply absent), fetched in batches."""
        documents: list[Document] = []
        for batch in _batched((str(i) for i in ids), self._batch_size):
            records = self._collection(category.value).find({"_id": {"$in": batch}}).sort("_id", ASCENDING)
            documents += [parse_document(category, _from_record(record)) for record in records]
        return documents

    def document_hashes(self, category: DataCategory, *, author_ids: Collection[UUID] | None = None) -> dict[UUID, str]:
        """{document id: content hash} without loading the content: what incremental updates compare."""
        query: MongoRecord = {} if author_ids is None else {"author_id": {"$in": [str(a) for a in author_ids]}}
        records = self._collection(category.value).find(query, {"content_hash": 1})
        return {UUID(record["_id"]): record["content_hash"] for record in records}

    def delete_documents(self, category: DataCategory, ids: Iterable[UUID]) -> int:
        """Delete these documents of one category in batches; the number deleted."""
        deleted = 0
        for batch in _batched((str(i) for i in ids), self._batch_size):
            deleted += self._collection(category.value).delete_many({"_id": {"$in": batch}}).deleted_count
        if deleted:
            logger.info("Deleted {} {} from the warehouse.", deleted, category.value)
        return deleted

    def count_documents(self, category: DataCategory, *, author_id: UUID | None = None) -> int:
        """How many documents one category holds (of one author when given)."""
        query: MongoRecord = {} if author_id is None else {"author_id": str(author_id)}
        return self._collection(category.value).count_documents(query)

    def count_users(self) -> int:
        """How many authors the warehouse holds."""
        return self._collection(USERS).count_documents({})
