import copy

import pytest
from transformers import PreTrainedTokenizerFast

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage
from llm_engineering.infrastructure.llm.prompt import ChatPromptFormatter

SYSTEM = ChatMessage(role="system", content="then a dog ran")


def formatter(tokenizer: PreTrainedTokenizerFast, context: int | None = None) -> ChatPromptFormatter:
    return ChatPromptFormatter(tokenizer, name="word-model", context_tokens=context)


def test_render_applies_the_chat_template(word_chat_tokenizer: PreTrainedTokenizerFast) -> None:
    prompt = formatter(word_chat_tokenizer).render([SYSTEM, ChatMessage(role="user", content="the cat sat")])
    assert prompt == "<|system|> then a dog ran <|end|> <|user|> the cat sat <|end|> <|assistant|>"
    assert formatter(word_chat_tokenizer).count_tokens(prompt) == 12


def test_budget_is_the_context_left_for_the_answer(word_chat_tokenizer: PreTrainedTokenizerFast) -> None:
    assert formatter(word_chat_tokenizer, context=100).input_budget(30, None) == 70
    assert formatter(word_chat_tokenizer, context=100).input_budget(30, 50) == 50
    assert formatter(word_chat_tokenizer).input_budget(30, None) is None
    with pytest.raises(LLMError, match="lower max_new_tokens"):
        formatter(word_chat_tokenizer, context=100).input_budget(100, None)


def test_a_fitting_conversation_is_left_alone(word_chat_tokenizer: PreTrainedTokenizerFast) -> None:
    conversation = [SYSTEM, ChatMessage(role="user", content="the cat sat")]
    assert formatter(word_chat_tokenizer).fit(conversation, 12) == conversation


def test_the_longest_message_is_cut_from_its_end(word_chat_tokenizer: PreTrainedTokenizerFast) -> None:
    long_question = " ".join(["the cat sat on the mat and"] * 20)
    conversation = [SYSTEM, ChatMessage(role="user", content=long_question)]
    chat = formatter(word_chat_tokenizer)
    fitted = chat.fit(conversation, 30)
    assert fitted[0] == SYSTEM
    assert long_question.startswith(fitted[1].content)
    assert chat.count_tokens(chat.render(fitted)) == 30
    assert chat.render_fitted(conversation, 30) == chat.render(fitted)


def test_a_template_longer_than_the_budget_is_an_error(word_chat_tokenizer: PreTrainedTokenizerFast) -> None:
    with pytest.raises(LLMError, match="raise LLM_MAX_INPUT_TOKENS"):
        formatter(word_chat_tokenizer).fit([SYSTEM, ChatMessage(role="user", content="the cat")], 3)


def test_a_tokenizer_without_chat_template_is_refused(word_chat_tokenizer: PreTrainedTokenizerFast) -> None:
    plain = copy.deepcopy(word_chat_tokenizer)
    plain.chat_template = None
    with pytest.raises(LLMError, match="no chat template"):
        formatter(plain)
