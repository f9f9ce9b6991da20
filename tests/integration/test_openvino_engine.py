"""The OpenVINO path on a tiny Llama built here: export (int8 weights), load, and serve with continuous batching."""

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.llm.openvino_engine import OpenVINOGenerator
from llm_engineering.model.inference.openvino_export import export_openvino
from tests.conftest import PACKAGED_LLM_ID, REPO_ROOT
from tests.training_support import make_tiny_llama_like

pytestmark = pytest.mark.slow

QUOTING = [
    ChatMessage(
        "user",
        "Context: the feature store keeps point-in-time joins in 300 lines of Python. "
        "The feature store keeps point-in-time joins in 300 lines of Python.\nQuote the context.",
    )
]


@pytest.fixture(scope="module")
def tiny_model(llm_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with random weights and SmolLM2's tokenizer and chat template, saved as a model folder."""
    packaged = Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir))
    return make_tiny_llama_like(tmp_path_factory.mktemp("tiny-llama"), packaged)


@pytest.fixture(scope="module")
def exported(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("exports") / "int8"
    export = export_openvino(tiny_model, target, "int8")
    assert export.folder == target
    return target


@pytest.fixture(scope="module")
def engine(exported: Path) -> Iterator[OpenVINOGenerator]:
    generator = OpenVINOGenerator(exported, model_id="tiny")
    generator.load()
    yield generator
    generator.close()


@pytest.fixture(scope="module")
def exported_fp32(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_openvino(tiny_model, tmp_path_factory.mktemp("exports") / "fp32", "fp32").folder


@pytest.fixture(scope="module")
def engine_f32(exported_fp32: Path) -> Iterator[OpenVINOGenerator]:
    """fp32 weights computed in f32, where greedy equivalence is exact.

    With int8 weights or bf16 compute (the default on CPUs with bfloat16 instructions), a model with random weights
    has near-ties that a many-token verify step can resolve otherwise than one-token decoding.
    """
    generator = OpenVINOGenerator(exported_fp32, model_id="tiny", inference_precision="f32")
    generator.load()
    yield generator
    generator.close()


def test_export_writes_the_ir_and_the_tokenizer_models(exported: Path) -> None:
    for name in ("openvino_model.xml", "openvino_model.bin", "openvino_tokenizer.xml", "openvino_detokenizer.xml"):
        assert (exported / name).is_file(), name
    import openvino as ov

    weights = {
        op.get_output_element_type(0).get_type_name()
        for op in ov.Core().read_model(exported / "openvino_model.xml").get_ops()
        if op.get_type_name() == "Constant"
        and op.get_output_size()
        and op.get_output_partial_shape(0).rank.get_length() == 2
    }
    assert "u8" in weights  # the matrices are stored as 8-bit integers
    assert json.loads((exported / "llm_twin_export.json").read_text())["weight_format"] == "int8"


def test_a_failed_export_leaves_the_previous_one_in_place(
    tiny_model: Path, exported: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = sorted(path.name for path in exported.iterdir())
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'export blew up half way' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("LLM_EXPORT_PYTHON", str(broken))
    with pytest.raises(LLMError, match="exit 3") as failure:
        export_openvino(tiny_model, exported, "int8")
    assert "blew up half way" in str(failure.value)
    assert sorted(path.name for path in exported.iterdir()) == before
    assert not [path for path in exported.parent.iterdir() if path.name.endswith(".partial")]


def test_bad_export_requests_get_a_clear_error(tmp_path: Path, tiny_model: Path) -> None:
    with pytest.raises(LLMError, match="Unknown weight format 'int3'"):
        export_openvino(tiny_model, tmp_path / "out", "int3")
    with pytest.raises(LLMError, match="no merged model"):
        export_openvino(tmp_path, tmp_path / "out", "int8")


def test_each_request_keeps_its_own_token_budget(engine: OpenVINOGenerator) -> None:
    short = "".join(engine.stream(QUOTING, GenerationParams(max_new_tokens=4)))
    long = "".join(engine.stream(QUOTING, GenerationParams(max_new_tokens=24)))
    assert 0 < engine.count_tokens(short) <= 5
    assert engine.count_tokens(short) < engine.count_tokens(long)
    assert long.startswith(short)


def test_a_stream_counts_its_tokens_and_says_that_max_tokens_cut_it(engine: OpenVINOGenerator) -> None:
    stream = engine.stream(QUOTING, GenerationParams(max_new_tokens=4))
    assert stream.usage is None  # known once the answer is over
    "".join(stream)
    prompt_tokens = engine.count_tokens(engine.render(QUOTING))
    usage = stream.usage
    assert usage is not None and usage == TokenUsage(prompt_tokens, 4, "length")
    assert usage.total_tokens == prompt_tokens + 4


def test_concurrent_requests_get_their_own_answers(engine_f32: OpenVINOGenerator) -> None:
    # f32 compute: in bf16 a random model's near-ties let a batched step pick another token than a lone one.
    questions = [[ChatMessage("user", f"Question number {index}: what is {index} plus one?")] for index in range(6)]
    alone = [engine_f32.generate_text(question, GenerationParams(max_new_tokens=16)) for question in questions]
    together: dict[int, str] = {}

    def ask(index: int) -> None:
        together[index] = engine_f32.generate_text(questions[index], GenerationParams(max_new_tokens=16))

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [together[index] for index in range(len(questions))] == alone


def test_sampled_answers_follow_their_seed(engine: OpenVINOGenerator) -> None:
    def sampled(seed: int) -> str:
        return engine.generate_text(QUOTING, GenerationParams(max_new_tokens=24, temperature=1.0, seed=seed))

    assert sampled(1) == sampled(1)
    assert len({sampled(seed) for seed in range(4)}) > 1


def test_a_closed_stream_is_cancelled_and_the_engine_serves_on(engine: OpenVINOGenerator) -> None:
    stream = engine.stream(QUOTING, GenerationParams(max_new_tokens=400))
    next(stream)
    stream.close()
    left = list(stream)
    assert len(left) < 50  # the few pieces already handed over, not the 400-token rest
    again = engine.generate_text(QUOTING, GenerationParams(max_new_tokens=8))
    assert again


def test_prompt_lookup_gives_the_same_greedy_tokens(exported_fp32: Path, engine_f32: OpenVINOGenerator) -> None:
    lookup = OpenVINOGenerator(exported_fp32, model_id="tiny", prompt_lookup=True, inference_precision="f32")
    try:
        for conversation in (QUOTING, [ChatMessage("user", "Say something new.")]):
            params = GenerationParams(max_new_tokens=48)
            assert lookup.generate_text(conversation, params) == engine_f32.generate_text(conversation, params)
    finally:
        lookup.close()
    assert "prompt lookup" in lookup.engine and "f32 compute" in lookup.engine


def test_a_draft_model_gives_the_same_greedy_tokens(
    exported: Path, exported_fp32: Path, engine_f32: OpenVINOGenerator
) -> None:
    # The int8 export drafts for the fp32 one: a smaller model proposes, the served one decides.
    speculative = OpenVINOGenerator(exported_fp32, model_id="tiny", draft_model=exported, inference_precision="f32")
    try:
        params = GenerationParams(max_new_tokens=32)
        assert speculative.generate_text(QUOTING, params) == engine_f32.generate_text(QUOTING, params)
    finally:
        speculative.close()
    with pytest.raises(LLMError, match="not both"):
        OpenVINOGenerator(exported, model_id="tiny", prompt_lookup=True, draft_model=exported)
    with pytest.raises(LLMError, match="Unknown inference precision 'f64'; use one of f32, bf16, f16"):
        OpenVINOGenerator(exported, model_id="tiny", inference_precision="f64")


def test_loading_a_folder_without_an_export_says_so(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="holds no OpenVINO model"):
        OpenVINOGenerator(tmp_path, model_id="none").load()


CTRL_C_AFTER_A_DRAFT_ENGINE = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage
    from llm_engineering.infrastructure.llm.openvino_engine import OpenVINOGenerator

    engine = OpenVINOGenerator(Path(sys.argv[1]), model_id="tiny", draft_model=Path(sys.argv[2]))
    engine.generate_text([ChatMessage("user", "Hello")], GenerationParams(max_new_tokens=4))
    engine.close()
    del engine
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        print("Ctrl-C is a KeyboardInterrupt")
    """
)


def test_ctrl_c_after_a_speculative_engine_is_closed_is_a_keyboard_interrupt(
    exported: Path, exported_fp32: Path
) -> None:
    # A process of its own, since before the fix the signal crashed it (the pipeline had freed the thread's
    # alternate signal stack).
    child = subprocess.run(
        [sys.executable, "-c", CTRL_C_AFTER_A_DRAFT_ENGINE, str(exported_fp32), str(exported)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.strip() == "Ctrl-C is a KeyboardInterrupt"
