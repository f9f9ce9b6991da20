"""Query expansion: the question plus n - 1 rephrasings from the configured LLM, so retrieval sees other wordings."""

from llm_engineering.domain.ports import ChatMessage, GenerationParams, LLMClient

_SEPARATOR = "#next-question#"
_EXPANSION_PROMPT = (
    "Write {count} different versions of the question below, each one worded differently so that a search over "
    "documents finds passages the original wording might miss. Put {separator} between versions and write "
    "nothing else.\n\nQuestion: {query}"
)


def expand_to_n_queries(query: str, n: int, llm: LLMClient | None) -> list[str]:
    """[query] followed by up to n - 1 distinct rephrasings; just [query] when n is 1 or no LLM is configured.

    The LLM client is expected to cache its completions, so repeating a question costs nothing.
    """
    if n < 1:
        raise ValueError(f"expand_to_n_queries needs n >= 1, got {n}")
    if n == 1 or llm is None:
        return [query]
    [answer] = llm.generate(
        [[ChatMessage(role="user", content=_EXPANSION_PROMPT.format(count=n - 1, separator=_SEPARATOR, query=query))]],
        GenerationParams(max_new_tokens=64 * (n - 1), temperature=0.0),
    )
    queries = [query]
    seen = {query.strip().casefold()}
    for candidate in answer.split(_SEPARATOR):
        text = candidate.strip()
        if text and text.casefold() not in seen:
            queries.append(text)
            seen.add(text.casefold())
        if len(queries) == n:
            break
    return queries
