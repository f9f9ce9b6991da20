"""MongoDB adapter for reviews of dataset rows: the warehouse's `reviews` collection, saved with a version check."""

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection as MongoCollection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, ServerSelectionTimeoutError

from llm_engineering.domain.datasets import DatasetType
from llm_engineering.domain.exceptions import DataWarehouseUnavailableError, ReviewConflictError
from llm_engineering.domain.ports import WriteOutcome
from llm_engineering.domain.reviews import Review, SampleKey
from llm_engineering.infrastructure.db.mongo import MongoRecord, connect_mongo
from llm_engineering.settings import Settings

REVIEWS = "reviews"


def _stored_time(moment: datetime) -> datetime:
    """The time as BSON keeps it (UTC, milliseconds), so a saved review equals the one read back."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _to_record(review: Review) -> MongoRecord:
    return {
        "_id": review.key.id,
        "document_id": str(review.key.document_id),
        "kind": review.key.kind,
        "content_hash": review.key.content_hash,
        "verdict": review.verdict.value,
        "instruction": review.instruction,
        "answer": review.answer,
        "reviewer": review.reviewer,
        "reviewed_at": review.reviewed_at,
        "version": review.version,
    }


def _from_record(record: MongoRecord) -> Review:
    key = SampleKey(document_id=UUID(record["document_id"]), kind=record["kind"], content_hash=record["content_hash"])
    fields = {name: record[name] for name in ("verdict", "instruction", "answer", "reviewer", "reviewed_at", "version")}
    return Review.model_validate({"key": key, **fields})


class MongoReviewStore:
    """One document per reviewed row, its `_id` the row's key id: a row generated again finds its review."""

    def __init__(self, database: Database[MongoRecord], *, client: MongoClient[MongoRecord] | None = None) -> None:
        """`client`: the connection this store owns and closes; None when the caller owns it."""
        self._db = database
        self._client = client
        self._indexed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "MongoReviewStore":
        """The reviews of the warehouse the settings name, on a connection of their own (close() closes it)."""
        client = connect_mongo(settings)
        return cls(client[settings.DATABASE_NAME], client=client)

    def close(self) -> None:
        """Close the connection when this store opened it."""
        if self._client is not None:
            self._client.close()

    def _collection(self) -> MongoCollection[MongoRecord]:
        collection = self._db[REVIEWS]
        if not self._indexed:
            try:
                # Later readers list a dataset kind's reviews, or one document's.
                collection.create_index([("kind", ASCENDING), ("document_id", ASCENDING)], name="kind_document")
            except ServerSelectionTimeoutError as error:
                raise DataWarehouseUnavailableError(f"MongoDB went away while creating indexes: {error}") from error
            self._indexed = True
        return collection

    def save_review(self, review: Review) -> Review:
        """Store the review as its version + 1; ReviewConflictError when the stored version is not the one it names.

        The first review of a row (version 0) is an insert, which the `_id` makes unique; a later one replaces the
        stored document only while that still has the version the reviewer saw. Either is one atomic operation.
        """
        saved = review.model_copy(
            update={"version": review.version + 1, "reviewed_at": _stored_time(review.reviewed_at)}
        )
        record = _to_record(saved)
        collection = self._collection()
        if review.version == 0:
            try:
                collection.insert_one(record)
            except DuplicateKeyError:
                raise self._conflict(review) from None
        elif collection.replace_one({"_id": record["_id"], "version": review.version}, record).matched_count == 0:
            raise self._conflict(review)
        return saved

    def restore_review(self, review: Review) -> WriteOutcome:
        """Put an exported review back with its version: an insert, or a replace of an older version only."""
        record = _to_record(review.model_copy(update={"reviewed_at": _stored_time(review.reviewed_at)}))
        collection = self._collection()
        try:
            collection.insert_one(record)
        except DuplicateKeyError:
            older = {"_id": record["_id"], "version": {"$lt": review.version}}
            return (
                WriteOutcome.UPDATED if collection.replace_one(older, record).matched_count else WriteOutcome.UNCHANGED
            )
        return WriteOutcome.CREATED

    def _conflict(self, review: Review) -> ReviewConflictError:
        current = self.find_review(review.key)
        row = f"{review.key.kind} row {review.key.id} (document {review.key.document_id})"
        if current is None:
            return ReviewConflictError(
                f"The review of {row} was made on version {review.version}, but the row has no stored review now; "
                "reload the row and review it again."
            )
        seen = "no review" if review.version == 0 else f"version {review.version}"
        return ReviewConflictError(
            f"The {row} was reviewed by {current.reviewer} at {current.reviewed_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(version {current.version}, {current.verdict.value}) after this review was made on {seen}; "
            "reload the row and review it again."
        )

    def find_review(self, key: SampleKey) -> Review | None:
        """The stored review of this row, or None."""
        record = self._collection().find_one({"_id": key.id})
        return _from_record(record) if record is not None else None

    def find_reviews_of_kind(self, kind: DatasetType) -> dict[SampleKey, Review]:
        """Every stored review of this dataset kind, by key, read in one query on the kind's index."""
        reviews = (_from_record(record) for record in self._collection().find({"kind": kind}))
        return {review.key: review for review in reviews}

    def find_reviews(self, keys: Iterable[SampleKey], *, batch_size: int = 500) -> dict[SampleKey, Review]:
        """The stored reviews of these rows by key, read `batch_size` ids at a time; unreviewed rows are left out."""
        by_id = {key.id: key for key in keys}
        ids = list(by_id)
        found: dict[SampleKey, Review] = {}
        for start in range(0, len(ids), batch_size):
            for record in self._collection().find({"_id": {"$in": ids[start : start + batch_size]}}):
                found[by_id[record["_id"]]] = _from_record(record)
        return found
