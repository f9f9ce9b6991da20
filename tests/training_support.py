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

    from llm_engineering.settings import Settings
    from sample_site import SampleSite

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


def make_tiny_llama(folder: Path, *, chat_template: bool = True, positions: int = 256) -> Path:
    """A random 2-layer Llama and a byte-level BPE tokenizer trained on the test rows, saved as a model folder.

    `positions`: its context window (4,096 gives a RAG prompt room; its 400-token vocabulary makes prompts long).
    """
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
        max_position_embeddings=positions,
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


def write_config(path: Path, parameters: dict[str, Any], **options: Any) -> str:
    """A run config file: ZenML's run `options` and the pipeline's `parameters`; its path."""
    import yaml

    path.write_text(yaml.safe_dump({**options, "parameters": parameters}))
    return str(path)


def sample_continuous_training(
    tmp_path: Path, site: "SampleSite", settings: "Settings", model_name: str
) -> dict[str, str]:
    """A continuous-training config (each stage's file written under tmp_path) on a slice of the sample site.

    One author's posts (three extracts), a tiny Llama trained for one epoch as `model_name`, evaluation with no
    promotion margin, and the optimize stage without GGUF.
    """
    import yaml

    from tests.conftest import REPO_ROOT, sample_site_etl_config

    tiny = str(make_tiny_llama(tmp_path / "tiny", positions=4096))
    training = {"base_model": tiny, "model_name": model_name, "num_train_epochs": 1, "learning_rate": 5e-3}
    training |= {"max_length": 64, "lora": {"r": 4, "alpha": 8}, "logging_steps": 1}
    site.write_git_mirror(settings.data_dir / "sample-site" / "git")
    datasets = {}
    for name in ("generate_instruct_datasets.yaml", "generate_preference_datasets.yaml"):
        data = yaml.safe_load((REPO_ROOT / "configs" / name).read_text())["parameters"]
        data["dataset"]["extracts"] = {"categories": ["posts"], "max_per_category": 3}
        data["dataset"]["generation"] |= {
            "max_new_tokens": 16,
            "rejected_max_new_tokens": 16,
            "rejected_max_per_category": 3,
        }
        datasets[name] = write_config(tmp_path / name, data)
    etl = sample_site_etl_config(site, "digital_data_etl_theo_brandt.yaml", "Theo Brandt")
    data_side = {
        "etl_configs": [write_config(tmp_path / "etl.yaml", etl["parameters"])],
        "feature_config": "configs/feature_engineering.yaml",
        "instruct_config": datasets["generate_instruct_datasets.yaml"],
        "preference_config": datasets["generate_preference_datasets.yaml"],
    }
    evaluation = {
        "model_name": model_name,
        "base_model": tiny,
        "max_length": 64,
        "generation": {"max_new_tokens": 8},
        "output_dir": str(tmp_path / "evaluation"),
        # One epoch of a tiny random model lowers perplexity by a little; with no margin, any gain promotes, and a
        # second run's equal model shows the refusal.
        "promotion": {"metric": "perplexity", "min_improvement": 0.0},
    }
    return {
        "data_config": write_config(tmp_path / "data.yaml", data_side),
        "sft_config": write_config(tmp_path / "sft.yaml", training),
        "dpo_config": write_config(tmp_path / "dpo.yaml", {**training, "finetuning_type": "dpo"}),
        "evaluation_config": write_config(tmp_path / "evaluation.yaml", evaluation),
        # No GGUF: llama.cpp's converter knows only published tokenizers, not the tiny model's own BPE; the GGUF step
        # is tested with the packaged SmolLM2's tokenizer in tests/integration/test_gguf_export.py.
        "optimize_config": write_config(
            tmp_path / "optimize.yaml", {"model_name": model_name, "max_length": 64, "gguf_format": "none"}
        ),
    }
