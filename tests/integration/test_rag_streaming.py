"""The answering model in process with the real SmolLM2: streaming, and micro-batching of concurrent requests."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.model.inference.streaming import MicroBatchingGenerator
from tests.conftest import PACKAGED_LLM_ID

GREEDY = GenerationParams(max_new_tokens=12, temperature=0.0)
FRANCE = [ChatMessage(role="user", content="What is the capital of France?")]
HAIKU = [ChatMessage(role="user", content="Write a haiku about GPUs and their cost.")]


# float32, and bfloat16: the default on CPUs with bfloat16 instructions (emulated, slower, on others).
@pytest.fixture(scope="module", params=["float32", "bfloat16"])
def generator(llm_models_dir: Path, request: pytest.FixtureRequest) -> Iterator[MicroBatchingGenerator]:
    model = MicroBatchingGenerator(
        Path(resolve_llm_model(PACKAGED_LLM_ID, llm_models_dir)),
        model_id=PACKAGED_LLM_ID,
        dtype=request.param,
        batch_window_s=0.05,
    )
    model.load()
    yield model
    model.close()


def read_concurrently(streams: list[Iterator[str]]) -> list[str]:
    texts = [""] * len(streams)

    def read(index: int) -> None:
        texts[index] = "".join(streams[index])

    threads = [threading.Thread(target=read, args=(index,)) for index in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return texts


@pytest.mark.slow
def test_two_concurrent_requests_share_one_forward_pass_per_step_and_match_one_at_a_time(
    generator: MicroBatchingGenerator,
) -> None:
    before = generator.forward_passes
    alone = ["".join(generator.stream(FRANCE, GREEDY)), "".join(generator.stream(HAIKU, GREEDY))]
    sequential_passes = generator.forward_passes - before
    assert all(alone)

    before, batches = generator.forward_passes, len(generator.batch_sizes)
    together = read_concurrently([generator.stream(FRANCE, GREEDY), generator.stream(HAIKU, GREEDY)])
    batched_passes = generator.forward_passes - before

    assert generator.batch_sizes[batches:] == [2]
    assert together == alone
    # One prefill plus one pass per step of the longer answer, for both requests together.
    assert batched_passes <= GREEDY.max_new_tokens + 1 < sequential_passes


@pytest.mark.slow
def test_closing_a_stream_takes_it_out_of_the_batch_and_the_other_carries_on(
    generator: MicroBatchingGenerator,
) -> None:
    long = GenerationParams(max_new_tokens=60)
    stopped = generator.stream(HAIKU, long)
    other = generator.stream([ChatMessage(role="user", content="Explain what a GPU is in three sentences.")], long)
    first = next(stopped)
    stopped.close()
    pieces = list(other)
    leftover = list(stopped)  # at most what was decoded before the close was seen at the next step
    assert first and len(pieces) > 10
    assert len(leftover) <= 2


@pytest.mark.slow
def test_a_request_arriving_mid_decode_joins_the_running_batch_and_answers_as_alone(
    generator: MicroBatchingGenerator,
) -> None:
    long = GenerationParams(max_new_tokens=40)
    alone_first = "".join(generator.stream(HAIKU, long))
    alone_second = "".join(generator.stream(FRANCE, GREEDY))

    before, batches = generator.forward_passes, len(generator.batch_sizes)
    first = generator.stream(HAIKU, long)
    opening = [next(first) for _ in range(5)]  # the first request is decoding now
    second = generator.stream(FRANCE, GREEDY)
    texts = read_concurrently([iter([*opening, *first]), second])
    passes = generator.forward_passes - before

    assert generator.batch_sizes[batches:] == [1, 2]  # it joined, rather than waiting for the first to end
    assert texts == [alone_first, alone_second]
    # The first request's prefill and steps, plus one prefill for the second: its steps rode along.
    assert passes <= 1 + long.max_new_tokens + 1


@pytest.mark.slow
def test_sampled_answers_depend_on_their_seed_not_on_their_batch(generator: MicroBatchingGenerator) -> None:
    sampled = GenerationParams(max_new_tokens=16, temperature=0.9, top_p=0.9, seed=7)
    alone = "".join(generator.stream(HAIKU, sampled))
    together = read_concurrently([generator.stream(HAIKU, sampled), generator.stream(FRANCE, GREEDY)])
    other_seed = "".join(generator.stream(HAIKU, GenerationParams(max_new_tokens=16, temperature=0.9, seed=8)))
    assert together[0] == alone
    assert other_seed != alone


@pytest.mark.slow
def test_greedy_decoding_with_repetition_controls_matches_transformers_generate(
    generator: MicroBatchingGenerator,
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    params = GenerationParams(max_new_tokens=24, repetition_penalty=1.3, no_repeat_ngram_size=3)
    ours = "".join(generator.stream(HAIKU, params))

    folder = generator.folder  # the same weights, loaded apart, decoded by transformers' own generate()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, generator.dtype))
    encoded = tokenizer(generator.render(HAIKU), add_special_tokens=False, return_tensors="pt")
    with torch.inference_mode():
        output = model.generate(
            **encoded, max_new_tokens=24, do_sample=False, repetition_penalty=1.3, no_repeat_ngram_size=3
        )
    theirs = tokenizer.decode(output[0, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
    assert ours == theirs
