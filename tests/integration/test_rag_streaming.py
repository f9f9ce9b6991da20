"""The fallback answering engine (plain transformers) with the real SmolLM2: streaming, cancellation, stop strings,
and the same answers as the evaluation's client, since both load through one loader."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage
from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.infrastructure.llm.local_streaming import TransformersStreamingLLM
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from tests.conftest import PACKAGED_LLM_ID

GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0)
FRANCE = [ChatMessage(role="user", content="What is the capital of France?")]
HAIKU = [ChatMessage(role="user", content="Write a haiku about GPUs and their cost.")]


@pytest.fixture(scope="module")
def generator(llm_models_dir: Path) -> Iterator[TransformersStreamingLLM]:
    model = TransformersStreamingLLM(
        Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir)),
        model_id=PACKAGED_LLM_ID,
        models_dir=llm_models_dir,
        dtype="float32",
    )
    model.load()
    yield model
    model.close()


@pytest.mark.slow
def test_the_streamed_answer_is_the_evaluation_clients_answer(
    generator: TransformersStreamingLLM, llm_models_dir: Path
) -> None:
    pieces = list(generator.stream(FRANCE, GREEDY))
    client = LocalTransformersClient(
        str(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir)),
        models_dir=llm_models_dir,
        device="cpu",
        batch_size=1,
        timeout_s=60,
    )

    assert len(pieces) > 1  # it streams, piece by piece
    assert "".join(pieces).strip() == client.generate([FRANCE], GREEDY)[0].strip()
    assert "Paris" in "".join(pieces)
    assert generator.engine == client.engine + " (one request at a time)"


@pytest.mark.slow
def test_concurrent_requests_each_get_their_own_answer(generator: TransformersStreamingLLM) -> None:
    alone = ["".join(generator.stream(FRANCE, GREEDY)), "".join(generator.stream(HAIKU, GREEDY))]
    texts = [""] * 2
    streams = [generator.stream(FRANCE, GREEDY), generator.stream(HAIKU, GREEDY)]

    def read(index: int) -> None:
        texts[index] = "".join(streams[index])

    threads = [threading.Thread(target=read, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert texts == alone


@pytest.mark.slow
def test_a_closed_stream_stops_its_generation_and_the_next_request_is_served(
    generator: TransformersStreamingLLM,
) -> None:
    long = GenerationParams(max_new_tokens=200, temperature=0.0)
    stream = generator.stream(HAIKU, long)
    first = next(stream)
    stream.close()
    rest = list(stream)

    assert first
    # Closing stops decoding within a token or two, not after the remaining ~200.
    assert len(rest) < 10
    assert "Paris" in "".join(generator.stream(FRANCE, GREEDY))


@pytest.mark.slow
def test_a_stop_string_ends_the_answer(generator: TransformersStreamingLLM) -> None:
    full = "".join(generator.stream(FRANCE, GenerationParams(max_new_tokens=20)))
    word = "Paris"
    assert word in full

    stopped = "".join(generator.stream(FRANCE, GenerationParams(max_new_tokens=20, stop=(word,))))

    assert stopped == full[: full.index(word)]


@pytest.mark.slow
def test_the_stream_counts_its_tokens_and_says_why_it_ended(generator: TransformersStreamingLLM) -> None:
    prompt_tokens = generator.count_tokens(generator.render(FRANCE))
    cut = generator.stream(FRANCE, GenerationParams(max_new_tokens=3))
    assert cut.usage is None  # known once the answer is over
    "".join(cut)
    assert cut.usage == TokenUsage(prompt_tokens, 3, "length")

    whole = generator.stream(FRANCE, GenerationParams(max_new_tokens=64))
    answer = "".join(whole)
    assert "Paris" in answer and whole.usage is not None
    assert whole.usage.finish_reason == "stop" and whole.usage.prompt_tokens == prompt_tokens
    assert generator.count_tokens(answer) <= whole.usage.completion_tokens < 64  # the answer, and its end token

    stopped = generator.stream(FRANCE, GenerationParams(max_new_tokens=64, stop=("Paris",)))
    "".join(stopped)
    assert stopped.usage is not None and stopped.usage.finish_reason == "stop"
