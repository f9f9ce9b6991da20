"""Markdown-ish text from an HTML tree: headings, paragraphs, lists, quotes and code blocks, nothing else."""

import re
from collections.abc import Iterator

from bs4.element import NavigableString, PreformattedString, Tag

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def inline_text(node: Tag) -> str:
    """The visible text of an element, whitespace collapsed, <br> kept as a line break, inline code in backticks."""
    return _tidy(_inline(node))


def _inline(node: Tag) -> str:
    pieces: list[str] = []
    for child in node.children:
        if isinstance(child, PreformattedString):
            continue
        if isinstance(child, NavigableString):
            pieces.append(str(child).replace("\n", " "))
        elif isinstance(child, Tag):
            if child.name == "br":
                pieces.append("\n")
            elif child.name == "code":
                pieces.append(f"`{child.get_text()}`")
            elif child.name in {"p", "div", "li"}:
                pieces.append("\n\n" + _inline(child) + "\n\n")
            else:
                pieces.append(_inline(child))
    return "".join(pieces)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def code_text(node: Tag) -> str:
    """The text of a code block exactly as shown: indentation and blank lines kept, <br> as a line break."""
    pieces: list[str] = []
    for element in node.descendants:
        if isinstance(element, Tag) and element.name == "br":
            pieces.append("\n")
        elif isinstance(element, NavigableString) and not isinstance(element, PreformattedString):
            pieces.append(str(element))
    text = "".join(pieces)
    # A newline right after <pre> or before </pre> is markup, not code.
    return text.removeprefix("\n").removesuffix("\n")


def code_language(node: Tag) -> str:
    """The language a code block declares (data-code-block-lang or a language-* class), else ""."""
    for element in [node, *node.find_all(True)]:
        declared = element.get("data-code-block-lang")
        if isinstance(declared, str) and declared:
            return declared.lower()
        for css_class in element.get_attribute_list("class"):
            if isinstance(css_class, str) and css_class.startswith("language-"):
                return css_class.removeprefix("language-").lower()
    return ""


def markdown_blocks(root: Tag, *, skip: frozenset[int] = frozenset()) -> Iterator[str]:
    """Each block of root in document order as markdown; elements whose id() is in skip are left out."""
    for child in root.children:
        if not isinstance(child, Tag) or id(child) in skip:
            continue
        name = child.name
        if name in HEADINGS:
            text = inline_text(child)
            if text:
                # "#" is the story's title; headings inside the body start at "##".
                yield "#" * min(6, max(2, int(name[1]))) + " " + text.replace("\n", " ")
        elif name == "p":
            text = inline_text(child)
            if text:
                yield text
        elif name == "pre":
            yield f"```{code_language(child)}\n{code_text(child)}\n```"
        elif name in {"ul", "ol"}:
            lines = list(_list_lines(child, depth=0))
            if lines:
                yield "\n".join(lines)
        elif name == "blockquote":
            text = "\n\n".join(markdown_blocks(child, skip=skip)) or inline_text(child)
            if text:
                yield "\n".join(f"> {line}".rstrip() for line in text.split("\n"))
        elif name in {"figure", "img", "picture", "hr"}:
            continue
        else:
            yield from markdown_blocks(child, skip=skip)


def _list_lines(node: Tag, depth: int) -> Iterator[str]:
    for number, item in enumerate(node.find_all("li", recursive=False), start=1):
        nested = item.find_all(["ul", "ol"], recursive=False)
        for sublist in nested:
            sublist.extract()
        marker = f"{number}." if node.name == "ol" else "-"
        text = inline_text(item).replace("\n\n", "\n")
        indent = "  " * depth
        yield indent + f"{marker} " + text.replace("\n", "\n" + indent + "  ")
        for sublist in nested:
            yield from _list_lines(sublist, depth + 1)
