"""Training test material: a tiny random Llama with a tokenizer trained here, and small datasets built in code."""

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_engineering.domain.datasets import (
    InstructDataset,
    InstructSample,
    InstructSplit,
    PreferenceDataset,
    PreferenceSample,
    PreferenceSplit,
)
from llm_engineering.domain.types import DataCategory
from llm_engineering.model.finetuning.data import Row

if TYPE_CHECKING:
    from zenml.models import ModelVersionResponse

TOPICS = ["GPU bills", "feature stores", "point-in-time joins", "shadow deployments", "retrieval quality", "on-call"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def instruct_rows(count: int) -> list[Row]:
    """SFT rows whose answers follow one pattern a tiny model can pick up in a few steps."""
    return [
        {
            "instruction": f"What do you think about {TOPICS[i % len(TOPICS)]} (case {i})?",
            "output": f"I measure {TOPICS[i % len(TOPICS)]} first, then I write down what the numbers say.",
        }
        for i in range(count)
    ]


def preference_rows(count: int) -> list[Row]:
    """DPO rows: the author's measured answer is chosen, a generic one rejected."""
    return [
        {
            "prompt": f"How do you handle {TOPICS[i % len(TOPICS)]} (case {i})?",
            "chosen": f"I measure {TOPICS[i % len(TOPICS)]} first, then I write down what the numbers say.",
            "rejected": "It depends on many factors and there are several approaches to consider.",
        }
        for i in range(count)
    ]


def instruct_dataset(train: int, test: int) -> InstructDataset:
    """An InstructDataset artifact value with `train` and `test` rows in the articles category."""
    rows = instruct_rows(train + test)
    samples = [
        InstructSample(
            instruction=row["instruction"],
            output=row["output"],
            category=DataCategory.ARTICLES,
            document_id=uuid.uuid5(uuid.NAMESPACE_URL, f"https://example.org/article/{i}"),
        )
        for i, row in enumerate(rows)
    ]
    return InstructDataset(splits={DataCategory.ARTICLES: InstructSplit(train=samples[:train], test=samples[train:])})


def preference_dataset(train: int, test: int) -> PreferenceDataset:
    """A PreferenceDataset artifact value with `train` and `test` rows in the posts category."""
    rows = preference_rows(train + test)
    samples = [
        PreferenceSample(
            prompt=row["prompt"],
            chosen=row["chosen"],
            rejected=row["rejected"],
            category=DataCategory.POSTS,
            document_id=uuid.uuid5(uuid.NAMESPACE_URL, f"https://example.org/post/{i}"),
        )
        for i, row in enumerate(rows)
    ]
    return PreferenceDataset(splits={DataCategory.POSTS: PreferenceSplit(train=samples[:train], test=samples[train:])})


def make_tiny_llama(folder: Path, *, chat_template: bool = True) -> Path:
    """A random 2-layer Llama and a byte-level BPE tokenizer trained on the test rows, saved as a model folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|pad|>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    corpus = [text for row in instruct_rows(24) + preference_rows(24) for text in row.values()]
    corpus.append("Below is an instruction that describes a task. ### Instruction: ### Response:")
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]  # unannotated in transformers
        tokenizer_object=backend, pad_token="<|pad|>", eos_token="<|end|>", bos_token="<|end|>"
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=backend.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_tiny_llama_like(folder: Path, tokenizer_folder: Path, *, hidden_size: int = 64) -> Path:
    """A random 2-layer Llama with another model's tokenizer and chat template (e.g. the packaged SmolLM2's)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def optimization_of(version: "ModelVersionResponse") -> dict[str, Any]:
    """The `optimized_model` metadata the optimize stage wrote on a version."""
    from llm_engineering.model.registry import OPTIMIZATION_METADATA

    metadata = dict(version.run_metadata).get(OPTIMIZATION_METADATA)
    assert isinstance(metadata, dict), f"version {version.number} has no {OPTIMIZATION_METADATA} metadata"
    return metadata


def optimized_artifact_id(version: "ModelVersionResponse") -> uuid.UUID:
    """The id of the `optimized_model` artifact linked to a version."""
    from llm_engineering.model.registry import OPTIMIZED_MODEL_ARTIFACT

    artifact = version.get_artifact(OPTIMIZED_MODEL_ARTIFACT)
    assert artifact is not None, f"version {version.number} has no {OPTIMIZED_MODEL_ARTIFACT} artifact"
    return artifact.id
