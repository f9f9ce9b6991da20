"""Generation logic with a scripted client of our own LLM port (the real model is covered in integration tests)."""

from uuid import uuid4

import pytest
from pydantic import ValidationError

from llm_engineering.application.dataset.generation import (
    GenerationStats,
    SampleGenerationConfig,
    add_rejected_answers,
    generate_instructions,
    parse_instruction,
)
from llm_engineering.domain.datasets import Extract
from llm_engineering.domain.types import DataCategory
from tests.fakes import ScriptedLLM


def config(strategy: str) -> SampleGenerationConfig:
    return SampleGenerationConfig.model_validate(
        {
            "strategy": strategy,
            "pairs_per_extract": 2,
            "max_new_tokens": 32,
            "rejected_max_new_tokens": 64,
            "temperature": 0.0,
        }
    )


def extract(text: str) -> Extract:
    return Extract(
        document_id=uuid4(),
        category=DataCategory.POSTS,
        author_full_name="Theo Brandt",
        link="https://x.y/1",
        text=text,
    )


def test_parse_instruction_strips_labels_and_quotes() -> None:
    assert parse_instruction('Question: "Why is Spark overkill here?"\nextra') == "Why is Spark overkill here?"
    assert parse_instruction("**Instruction:** Explain data contracts") == "Explain data contracts"
    assert parse_instruction("  \n  ") is None


def test_backtranslation_keeps_the_author_text_as_the_answer() -> None:
    extracts = [extract("Your dbt project has 900 models."), extract("Notebooks are not pipelines.")]
    client = ScriptedLLM(["Why do dbt projects sprawl?", ""])
    stats = GenerationStats()
    by_strategy = generate_instructions(client, extracts, config("backtranslation"), stats, progress=False)
    samples = by_strategy["backtranslation"]
    assert [(s.instruction, s.output) for s in samples] == [("Why do dbt projects sprawl?", extracts[0].text)]
    assert stats.prompts == 2 and stats.dropped == 1 and stats.drop_reasons == {"unparseable_instruction": 1}
    assert client.asked[0][-1].content.endswith(extracts[0].text)  # the passage is in the prompt


def test_generate_strategy_parses_pairs_and_drops_only_the_malformed_answer() -> None:
    extracts = [extract("A"), extract("B")]
    good = '{"pairs": [{"instruction": "Q1?", "answer": "A1."}, {"instruction": "Q2?", "answer": "A2."}, ' + (
        '{"instruction": "Q3?", "answer": "A3."}]}'
    )
    client = ScriptedLLM([good, "not json", "still not json"])
    stats = GenerationStats()
    samples = generate_instructions(client, extracts, config("generate"), stats, progress=False)["generate"]
    assert [s.instruction for s in samples] == ["Q1?", "Q2?"]  # capped at pairs_per_extract
    assert all(s.document_id == extracts[0].document_id and s.strategy == "generate" for s in samples)
    assert stats.retried == 1 and stats.drop_reasons == {"malformed_json": 1}


def test_rejected_answers_come_from_the_llm() -> None:
    [sample] = generate_instructions(
        ScriptedLLM(["What is a data contract?"]),
        [extract("A data contract is a promise.")],
        config("backtranslation"),
        GenerationStats(),
        progress=False,
    )["backtranslation"]
    [triple] = add_rejected_answers(
        ScriptedLLM(["  A data contract is an agreement.  "]),
        [sample],
        config("backtranslation"),
        GenerationStats(),
        progress=False,
    )
    assert (triple.prompt, triple.chosen, triple.rejected) == (
        "What is a data contract?",
        "A data contract is a promise.",
        "A data contract is an agreement.",
    )
    assert sample.strategy == triple.strategy == "backtranslation"  # the pair keeps its row's strategy


def test_strategy_is_one_name_or_a_list() -> None:
    assert config("backtranslation").strategy == ("backtranslation",)
    both = SampleGenerationConfig.model_validate(
        config("generate").model_dump() | {"strategy": ["structure", "generate"]}
    )
    assert both.strategy == ("structure", "generate")
    for bad in ([], ["structure", "structure"], "guess"):
        with pytest.raises(ValidationError):
            SampleGenerationConfig.model_validate(config("generate").model_dump() | {"strategy": bad})


def test_structure_alone_asks_the_llm_nothing() -> None:
    structure_only = SampleGenerationConfig.model_validate(config("generate").model_dump() | {"strategy": "structure"})
    client = ScriptedLLM([])
    assert generate_instructions(client, [extract("A")], structure_only, GenerationStats(), progress=False) == {}
    assert client.calls == []
