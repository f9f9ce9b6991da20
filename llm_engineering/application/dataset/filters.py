"""Quality filters for dataset rows; every rejection is counted under its reason."""

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.application.dataset.generation import BACKTRANSLATION_EXAMPLE
from llm_engineering.domain.datasets import InstructSample, PreferenceSample
from llm_engineering.domain.types import DataCategory

Row = TypeVar("Row", InstructSample, PreferenceSample)

# The most frequent English function words: a text in English uses several of them per twenty words.
ENGLISH_STOPWORDS = frozenset(
    "the of and to a in is it that for on with as was be are this you at by not or have from but they we an "
    "which your can will if do more one all about so what there their has would our when up out".split()
)
REQUEST_START = frozenset(
    "how what why when where which who whom whose can could should would is are was were do does did will "
    "explain describe write give list summarise summarize tell share compare outline suggest show walk name".split()
)
# How a small model opens when it talks to the user instead of asking the author something.
CHATTER_START = frozenset(
    "i i'm i'll i've i'd me my we we're our you you're you've you'll you'd your the this that these those it it's "
    "sorry sure great thanks thank glad yes no okay ok well certainly absolutely here here's there there's "
    "as based in".split()
)
CHATTER_LATER = frozenset("i i'm i'll i've here here's sure sorry glad thanks thank".split())
EXCLAMATION = re.compile(r"^(what|how)\s+(a|an|great|nice|wonderful|interesting|lovely)\b", re.IGNORECASE)
# An instruction about "the passage" talks about the prompt the model was shown, not to the author.
PROMPT_REFERENCE = re.compile(r"\b(passage|the text above|the excerpt)\b", re.IGNORECASE)
SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
SENTENCE_END = re.compile(r"""[.!?…]["')\]]*$""")
WORD = re.compile(r"[a-z0-9']+")
WORKED_EXAMPLES = tuple(message.content for message in BACKTRANSLATION_EXAMPLE if message.role == "assistant")


class FilterConfig(BaseModel):
    """The `filters` section of the dataset configs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_instruction_chars: int = Field(default=12, ge=1)
    max_instruction_chars: int = Field(default=400, ge=1)
    min_answer_chars: int = Field(default=100, ge=1)
    max_answer_chars: int = Field(default=2000, ge=1)
    max_copy_overlap: float = Field(
        default=0.5, gt=0, le=1, description="share of the instruction's 4-grams found in the answer"
    )
    near_duplicate_similarity: float = Field(default=0.8, gt=0, le=1, description="Jaccard of answer 5-gram shingles")
    english_only: bool = True


def words(text: str) -> list[str]:
    """The lower-cased words of the text, as the WORD pattern finds them."""
    return WORD.findall(text.lower())


def shingles(text: str, size: int) -> set[tuple[str, ...]]:
    """The set of `size`-word shingles of the text (one shingle when it is shorter), for near-duplicate checks."""
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}


def looks_english(text: str) -> bool:
    """Mostly Latin letters and a normal share of English function words; code and very short texts pass."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ch.isascii() for ch in letters) / len(letters) < 0.9:
        return False
    if sum(ch in "(){}[]=<>;:_#/*" for ch in text) > 0.03 * len(text):
        return True  # code: its words are identifiers, not prose
    tokens = words(text)
    if len(tokens) < 6:
        return True
    return sum(token in ENGLISH_STOPWORDS for token in tokens) / len(tokens) >= 0.08


def copies_answer(instruction: str, answer: str, max_overlap: float) -> bool:
    """True when the instruction is mostly lifted from the answer rather than asking about it."""
    if " ".join(words(instruction)) in " ".join(words(answer)):
        return True
    asked = shingles(instruction, 4)
    return bool(asked) and len(asked & shingles(answer, 4)) / len(asked) > max_overlap


def looks_like_request(instruction: str) -> bool:
    """A question or request to the author: not chatter ("I'm glad…"), not an answer that merely ends with "?".

    The first sentence must be a question, or open with a question word or an imperative; the text may not
    introduce content (end with ":"), mention the prompt's passage, or fall back into chatter.
    """
    tokens = words(instruction)
    if not tokens or tokens[0] in CHATTER_START or EXCLAMATION.match(instruction.strip()):
        return False
    if PROMPT_REFERENCE.search(instruction):
        return False
    sentences = [part.strip() for part in SENTENCE.findall(instruction.strip()) if part.strip()]
    if instruction.rstrip().endswith(":"):
        return False
    if any((later := words(sentence)) and later[0] in CHATTER_LATER for sentence in sentences[1:]):
        return False
    return sentences[0].endswith("?") or tokens[0] in REQUEST_START


def copies_worked_example(instruction: str, examples: Sequence[str] = WORKED_EXAMPLES) -> bool:
    """True when the instruction is (nearly) the prompt's worked example, which small models echo."""
    asked = set(words(instruction))
    for example in examples:
        shown = set(words(example))
        if asked and len(asked & shown) / len(asked | shown) >= 0.8:
            return True
    return False


def ends_a_sentence(text: str) -> bool:
    """Whether the text ends like a finished sentence, so truncated answers can be dropped."""
    return bool(SENTENCE_END.search(text.strip()))


def _filter(
    rows: Sequence[Row],
    instruction_of: Callable[[Row], str],
    answer_of: Callable[[Row], str],
    config: FilterConfig,
    extra_checks: Sequence[tuple[str, Callable[[Row], bool]]] = (),
) -> tuple[list[Row], dict[str, int]]:
    kept: list[Row] = []
    counts: Counter[str] = Counter()
    seen_exact: set[str] = set()
    kept_shingles: list[set[tuple[str, ...]]] = []
    for row in rows:
        instruction, answer = instruction_of(row).strip(), answer_of(row).strip()
        checks: list[tuple[str, bool]] = [
            ("empty", not instruction or not answer),
            ("instruction_too_short", len(instruction) < config.min_instruction_chars),
            ("instruction_too_long", len(instruction) > config.max_instruction_chars),
            ("answer_too_short", len(answer) < config.min_answer_chars),
            ("answer_too_long", len(answer) > config.max_answer_chars),
            ("instruction_copies_answer", copies_answer(instruction, answer, config.max_copy_overlap)),
            ("instruction_copies_example", copies_worked_example(instruction)),
            ("instruction_not_a_request", bool(instruction) and not looks_like_request(instruction)),
            ("not_english", config.english_only and not (looks_english(instruction) and looks_english(answer))),
        ]
        checks += [(name, not check(row)) for name, check in extra_checks]
        reason = next((name for name, failed in checks if failed), None)
        if reason is None:
            key = " ".join(words(instruction)) + "\x00" + " ".join(words(answer))
            if key in seen_exact:
                reason = "exact_duplicate"
            else:
                signature = shingles(answer, 5) | shingles(instruction, 5)
                if any(
                    len(signature & other) / len(signature | other) >= config.near_duplicate_similarity
                    for other in kept_shingles
                ):
                    reason = "near_duplicate"
                else:
                    seen_exact.add(key)
                    kept_shingles.append(signature)
        if reason is None:
            kept.append(row)
        else:
            counts[reason] += 1
    counts["kept"] = len(kept)
    return kept, dict(counts)


def filter_instruct(
    rows: Sequence[InstructSample], config: FilterConfig
) -> tuple[list[InstructSample], dict[str, int]]:
    """Rows that pass every filter, and {reason: rejected count, "kept": kept count}."""
    return _filter(rows, lambda r: r.instruction, lambda r: r.output, config)


def _is_code(row: PreferenceSample) -> bool:
    return row.category is DataCategory.REPOSITORIES


def filter_preference(
    rows: Sequence[PreferenceSample], config: FilterConfig
) -> tuple[list[PreferenceSample], dict[str, int]]:
    """As filter_instruct, plus the book's rules for `chosen`: ≥ 100 characters, a capital first, a sentence end.

    The last two are rules for prose: a repository's `chosen` is code, which starts and ends as code does.
    """
    rules: list[tuple[str, Callable[[PreferenceSample], bool]]] = [
        ("chosen_under_100_chars", lambda r: len(r.chosen.strip()) >= 100),
        ("chosen_not_capitalised", lambda r: _is_code(r) or r.chosen.strip()[:1].isupper()),
        ("chosen_not_a_full_sentence", lambda r: _is_code(r) or ends_a_sentence(r.chosen)),
        ("rejected_empty", lambda r: bool(r.rejected.strip())),
    ]
    return _filter(rows, lambda r: r.prompt, lambda r: r.chosen, config, rules)
