"""Chat prompts rendered with the model's own tokenizer, and cut with it to fit the model's context."""

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# Tokenizers without a real limit report a huge sentinel as model_max_length.
_NO_LIMIT = 10_000_000


class ChatPromptFormatter:
    """A model's chat template and token counts: the exact prompt text the model sees, and how much fits."""

    def __init__(self, tokenizer: "PreTrainedTokenizerBase", *, name: str, context_tokens: int | None) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise LLMError(
                f"The tokenizer of {name} has no chat template; use an instruct/chat model, or save the "
                "fine-tuned model together with its tokenizer's chat template."
            )
        self._tokenizer = tokenizer
        self._name = name
        self._context_tokens = context_tokens

    @property
    def context_tokens(self) -> int | None:
        """The model's context window in tokens, when it states one."""
        return self._context_tokens

    def render(self, conversation: Sequence[ChatMessage]) -> str:
        """The conversation in the model's chat template, ending with the assistant's turn to speak."""
        messages = [{"role": message.role, "content": message.content} for message in conversation]
        text = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if not isinstance(text, str):
            raise LLMError(f"The chat template of {self._name} did not render to text; check its tokenizer files.")
        return text

    def count_tokens(self, text: str) -> int:
        """The number of tokens the model's tokenizer makes of the text."""
        return len(self._encode(text))

    def input_budget(self, max_new_tokens: int, max_input_tokens: int | None) -> int | None:
        """Prompt tokens allowed: the context minus the answer, capped by `max_input_tokens`; None if unknown."""
        limits = [max_input_tokens] if max_input_tokens is not None else []
        if self._context_tokens is not None:
            limits.append(self._context_tokens - max_new_tokens)
        if not limits:
            return None
        budget = min(limits)
        if budget < 1:
            raise LLMError(
                f"max_new_tokens={max_new_tokens} leaves no room for a prompt in the {self._context_tokens}-token "
                f"context of {self._name}; lower max_new_tokens."
            )
        return budget

    def fit(self, conversation: Sequence[ChatMessage], budget: int | None) -> list[ChatMessage]:
        """The conversation, its longest messages cut from the end until the rendered prompt fits `budget`."""
        return self._fit(conversation, budget)[0]

    def render_fitted(self, conversation: Sequence[ChatMessage], budget: int | None) -> str:
        """The prompt text of `fit(conversation, budget)`."""
        return self._fit(conversation, budget)[1]

    def _fit(self, conversation: Sequence[ChatMessage], budget: int | None) -> tuple[list[ChatMessage], str]:
        messages = list(conversation)
        prompt = self.render(messages)
        if budget is None:
            return messages, prompt
        original = length = self.count_tokens(prompt)
        # Each round cuts the longest message by the overflow; re-tokenising a cut text can shift a few tokens,
        # so a handful of rounds per message always suffices.
        for _ in range(4 * len(messages) + 4):
            if length <= budget:
                if length < original:
                    logger.warning("Prompt of {} tokens cut to {} to fit {}.", original, length, self._name)
                return messages, prompt
            contents = [self._encode(message.content) for message in messages]
            longest = max(range(len(messages)), key=lambda index: (len(contents[index]), index))
            if not contents[longest]:
                break
            keep = max(0, len(contents[longest]) - (length - budget))
            cut = self._tokenizer.decode(contents[longest][:keep])
            messages[longest] = ChatMessage(role=messages[longest].role, content=str(cut))
            prompt = self.render(messages)
            length = self.count_tokens(prompt)
        raise LLMError(
            f"The chat template of {self._name} alone needs {length} tokens, more than the {budget} allowed; "
            "raise LLM_MAX_INPUT_TOKENS or lower max_new_tokens."
        )

    def _encode(self, text: str) -> list[int]:
        ids: list[int] = self._tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids


def context_length(config: Any, tokenizer: "PreTrainedTokenizerBase") -> int | None:
    """The context window a model declares in its config, else its tokenizer's limit; None if neither does."""
    for attribute in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < _NO_LIMIT else None


@lru_cache(maxsize=4)
def load_chat_formatter(model_id: str, models_dir: Path) -> ChatPromptFormatter:
    """The formatter of a remote endpoint's model, from its tokenizer (a hub id, a folder or a packaged model)."""
    from transformers import AutoConfig, AutoTokenizer

    location = resolve_llm_model(model_id, models_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
        config = AutoConfig.from_pretrained(location)
    except OSError as error:
        raise LLMError(
            f"Cannot load the tokenizer of {model_id} ({error}); set LLM_TOKENIZER_ID to a local model folder "
            "or allow Hugging Face Hub access."
        ) from error
    return ChatPromptFormatter(tokenizer, name=model_id, context_tokens=context_length(config, tokenizer))


class CharacterTokenEstimate:
    """Implements the TokenCounter port where the answering model's tokenizer is unknown (a remote OpenAI model).

    One token per three characters, which overestimates English text, so the context stays within budget.
    """

    def __init__(self, context_tokens: int | None = None) -> None:
        self._context_tokens = context_tokens

    @property
    def context_tokens(self) -> int | None:
        """The context window given at construction, if any."""
        return self._context_tokens

    def count_tokens(self, text: str) -> int:
        """One token per three characters, rounded up: an overestimate, so the context stays within budget."""
        return -(-len(text) // 3)
