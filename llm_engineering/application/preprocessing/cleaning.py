"""Per-category cleaning: normalise text, drop boilerplate and emoji, keep structure and code."""

import re
import unicodedata
from collections.abc import Callable

from llm_engineering.domain.documents import ArticleDocument, Document, PostDocument, RepositoryDocument
from llm_engineering.domain.features import CleanedDocument

# Pictographs, dingbats, flags, skin tones, variation selectors and joiners: decoration, not meaning.
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d\u20e3]+"
)
INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff\u00ad]")
ODD_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]")
# Whole lines that platforms add around a text; matched case-insensitively after stripping.
BOILERPLATE_LINES = re.compile(
    r"^(follow|following|sign up|sign in|subscribe|share|share this post|listen|read more|see more|"
    r"\d+(\.\d+)?k? (claps?|followers|comments?|responses?|likes?|reposts?)|"
    r"originally published (at|on) .*|thanks for reading .*|subscribe (now|for free).*|"
    r"written by .*|more from .*|recommended from medium|\d+ min read|member-only story)$",
    re.IGNORECASE,
)
FENCE = re.compile(r"^\s*(```|~~~)")


def _normalise_line(line: str) -> str:
    line = INVISIBLE.sub("", line)
    line = EMOJI.sub("", line)
    line = ODD_SPACES.sub(" ", line)
    return re.sub(" {2,}", " ", line).strip()


def clean_prose(text: str) -> str:
    """Normalise markdown-ish prose; fenced code blocks pass through untouched except trailing spaces."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines: list[str] = []
    in_code = False
    for raw in text.split("\n"):
        if FENCE.match(raw):
            in_code = not in_code
            lines.append(raw.strip())
            continue
        if in_code:
            lines.append(raw.rstrip())
            continue
        bullet = re.match(r"^(\s*)([-*+]|\d+[.)])\s+", raw)
        line = _normalise_line(raw)
        if BOILERPLATE_LINES.match(line):
            continue
        if bullet and bullet.group(1):
            line = "  " + line  # keep one level of list nesting visible
        lines.append(line)
    joined = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()


def clean_code(text: str) -> str:
    """Code keeps its exact indentation; only line endings, trailing spaces and invisible marks change."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = INVISIBLE.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _base(document: Document, content: str, metadata: dict[str, object]) -> CleanedDocument:
    return CleanedDocument(
        id=document.id,
        category=document.category,
        author_id=document.author_id,
        author_full_name=document.author_full_name,
        platform=document.platform,
        link=document.link,
        content=content,
        source_hash=document.content_hash,
        metadata=metadata,
    )


def clean_article(document: Document) -> CleanedDocument:
    """Title, subtitle and body as one markdown text; title and subtitle also kept as metadata."""
    title = _normalise_line(str(document.content.get("title") or ""))
    subtitle = _normalise_line(str(document.content.get("subtitle") or ""))
    body = clean_prose(str(document.content.get("content") or ""))
    parts = [f"# {title}" if title else "", subtitle, body]
    return _base(document, "\n\n".join(p for p in parts if p), {"title": title, "subtitle": subtitle})


def clean_post(document: Document) -> CleanedDocument:
    """Clean a post's text as prose, keeping its image link in the metadata."""
    image = document.image if isinstance(document, PostDocument) else None
    return _base(document, clean_prose(str(document.content.get("text") or "")), {"image": image})


def clean_repository(document: Document) -> CleanedDocument:
    """Each file cleaned as code; files that end up empty are dropped. Files are kept per path in metadata."""
    files = {path: clean_code(str(text)) for path, text in sorted(document.content.items())}
    files = {path: text for path, text in files.items() if text.strip()}
    name = document.name if isinstance(document, RepositoryDocument) else ""
    content = "\n\n".join(f"File: {path}\n{text}" for path, text in files.items())
    return _base(document, content, {"name": name, "files": files})


CLEANERS: dict[type[Document], Callable[[Document], CleanedDocument]] = {
    ArticleDocument: clean_article,
    PostDocument: clean_post,
    RepositoryDocument: clean_repository,
}


def clean_document(document: Document) -> CleanedDocument:
    """Dispatch on the document's class."""
    return CLEANERS[type(document)](document)
