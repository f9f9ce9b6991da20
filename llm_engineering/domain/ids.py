"""Deterministic identities and content hashes, so every write is an idempotent upsert."""

import hashlib
import json
import uuid
from typing import Any

# Fixed namespace: the same natural key gives the same id on every machine, forever.
NAMESPACE = uuid.UUID("6f2b7c1e-3d4a-5b8e-9c0d-1a2b3c4d5e6f")


def user_id(full_name: str) -> uuid.UUID:
    """Id of an author, derived from the normalised full name."""
    return uuid.uuid5(NAMESPACE, "user:" + " ".join(full_name.split()).casefold())


def document_id(platform: str, link: str, author_id: uuid.UUID) -> uuid.UUID:
    """Id of a raw document: one per (platform, link, author), so two authors never collide."""
    return uuid.uuid5(NAMESPACE, f"document:{platform}:{link}:{author_id}")


def chunk_id(document_id: uuid.UUID, index: int) -> uuid.UUID:
    """Id of the index-th chunk of a document; a re-run overwrites the same points."""
    return uuid.uuid5(NAMESPACE, f"chunk:{document_id}:{index}")


def content_hash(content: Any) -> str:
    """SHA-256 of a canonical JSON rendering of the content (key order does not matter)."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sample_id(document_id: uuid.UUID, kind: str, text_hash: str) -> uuid.UUID:
    """Id of a dataset row: its source document, its kind and the hash of its text; its review is stored under it."""
    return uuid.uuid5(NAMESPACE, f"sample:{kind}:{document_id}:{text_hash}")
