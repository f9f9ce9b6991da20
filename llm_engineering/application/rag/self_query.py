"""Self-query, read only: which known author a question is about, from the warehouse's author names.

The book's version created a user for every query; this one only reads the names and never writes.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.ports import ChatMessage, GenerationParams, LLMClient

_EXTRACTION_PROMPT = (
    "Which person, if any, is this question about or addressed to? Answer with the person's name only, "
    "exactly as written in the question, or with NONE if no person is named.\n\nQuestion: {query}"
)


@dataclass(frozen=True)
class AuthorMatch:
    """The author a question names, and how it was recognised ("full name", "last name", "first name", "llm")."""

    author: UserDocument
    matched_on: str


def _fold(text: str) -> str:
    """Lower case without accents, so "Théo" in a question matches "Theo" in the warehouse."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _mentions(text: str, name: str) -> bool:
    name = _fold(name).strip()
    if not name:
        return False
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def _name(user: UserDocument, part: str) -> str:
    return {"full name": user.full_name, "last name": user.last_name, "first name": user.first_name}[part]


def match_author(text: str, authors: Sequence[UserDocument]) -> AuthorMatch | None:
    """The one author whose full, last or first name the text mentions, in that order of trust.

    A name shared by several authors (two "Maya"s) identifies nobody, so the search falls back to everyone.
    """
    folded = _fold(text)
    for matched_on in ("full name", "last name", "first name"):
        found = {user.id: user for user in authors if _mentions(folded, _name(user, matched_on))}
        if len(found) == 1:
            return AuthorMatch(author=next(iter(found.values())), matched_on=matched_on)
        if len(found) > 1 and matched_on != "full name":
            return None
        if len(found) > 1:  # two full names in one question: the longest (most specific) one, if unique
            longest = max(len(user.full_name) for user in found.values())
            best = [user for user in found.values() if len(user.full_name) == longest]
            return AuthorMatch(author=best[0], matched_on=matched_on) if len(best) == 1 else None
    return None


def find_author(query: str, authors: Sequence[UserDocument], *, llm: LLMClient | None = None) -> AuthorMatch | None:
    """The author the query is about: name matching first, then the LLM's extraction when one is configured.

    The LLM's answer only counts when it names a known author (the LLM never adds one).
    """
    match = match_author(query, authors)
    if match is not None or llm is None or not authors:
        return match
    [answer] = llm.generate(
        [[ChatMessage(role="user", content=_EXTRACTION_PROMPT.format(query=query))]],
        GenerationParams(max_new_tokens=16, temperature=0.0),
    )
    extracted = match_author(answer, authors)
    return AuthorMatch(author=extracted.author, matched_on="llm") if extracted is not None else None
