from pathlib import Path

import pytest

from llm_engineering.model.finetuning.config import TrainingConfig
from llm_engineering.model.finetuning.data import TrainingRows
from llm_engineering.model.finetuning.formatting import ALPACA_PROMPT, dpo_example, sft_example, uses_chat_template
from llm_engineering.model.finetuning.perplexity import answer_labels
from llm_engineering.model.finetuning.trainer import build_trainer, lora_config
from tests.training_support import instruct_rows, make_tiny_llama, preference_rows


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "model")


def test_chat_rows_are_conversational_prompt_completion() -> None:
    row = instruct_rows(1)[0]
    example = sft_example(row, chat=True)
    assert example["prompt"] == [{"role": "user", "content": row["instruction"]}]
    assert example["completion"] == [{"role": "assistant", "content": row["output"]}]
    preference = dpo_example(preference_rows(1)[0], chat=True)
    assert preference["chosen"][0]["role"] == preference["rejected"][0]["role"] == "assistant"


def test_without_a_chat_template_the_books_alpaca_template_is_used(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert uses_chat_template(tokenizer)
    tokenizer.chat_template = None
    assert not uses_chat_template(tokenizer)
    row = instruct_rows(1)[0]
    example = sft_example(row, chat=False)
    assert example["prompt"] == ALPACA_PROMPT.format(instruction=row["instruction"])
    assert example["prompt"].endswith("### Response:\n")
    assert dpo_example(preference_rows(1)[0], chat=False)["prompt"].startswith("Below is an instruction")


@pytest.mark.parametrize("chat", [True, False])
def test_only_answer_tokens_carry_a_label(tiny_model: Path, tmp_path: Path, chat: bool) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    if not chat:
        tokenizer.chat_template = None
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = TrainingConfig(base_model=str(tiny_model), max_length=128, lora={"r": 2, "alpha": 4})
    rows = TrainingRows(instruct_rows(2), instruct_rows(3)[2:], "code")
    trainer = build_trainer(config, model, tokenizer, lora_config(config), rows, chat, tmp_path)
    assert trainer.train_dataset is not None
    prepared = trainer.train_dataset[0]
    ids, labels = prepared["input_ids"], prepared["labels"]
    answer_ids = [token for token, label in zip(ids, labels, strict=True) if label != -100]
    prompt_ids = [token for token, label in zip(ids, labels, strict=True) if label == -100]
    assert rows.train[0]["output"] in tokenizer.decode(answer_ids)
    assert rows.train[0]["instruction"] in tokenizer.decode(prompt_ids)
    assert rows.train[0]["instruction"] not in tokenizer.decode(answer_ids)
    # The perplexity measure cuts question from answer where the trainer does.
    measured_ids, prompt_len = answer_labels(tokenizer, rows.train[0], chat, config.max_length)
    assert measured_ids == list(ids)
    assert prompt_len == len(prompt_ids)
