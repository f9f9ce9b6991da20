"""The GGUF export with llama.cpp's own converter: the Modelfile's template, the file read back by the gguf reader and
by transformers, its perplexity against the source, the artifact on the version, idempotence and bad input."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.model.finetuning.formatting import ALPACA_PROMPT
from llm_engineering.model.inference.config import OptimizeModelConfig
from llm_engineering.model.inference.gguf_export import export_gguf, modelfile, ollama_template
from tests.conftest import PACKAGED_LLM_ID
from tests.integration.test_evaluation import register_version
from tests.training_support import instruct_dataset, make_tiny_llama_like


def gguf_of(version: Any) -> dict[str, Any]:
    """The `gguf_model` metadata the GGUF step wrote on a version."""
    from llm_engineering.model.registry import GGUF_METADATA

    metadata = dict(version.run_metadata).get(GGUF_METADATA)
    assert isinstance(metadata, dict), f"version {version.number} has no {GGUF_METADATA} metadata"
    return metadata


def without_chat_template(packaged: Path, folder: Path) -> Path:
    """A copy of the packaged model's tokenizer files with no chat template: a base model, trained on Alpaca."""
    folder.mkdir()
    config = json.loads((packaged / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_the_modelfile_states_the_template_the_twin_was_trained_on(tmp_path: Path, llm_models_dir: Path) -> None:
    packaged = Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir))
    kind, text = modelfile("twin.gguf", packaged, "You write as Maya.", title="TwinLlama 3", context_tokens=2048)
    assert kind == "chatml"
    assert "FROM ./twin.gguf" in text and 'SYSTEM """You write as Maya."""' in text
    assert "<|im_start|>{{ .Role }}" in text and 'PARAMETER stop "<|im_end|>"' in text
    assert "PARAMETER num_ctx 2048" in text

    kind, template, stops = ollama_template(without_chat_template(packaged, tmp_path / "base"))
    assert kind == "alpaca" and stops == ["### Instruction:"]
    assert template.endswith(ALPACA_PROMPT.format(instruction="{{ .Prompt }}"))

    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "chat_template.jinja").write_text("[INST] {{ messages[0]['content'] }} [/INST]")
    with pytest.raises(LLMError, match="neither ChatML, Llama 3 nor absent"):
        ollama_template(odd)


def test_bad_input_is_refused_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LLMError, match="Unknown GGUF format 'q2_k'"):
        export_gguf(tmp_path, tmp_path / "out", "q2_k", system="s", title="t")
    with pytest.raises(LLMError, match=r"no config\.json"):
        export_gguf(tmp_path, tmp_path / "out", system="s", title="t")
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv("LLM_GGUF_CONVERTER", str(tmp_path / "missing" / "convert_hf_to_gguf.py"))
    with pytest.raises(LLMError, match=r"GGUF converter is missing.*make setup"):
        export_gguf(tmp_path, tmp_path / "out", system="s", title="t")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="gguf_format"):
        OptimizeModelConfig(gguf_format="q4_k_m")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_gguf_is_registered_measured_readable_and_made_once(
    data_dir: Path, tmp_path: Path, llm_models_dir: Path
) -> None:
    import gguf
    from zenml import save_artifact
    from zenml.client import Client

    from llm_engineering.model.registry import GGUF_MODEL_ARTIFACT, find_model_version, load_model_folder
    from steps.optimizing import export_gguf_version

    model_name = f"TwinGguf{tmp_path.name[-6:].replace('_', '')}"
    packaged = Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir))
    tiny = make_tiny_llama_like(tmp_path / "tiny", packaged)
    save_artifact(instruct_dataset(6, 4), name="instruct_datasets")
    number = register_version(model_name, tiny, "sft")
    config = OptimizeModelConfig(model_name=model_name, version=str(number), max_length=64, gguf_author="Maya Okafor")

    summary: dict[str, Any] = export_gguf_version.entrypoint(config)

    assert summary["gguf_format"] == "q8_0" and summary["template"] == "chatml"
    assert summary["size_mb"] > 0 and summary["export_s"] > 0 and summary["test_rows"] == 4
    assert summary["perplexity"] > 1 and summary["source_perplexity"] > 1
    # q8_0 of a tiny random model moves its perplexity by well under 3 %.
    assert summary["perplexity_ratio"] == pytest.approx(1.0, abs=0.03)
    version = find_model_version(model_name, number)
    assert gguf_of(version)["perplexity_ratio"] == summary["perplexity_ratio"]

    # What a user gets from the registry: the .gguf and a Modelfile that names it, with the twin's voice.
    folder = load_model_folder(model_name, number, tmp_path / "fetched", artifact=GGUF_MODEL_ARTIFACT)
    file = folder / summary["file"]
    text = (folder / "Modelfile").read_text()
    assert f"FROM ./{file.name}" in text and "Maya Okafor" in text and "<|im_start|>" in text
    reader = gguf.GGUFReader(file)
    fields = {name: reader.fields[name] for name in ("general.architecture", "tokenizer.chat_template")}
    architecture = bytes(fields["general.architecture"].parts[-1]).decode()
    assert architecture == "llama"
    assert "<|im_start|>" in bytes(fields["tokenizer.chat_template"].parts[-1]).decode()
    assert {tensor.tensor_type.name for tensor in reader.tensors} >= {"Q8_0"}

    # Again, on the same weights: nothing is converted, no new artifact version.
    before = Client().list_artifact_versions(name=GGUF_MODEL_ARTIFACT, size=1).total
    again = export_gguf_version.entrypoint(config)
    assert again["perplexity_ratio"] == summary["perplexity_ratio"]
    assert Client().list_artifact_versions(name=GGUF_MODEL_ARTIFACT, size=1).total == before

    # A conversion stopped half way registers nothing and keeps the q8_0 one.
    with pytest.raises(LLMError, match=r"ran past 0\.5 s and was stopped"):
        export_gguf_version.entrypoint(config.model_copy(update={"gguf_format": "f16", "export_timeout_s": 0.5}))
    assert gguf_of(find_model_version(model_name, number))["gguf_format"] == "q8_0"
    assert Client().list_artifact_versions(name=GGUF_MODEL_ARTIFACT, size=1).total == before
    assert export_gguf_version.entrypoint(config.model_copy(update={"gguf_format": "none"})) == {"gguf_format": "none"}
    shutil.rmtree(tmp_path / "fetched")
