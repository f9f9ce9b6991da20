"""KeyBERT-style keyphrases: the candidate n-grams whose embedding is closest to the whole text's embedding."""

import math
import re
from collections.abc import Sequence

from llm_engineering.domain.ports import Embedder

# Words that carry no topic: a keyphrase holds none of them.
STOPWORDS = frozenset(
    """a about above after again against all almost also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    else even ever every few for from further get gets got had hadn't has hasn't have haven't having he her here here's
    hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just last let's like
    lot lots make makes many may me might more most much must my myself never new no nor not now of off often on once
    one only or other our ours ourselves out over own per really same say says she should shouldn't so some still such
    take than that that's the their theirs them themselves then there there's these they they're this those though
    through thing things to too two under until up upon us use used using very want was wasn't way we we'd we're we've
    well were weren't what what's when where which while who whom why will with without won't would wouldn't yes yet
    you you'd you'll you're you've your yours yourself yourselves""".split()
)
# Punctuation and spaced dashes (hyphen, en and em dash) end a clause; a keyphrase never crosses one.
SEGMENT_BREAK = re.compile(r"[.,;:!?()\[\]{}\"\u201c\u201d|/\n]+|\s[-\u2013\u2014]\s")
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'+#-]*[A-Za-z0-9+#]|[A-Za-z]")


def candidate_phrases(text: str, max_words: int = 3) -> list[str]:
    """Lower-cased n-grams of 1..max_words words inside one clause, none of them a stopword."""
    found: dict[str, None] = {}
    for segment in SEGMENT_BREAK.split(text):
        tokens = [token.lower() for token in TOKEN.findall(segment)]
        for size in range(1, max_words + 1):
            for start in range(len(tokens) - size + 1):
                words = tokens[start : start + size]
                if any(word in STOPWORDS for word in words) or (size == 1 and len(words[0]) < 3):
                    continue
                found[" ".join(words)] = None
    return list(found)


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _stems(phrase: str) -> set[str]:
    return {word.removesuffix("s") for word in phrase.split()}


def _overlaps(phrase: str, chosen: Sequence[str]) -> bool:
    """True when the phrase repeats a word (plural or not) of a phrase already chosen."""
    return any(_stems(phrase) & _stems(other) for other in chosen)


def keyphrases(embedder: Embedder, texts: Sequence[str], *, top_n: int = 2, max_words: int = 3) -> list[list[str]]:
    """Up to top_n keyphrases per text, best first and sharing no word; two embedding calls for all texts."""
    candidates = [candidate_phrases(text, max_words) for text in texts]
    unique = list(dict.fromkeys(phrase for phrases in candidates for phrase in phrases))
    document_vectors = [_unit(v) for v in embedder.embed(list(texts))]
    phrase_vectors = dict(zip(unique, (_unit(v) for v in embedder.embed(unique)), strict=True))
    result: list[list[str]] = []
    for document, phrases in zip(document_vectors, candidates, strict=True):
        ranked = sorted(phrases, key=lambda p: -sum(a * b for a, b in zip(document, phrase_vectors[p], strict=True)))
        chosen: list[str] = []
        for phrase in ranked:
            if len(chosen) == top_n:
                break
            if not _overlaps(phrase, chosen):
                chosen.append(phrase)
        result.append(chosen)
    return result
