"""Cut cleaned documents into extracts: passages long enough to answer a question, short enough to be one answer."""

import re
from collections.abc import Collection, Iterable, Iterator
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llm_engineering.domain.datasets import Extract
from llm_engineering.domain.features import CleanedDocument
from llm_engineering.domain.ports import VectorStore
from llm_engineering.domain.types import DataCategory

FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)


class ExtractConfig(BaseModel):
    """The `extracts` section of the dataset configs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: list[DataCategory] = Field(default_factory=lambda: list(DataCategory))
    min_words: int = Field(default=40, ge=1)
    max_words: int = Field(default=220, ge=1)
    max_per_category: int | None = Field(
        default=8, ge=1, description="cap of the extracts the LLM strategies read, for a quick CPU run; None keeps all"
    )

    @model_validator(mode="after")
    def _bounds(self) -> "ExtractConfig":
        if self.min_words > self.max_words:
            raise ValueError("extracts.min_words must not exceed extracts.max_words")
        return self


def load_cleaned_documents(
    store: VectorStore, category: DataCategory, *, author_ids: Collection[UUID] | None = None
) -> Iterator[CleanedDocument]:
    """Cleaned documents of a category from the feature store, read page by page."""
    filters = {"author_id": [str(a) for a in author_ids]} if author_ids is not None else None
    for record in store.scroll(category.cleaned_collection, filters=filters, page_size=128):
        payload = {k: v for k, v in record.payload.items() if k not in {"document_id", "feature_version"}}
        yield CleanedDocument.model_validate({"id": record.id, **payload})


def _blocks(text: str) -> list[str]:
    """Blank-line separated blocks, keeping a fenced code block whole even when it contains blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if FENCE.match(line):
            in_code = not in_code
        if not line.strip() and not in_code:
            if current:
                blocks.append("\n".join(current).strip())
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current).strip())
    return [block for block in blocks if block]


def _word_count(text: str) -> int:
    return len(text.split())


def _group(blocks: list[str], min_words: int, max_words: int) -> list[str]:
    """Consecutive blocks joined until an extract reaches min_words; a heading never ends an extract."""
    extracts: list[str] = []
    current: list[str] = []
    for block in blocks:
        candidate = [*current, block]
        if current and _word_count("\n\n".join(candidate)) > max_words:
            if _word_count("\n\n".join(current)) >= min_words:
                extracts.append("\n\n".join(current))
            current = [block]
        else:
            current = candidate
        if _word_count("\n\n".join(current)) >= min_words and not current[-1].startswith("#"):
            extracts.append("\n\n".join(current))
            current = []
    if current and _word_count("\n\n".join(current)) >= min_words:
        extracts.append("\n\n".join(current))
    return [e for e in extracts if _word_count(e) <= max_words]


def extracts_from(documents: Iterable[CleanedDocument], config: ExtractConfig) -> list[Extract]:
    """Extracts in document order; the leading `# title` line of an article is not part of any extract."""
    extracts: list[Extract] = []
    for document in documents:
        if document.category is DataCategory.REPOSITORIES:
            files: dict[str, str] = document.metadata.get("files", {})
            texts = [
                text
                for source in files.values()
                for text in _group(_blocks(source), config.min_words, config.max_words)
            ]
        else:
            blocks = [b for b in _blocks(document.content) if not (b.startswith("# ") and "\n" not in b)]
            texts = _group(blocks, config.min_words, config.max_words)
        extracts += [
            Extract(
                document_id=document.id,
                category=document.category,
                author_full_name=document.author_full_name,
                link=document.link,
                text=text,
            )
            for text in texts
        ]
    return extracts
