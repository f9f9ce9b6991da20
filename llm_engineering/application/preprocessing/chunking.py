"""Token-aware chunking with the embedding model's own tokenizer, so no chunk is truncated by the model."""

import json
from pathlib import PurePosixPath
from typing import Any

import tree_sitter_python
from pydantic import BaseModel, ConfigDict, Field, model_validator
from semantic_text_splitter import CodeSplitter, MarkdownSplitter, TextSplitter

from llm_engineering.domain.features import Chunk, CleanedDocument
from llm_engineering.domain.ids import chunk_id
from llm_engineering.domain.types import DataCategory

Splitter = TextSplitter | MarkdownSplitter | CodeSplitter
SPECIAL_TOKENS = 2


class CategoryChunking(BaseModel):
    """Chunk size and overlap for one category, in the embedding model's tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chunk_tokens: int = Field(gt=8)
    overlap_tokens: int = Field(ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "CategoryChunking":
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError("overlap_tokens must be smaller than chunk_tokens")
        return self


class ChunkingConfig(BaseModel):
    """The `chunking` section of configs/feature_engineering.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    articles: CategoryChunking = CategoryChunking(chunk_tokens=256, overlap_tokens=40)
    posts: CategoryChunking = CategoryChunking(chunk_tokens=256, overlap_tokens=25)
    repositories: CategoryChunking = CategoryChunking(chunk_tokens=256, overlap_tokens=20)

    def for_category(self, category: DataCategory) -> CategoryChunking:
        """The chunk size and overlap for documents of this category."""
        chunking: CategoryChunking = getattr(self, category.value)
        return chunking


def _untruncated(tokenizer_json: str) -> str:
    # A tokenizer file may carry the model's truncation/padding; counting must see the whole text.
    spec: dict[str, Any] = json.loads(tokenizer_json)
    spec["truncation"] = None
    spec["padding"] = None
    return json.dumps(spec)


class DocumentChunker:
    """Articles split on markdown structure, posts on sentences, repositories per file then per definition."""

    def __init__(self, tokenizer_json: str, max_input_tokens: int, config: ChunkingConfig) -> None:
        tokenizer = _untruncated(tokenizer_json)
        self._config = config
        self._splitters: dict[tuple[DataCategory, str], Splitter] = {}
        for category in DataCategory:
            settings = config.for_category(category)
            if settings.chunk_tokens > max_input_tokens:
                raise ValueError(
                    f"chunking.{category.value}.chunk_tokens={settings.chunk_tokens} exceeds the embedding model's "
                    f"{max_input_tokens}-token input; the model would silently truncate. Lower it in the config."
                )
            # The splitter counts the text's own tokens; the model adds [CLS] and [SEP] around them.
            size, overlap = settings.chunk_tokens - SPECIAL_TOKENS, settings.overlap_tokens
            self._splitters[category, "markdown"] = MarkdownSplitter.from_huggingface_tokenizer_str(
                tokenizer, size, overlap=overlap
            )
            self._splitters[category, "text"] = TextSplitter.from_huggingface_tokenizer_str(
                tokenizer, size, overlap=overlap
            )
            self._splitters[category, "python"] = CodeSplitter.from_huggingface_tokenizer_str(
                tree_sitter_python.language(), tokenizer, size, overlap=overlap
            )

    def chunk(self, document: CleanedDocument) -> list[Chunk]:
        """All chunks of a cleaned document, indexed in reading order."""
        pieces: list[tuple[str, dict[str, Any]]] = []
        category = document.category
        if category is DataCategory.REPOSITORIES:
            files: dict[str, str] = document.metadata.get("files", {})
            for path, text in files.items():
                splitter = self._splitters[category, _kind_of_file(path)]
                pieces += [
                    (piece, {"file_path": path, "char_start": start}) for start, piece in splitter.chunk_indices(text)
                ]
        else:
            kind = "markdown" if category is DataCategory.ARTICLES else "text"
            splitter = self._splitters[category, kind]
            pieces = [(piece, {"char_start": start}) for start, piece in splitter.chunk_indices(document.content)]
        shared = {k: v for k, v in document.metadata.items() if k != "files"}
        return [
            Chunk(
                id=chunk_id(document.id, index),
                document_id=document.id,
                chunk_index=index,
                category=category,
                author_id=document.author_id,
                author_full_name=document.author_full_name,
                platform=document.platform,
                link=document.link,
                content=text,
                source_hash=document.source_hash,
                metadata=shared | extra,
            )
            for index, (text, extra) in enumerate(pieces)
        ]


def _kind_of_file(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".py":
        return "python"
    if suffix in {".md", ".markdown", ".rst"}:
        return "markdown"
    return "text"
