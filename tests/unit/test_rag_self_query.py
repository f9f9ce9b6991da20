"""Self-query: which known author a question names, by full, last or first name, read only."""

from collections.abc import Sequence

from llm_engineering.application.rag.self_query import find_author, match_author
from llm_engineering.domain.documents import UserDocument
from llm_engineering.domain.ports import ChatMessage, GenerationParams

MAYA = UserDocument.from_full_name("Maya Okafor")
THEO = UserDocument.from_full_name("Theo Brandt")
MAYA_LEE = UserDocument.from_full_name("Maya Lee")
AUTHORS = [MAYA, THEO]


class AnsweringLLM:
    """An LLMClient that answers every prompt with one fixed text, and records the prompts."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    @property
    def backend(self) -> str:
        return "scripted"

    @property
    def model_id(self) -> str:
        return "scripted"

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        self.prompts += [conversation[-1].content for conversation in conversations]
        return [self.answer for _ in conversations]


def test_full_last_and_first_names_match_case_and_accent_blind() -> None:
    assert (match := match_author("What does maya okafor think of GPUs?", AUTHORS)) and match.author == MAYA
    assert match.matched_on == "full name"
    assert (match := match_author("Ask Brandt about Spark", AUTHORS)) and (match.author, match.matched_on) == (
        THEO,
        "last name",
    )
    assert (match := match_author("Théo, why not Airflow?", AUTHORS)) and match.author == THEO
    assert match.matched_on == "first name"


def test_names_match_whole_words_only() -> None:
    assert match_author("Theodore wrote about mayas", AUTHORS) is None
    assert match_author("How do you keep GPU costs down?", AUTHORS) is None


def test_a_first_name_two_authors_share_identifies_nobody_but_a_full_name_does() -> None:
    authors = [MAYA, MAYA_LEE, THEO]
    assert match_author("Maya, what about drift?", authors) is None
    assert (match := match_author("Maya Lee, what about drift?", authors)) and match.author == MAYA_LEE


def test_the_llm_extraction_counts_only_when_it_names_a_known_author() -> None:
    llm = AnsweringLLM("The question is addressed to Theo Brandt.")
    assert (match := find_author("What would the data-contracts guy say?", AUTHORS, llm=llm)) is not None
    assert (match.author, match.matched_on) == (THEO, "llm")
    assert find_author("What would the data-contracts guy say?", AUTHORS, llm=AnsweringLLM("Ada Lovelace")) is None
    named = AnsweringLLM("Theo Brandt")
    assert (match := find_author("Maya Okafor on budgets", AUTHORS, llm=named)) and match.author == MAYA
    assert named.prompts == []  # a name match needs no LLM call
