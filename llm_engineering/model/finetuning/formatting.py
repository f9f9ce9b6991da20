"""Rows → TRL examples: the tokenizer's chat template when it has one, else the book's Alpaca template.

Both shapes are prompt/completion datasets, which TRL trains on the completion only: the loss never sees the
instruction tokens.
"""

from typing import Any, Protocol

from llm_engineering.model.finetuning.data import Row

ALPACA_PROMPT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)


class ChatTokenizer(Protocol):
    """The one tokenizer attribute formatting needs."""

    chat_template: str | None


Example = dict[str, Any]


def uses_chat_template(tokenizer: ChatTokenizer) -> bool:
    """Whether the tokenizer carries a chat template (else the Alpaca template is used)."""
    return bool(getattr(tokenizer, "chat_template", None))


def sft_example(row: Row, chat: bool) -> Example:
    """One SFT example: conversational messages with a chat template, Alpaca strings without."""
    if chat:
        return {
            "prompt": [{"role": "user", "content": row["instruction"]}],
            "completion": [{"role": "assistant", "content": row["output"]}],
        }
    return {"prompt": ALPACA_PROMPT.format(instruction=row["instruction"]), "completion": row["output"]}


def dpo_example(row: Row, chat: bool) -> Example:
    """One DPO example: the author's `chosen` and the generic `rejected` answer to the same prompt."""
    if chat:
        return {
            "prompt": [{"role": "user", "content": row["prompt"]}],
            "chosen": [{"role": "assistant", "content": row["chosen"]}],
            "rejected": [{"role": "assistant", "content": row["rejected"]}],
        }
    return {
        "prompt": ALPACA_PROMPT.format(instruction=row["prompt"]),
        "chosen": row["chosen"],
        "rejected": row["rejected"],
    }


def answer_pair(row: Row) -> tuple[str, str]:
    """(question, the author's answer) of an SFT or DPO row: what held-out perplexity is measured on."""
    if "instruction" in row:
        return row["instruction"], row["output"]
    return row["prompt"], row["chosen"]
