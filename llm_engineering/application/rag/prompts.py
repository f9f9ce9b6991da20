"""The twin's prompt: the book's content-creator prompt in our words, with the retrieved context and its sources."""

from collections.abc import Sequence

from llm_engineering.domain.ports import ChatMessage
from llm_engineering.domain.rag import ContextChunk, Retrieval

_SYSTEM = (
    "You write as {who}: the same voice, opinions and habits of phrase. Answer the user's request as {who} would "
    "write it in a post or an article, using only the facts in the numbered context below, which is {whose} own "
    "writing. Cite the passages you use as [1], [2], and so on. If the context does not cover the request, say "
    "that you have not written about it rather than making something up.\n\nContext:\n{context}"
)
# The same voice without retrieval: for the twin run on its own (the GGUF export's Modelfile).
_STANDALONE_SYSTEM = (
    "You write as {who}: the same voice, opinions and habits of phrase. Answer the user's request as {who} would "
    "write it in a post or an article. If you do not know something {who} has written about, say so rather than "
    "making it up."
)
NO_CONTEXT_ANSWER = (
    "I found nothing in the writing I know that covers this question, so I would rather not guess. "
    "Try asking about a topic from the articles, posts or repositories."
)


def context_block(index: int, chunk: ContextChunk) -> str:
    """One numbered passage with its source, as the model reads it."""
    return f"[{index}] {chunk.category.value}, {chunk.link}\n{chunk.content}"


def system_prompt(retrieval: Retrieval) -> str:
    """The instructions with the retrieved passages numbered in rank order."""
    who = retrieval.author_full_name or "the author"
    whose = f"{retrieval.author_full_name}'s" if retrieval.author_full_name else "the author's"
    context = "\n\n".join(context_block(index, chunk) for index, chunk in enumerate(retrieval.chunks, start=1))
    return _SYSTEM.format(who=who, whose=whose, context=context)


def standalone_system_prompt(author_full_name: str | None = None) -> str:
    """The twin's instructions with no retrieved context: the voice only."""
    return _STANDALONE_SYSTEM.format(who=author_full_name or "the author")


def answer_conversation(retrieval: Retrieval, history: Sequence[ChatMessage]) -> list[ChatMessage]:
    """System prompt with context, the earlier turns, then the question."""
    return [
        ChatMessage(role="system", content=system_prompt(retrieval)),
        *history,
        ChatMessage(role="user", content=retrieval.query),
    ]


def prompt_overhead(retrieval_author: str | None) -> str:
    """The system prompt with no context: what the budget must leave room for besides the passages."""
    return system_prompt(Retrieval(query="", author_full_name=retrieval_author, queries=[], chunks=[]))
