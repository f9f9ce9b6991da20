"""Held-out perplexity on the author's answers: exp of the mean loss of answer tokens given their question."""

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from llm_engineering.model.finetuning.data import Row
from llm_engineering.model.finetuning.formatting import ALPACA_PROMPT, answer_pair

if TYPE_CHECKING:
    import torch
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


# The logits a model gives for one token sequence: shape (1, len(ids), vocabulary), any float dtype.
LogitsFunction = Callable[[list[int]], "torch.Tensor"]


def held_out_perplexity(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerBase", rows: Sequence[Row], chat: bool, max_length: int
) -> float:
    """Perplexity of the answers of `rows` (question tokens and truncated-away answers do not count)."""
    import torch

    was_training = model.training
    model.eval()  # type: ignore[no-untyped-call]
    device = next(model.parameters()).device

    def logits_of(ids: list[int]) -> "torch.Tensor":
        return cast("torch.Tensor", model(input_ids=torch.tensor([ids], device=device)).logits)

    try:
        with torch.no_grad():
            return perplexity_from_logits(logits_of, tokenizer, rows, chat, max_length)
    finally:
        if was_training:
            model.train()


def perplexity_from_logits(
    logits_of: LogitsFunction, tokenizer: "PreTrainedTokenizerBase", rows: Sequence[Row], chat: bool, max_length: int
) -> float:
    """The held-out perplexity of any model that gives logits (transformers, an OpenVINO export): one measure.

    Each answer token is scored given everything before it, in float32: exp of the mean negative log-likelihood.
    """
    import torch

    total_nll = 0.0
    total_tokens = 0
    for row in rows:
        ids, prompt_len = answer_labels(tokenizer, row, chat, max_length)
        # The first token has nothing before it: an answer starting the text counts from its second token.
        first = max(prompt_len, 1)
        if len(ids) - first < 1:
            continue
        logits = logits_of(ids)[0].float()
        predicted = torch.log_softmax(logits[first - 1 : len(ids) - 1], dim=-1)
        targets = torch.tensor(ids[first:], device=predicted.device)
        total_nll -= float(predicted.gather(1, targets[:, None]).sum())
        total_tokens += len(ids) - first
    if total_tokens == 0:
        raise ValueError("No answer tokens fit in max_length for any test row; raise max_length.")
    return math.exp(total_nll / total_tokens)


def _ids(encoded: Any) -> list[int]:
    # apply_chat_template returns a list, or a BatchEncoding in newer transformers.
    if isinstance(encoded, dict) or hasattr(encoded, "input_ids"):
        encoded = encoded["input_ids"]
    return [int(token) for token in encoded]
