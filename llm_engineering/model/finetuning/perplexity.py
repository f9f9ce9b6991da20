"""Held-out perplexity on the author's answers: exp of the mean loss of answer tokens given their question."""

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llm_engineering.model.finetuning.data import Row
from llm_engineering.model.finetuning.formatting import ALPACA_PROMPT, answer_pair

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def answer_labels(tokenizer: "PreTrainedTokenizerBase", row: Row, chat: bool, max_length: int) -> tuple[list[int], int]:
    """The token ids of question + answer (cut to max_length) and how many of them are the question.

    The answer starts where the tokens of the question alone stop being a prefix, as TRL decides it in training.
    """
    question, answer = answer_pair(row)
    if chat:
        prompt_messages = [{"role": "user", "content": question}]
        prompt_ids = _ids(tokenizer.apply_chat_template(prompt_messages, add_generation_prompt=True, tokenize=True))
        full_ids = _ids(
            tokenizer.apply_chat_template([*prompt_messages, {"role": "assistant", "content": answer}], tokenize=True)
        )
    else:
        prompt = ALPACA_PROMPT.format(instruction=question)
        prompt_ids = _ids(tokenizer(prompt)["input_ids"])
        full_ids = _ids(tokenizer(prompt + answer + (tokenizer.eos_token or ""))["input_ids"])
    shared = 0
    for left, right in zip(prompt_ids, full_ids, strict=False):
        if left != right:
            break
        shared += 1
    return full_ids[:max_length], min(shared, max_length)


def held_out_perplexity(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerBase", rows: Sequence[Row], chat: bool, max_length: int
) -> float:
    """Perplexity of the answers of `rows` (question tokens and truncated-away answers do not count)."""
    import torch

    total_nll = 0.0
    total_tokens = 0
    was_training = model.training
    model.eval()  # type: ignore[no-untyped-call]
    device = next(model.parameters()).device
    with torch.no_grad():
        for row in rows:
            ids, prompt_len = answer_labels(tokenizer, row, chat, max_length)
            answer_tokens = len(ids) - prompt_len
            if answer_tokens < 1:
                continue
            input_ids = torch.tensor([ids], device=device)
            labels = input_ids.clone()
            labels[0, :prompt_len] = -100
            loss = model(input_ids=input_ids, labels=labels).loss
            # The loss is a mean over the predicted positions, one fewer than the answer when it starts the text.
            counted = answer_tokens - (1 if prompt_len == 0 else 0)
            total_nll += float(loss) * counted
            total_tokens += counted
    if was_training:
        model.train()
    if total_tokens == 0:
        raise ValueError("No answer tokens fit in max_length for any test row; raise max_length.")
    return math.exp(total_nll / total_tokens)


def _ids(encoded: Any) -> list[int]:
    # apply_chat_template returns a list, or a BatchEncoding in newer transformers.
    if isinstance(encoded, dict) or hasattr(encoded, "input_ids"):
        encoded = encoded["input_ids"]
    return [int(token) for token in encoded]
