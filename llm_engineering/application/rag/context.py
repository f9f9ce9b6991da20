"""The context budget: whole chunks, in rank order, until the answering model's token budget is full."""

from collections.abc import Sequence

from llm_engineering.domain.ports import TokenCounter
from llm_engineering.domain.rag import ContextChunk


def context_budget(counter: TokenCounter, *, answer_tokens: int, prompt_tokens: int, cap: int) -> int:
    """Tokens left for context: the model's window minus the answer and the prompt around the context, at most `cap`.

    Raises ValueError when the window leaves no room at all, naming the knobs to turn.
    """
    window = counter.context_tokens
    budget = cap if window is None else min(cap, window - answer_tokens - prompt_tokens)
    if budget < 1:
        raise ValueError(
            f"The answering model's {window}-token context leaves no room for retrieved context after "
            f"{answer_tokens} answer tokens and a {prompt_tokens}-token prompt; lower API_MAX_NEW_TOKENS."
        )
    return budget


def pack_context(
    chunks: Sequence[ContextChunk], budget_tokens: int, counter: TokenCounter, *, overhead_tokens: int = 0
) -> list[ContextChunk]:
    """The leading chunks that fit the budget whole.

    A chunk is never cut, and the first one that does not fit ends the context, so a lower-ranked short chunk
    never jumps ahead of a better one.

    `overhead_tokens` is what the prompt spends per chunk besides its text (its number and link).
    """
    kept: list[ContextChunk] = []
    used = 0
    for chunk in chunks:
        cost = counter.count_tokens(chunk.content) + overhead_tokens
        if used + cost > budget_tokens:
            break
        kept.append(chunk)
        used += cost
    return kept
