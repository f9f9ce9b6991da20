"""The `structure` strategy: instruction rows read off the shape of the author's own documents, with no LLM.

Articles give one row per section, posts one row per post (its topic found by keyphrase extraction), and
repositories one row per Python definition and per section of their markdown files. The answer is always the
author's own text.
"""

import ast
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from llm_engineering.application.dataset.extracts import FENCE
from llm_engineering.application.dataset.keyphrases import keyphrases
from llm_engineering.domain.datasets import InstructSample
from llm_engineering.domain.features import CleanedDocument
from llm_engineering.domain.ports import Embedder
from llm_engineering.domain.types import DataCategory

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
PLATFORM_NAMES = {"linkedin": "LinkedIn", "x": "X", "twitter": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
TOPICS_PER_POST = 2


@dataclass(frozen=True)
class Section:
    """A heading and the text under it, up to the next heading of any level."""

    heading: str
    text: str


@dataclass(frozen=True)
class Definition:
    """A Python function, class or method with its source and the first line of its docstring."""

    kind: str
    name: str
    path: str
    docstring: str
    code: str


def sections(markdown: str) -> list[Section]:
    """Sections of a markdown text with a non-empty body; `#` lines inside fenced code are not headings."""
    found: list[Section] = []
    heading: str | None = None
    body: list[str] = []
    in_code = False

    def close() -> None:
        text = "\n".join(body).strip()
        if heading is not None and text:
            found.append(Section(heading, text))

    for line in markdown.split("\n"):
        if FENCE.match(line):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            close()
            heading, body = match.group(2).strip(), []
        else:
            body.append(line)
    close()
    return found


def _docstring_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    docstring = ast.get_docstring(node)
    return docstring.strip().split("\n")[0].strip() if docstring else ""


def _source(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    return textwrap.dedent("\n".join(lines[first - 1 : node.end_lineno])).strip()


def definitions(path: str, source: str) -> list[Definition]:
    """Top-level functions and classes of a Python file, and the methods of its classes; [] if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.split("\n")
    found: list[Definition] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(Definition("function", node.name, path, _docstring_line(node), _source(lines, node)))
        elif isinstance(node, ast.ClassDef):
            found.append(Definition("class", node.name, path, _docstring_line(node), _source(lines, node)))
            found += [
                Definition("method", f"{node.name}.{m.name}", path, _docstring_line(m), _source(lines, m))
                for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return found


def _row(document: CleanedDocument, instruction: str, output: str) -> InstructSample:
    return InstructSample(
        instruction=instruction,
        output=output,
        category=document.category,
        document_id=document.id,
        strategy="structure",
    )


def article_rows(document: CleanedDocument) -> list[InstructSample]:
    """One row per section: the instruction names the article's title and the section's heading."""
    title = str(document.metadata.get("title") or "").strip()
    found = sections(document.content)
    if not title and found and document.content.startswith("# "):
        title = found[0].heading
    return [
        _row(document, f'Write the section "{section.heading}" of your article "{title}".', section.text)
        for section in found
        if section.heading != title
    ]


def repository_rows(document: CleanedDocument) -> list[InstructSample]:
    """One row per Python definition and one per section of the repository's markdown files.

    A definition's row names it, with its docstring's first line and the repository; the markdown sections are
    the author's prose.
    """
    files: dict[str, str] = document.metadata.get("files", {})
    repository = str(document.metadata.get("name") or document.link.rstrip("/").rsplit("/", 1)[-1])
    rows: list[InstructSample] = []
    for path, source in files.items():
        if path.endswith(".md"):
            rows += [
                _row(document, f'Write the section "{s.heading}" of {path} in your repository {repository}.', s.text)
                for s in sections(source)
            ]
        if not path.endswith(".py"):
            continue
        for definition in definitions(path, source):
            about = f', whose docstring begins "{definition.docstring}"' if definition.docstring else ""
            instruction = (
                f"Write the Python {definition.kind} `{definition.name}` in {path} of your repository "
                f"{repository}{about}."
            )
            rows.append(_row(document, instruction, definition.code))
    return rows


def post_rows(documents: Sequence[CleanedDocument], embedder: Embedder) -> list[InstructSample]:
    """One row per post: the instruction asks for a post on the topic its keyphrases name."""
    posts = [document for document in documents if document.content.strip()]
    if not posts:
        return []
    topics = keyphrases(embedder, [post.content for post in posts], top_n=TOPICS_PER_POST)
    rows: list[InstructSample] = []
    for post, phrases in zip(posts, topics, strict=True):
        if not phrases:
            continue
        platform = PLATFORM_NAMES.get(post.platform.lower(), "social media")
        rows.append(_row(post, f"Write a {platform} post about {' and '.join(phrases)}.", post.content))
    return rows


def structure_rows(documents: Iterable[CleanedDocument], embedder: Embedder | None) -> list[InstructSample]:
    """Instruction rows of every document, in document order; posts need the embedder for their topics."""
    rows: list[InstructSample] = []
    posts: list[CleanedDocument] = []
    for document in documents:
        if document.category is DataCategory.ARTICLES:
            rows += article_rows(document)
        elif document.category is DataCategory.REPOSITORIES:
            rows += repository_rows(document)
        else:
            posts.append(document)
    if posts:
        if embedder is None:
            raise ValueError(
                "The structure strategy finds each post's topic with the embedding model: pass an embedder, "
                "or leave posts out of extracts.categories."
            )
        rows += post_rows(posts, embedder)
    return rows
