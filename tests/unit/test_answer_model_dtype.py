"""Which dtype the answering model loads in."""

from pathlib import Path

import pytest

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.infrastructure.llm.local import cpu_has_fast_bfloat16, resolve_dtype


def test_auto_is_bfloat16_only_on_a_cpu_with_bfloat16_instructions() -> None:
    assert resolve_dtype("auto", "cpu", fast_bfloat16=True) == "bfloat16"
    assert resolve_dtype("auto", "cpu", fast_bfloat16=False) == "float32"


def test_auto_on_an_accelerator_keeps_the_checkpoints_dtype() -> None:
    assert resolve_dtype("auto", "cuda", fast_bfloat16=False) == "auto"


def test_an_explicit_dtype_wins() -> None:
    assert resolve_dtype("float32", "cpu", fast_bfloat16=True) == "float32"
    assert resolve_dtype("bfloat16", "cpu", fast_bfloat16=False) == "bfloat16"


def test_an_unknown_dtype_is_named_in_the_error() -> None:
    with pytest.raises(LLMError, match=r"'fp8'.*auto, float32, bfloat16, float16"):
        resolve_dtype("fp8", "cpu")


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="the CPU's flags are read from Linux's /proc/cpuinfo")
def test_the_cpu_check_agrees_with_the_cpus_own_flags() -> None:
    flags = {
        flag
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("flags")
        for flag in line.split(":", 1)[1].split()
    }
    assert cpu_has_fast_bfloat16() is bool({"avx512_bf16", "amx_tile"} & flags)
