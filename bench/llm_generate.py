"""Benchmark of the local LLM adapter: batched vs one-at-a-time generation, and the completions cache.

    python bench/llm_generate.py [--prompts 64] [--max-new-tokens 48] [--batch-size 16] [--data-dir DIR]

Measures in one process, greedy decoding (temperature 0):
- samples/s of LocalTransformersClient with all prompts batched (left padding, LLM_BATCH_SIZE per forward pass)
  and one prompt per forward pass; batch ratio = batched / sequential (target ≥ 3);
- the cache speed-up: the batched pass ran through CachedLLMClient, a second pass over the same prompts is served
  from disk; speed-up = first pass time / second pass time.
The model comes from DATA_DIR/models (converted from the packaged GGUF on the first run). The last line is one
JSON object with the figures.
"""

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.cache import CachedLLMClient
from llm_engineering.infrastructure.llm.local import LocalTransformersClient
from llm_engineering.settings import load_settings

TASKS = ["Explain", "Give one tip about", "Write a sentence about", "Name a fact about"]
TOPICS = [
    "unit tests",
    "vector databases",
    "the French revolution",
    "photosynthesis",
    "gradient descent",
    "coffee",
    "the moon",
    "Python decorators",
    "sourdough bread",
    "rainbows",
    "compound interest",
    "volcanoes",
    "chess openings",
    "the water cycle",
    "jazz",
    "recycling",
]


def instructions(count: int) -> list[list[ChatMessage]]:
    """`count` distinct short instructions, cycling through task and topic."""
    pairs = [(task, topic) for topic in TOPICS for task in TASKS]
    if count > len(pairs):
        sys.exit(f"--prompts must be at most {len(pairs)}")
    return [[ChatMessage(role="user", content=f"{task} {topic}.")] for task, topic in pairs[:count]]


def timed(call: Callable[[], list[str]]) -> tuple[list[str], float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--data-dir", type=Path, default=None, help="DATA_DIR holding models/ (default: settings)")
    args = parser.parse_args()

    overrides: dict[str, object] = {} if args.data_dir is None else {"DATA_DIR": args.data_dir}
    settings = load_settings(**overrides)
    models_dir = llm_models_dir(settings)
    model_id = settings.LOCAL_LLM_MODEL_ID
    conversations = instructions(args.prompts)
    params = GenerationParams(max_new_tokens=args.max_new_tokens, temperature=0.0)

    device = settings.RAG_MODEL_DEVICE
    batched = LocalTransformersClient(
        model_id, models_dir=models_dir, device=device, batch_size=args.batch_size, timeout_s=settings.LLM_TIMEOUT_S
    )
    sequential = LocalTransformersClient(
        model_id, models_dir=models_dir, device=device, batch_size=1, timeout_s=settings.LLM_TIMEOUT_S
    )
    started = time.perf_counter()
    batched.generate(conversations[:2], GenerationParams(max_new_tokens=4))
    load_s = time.perf_counter() - started
    print(f"model {model_id}: loaded and warmed up in {load_s:.1f} s; torch threads {torch.get_num_threads()}")

    with tempfile.TemporaryDirectory(prefix="llm-bench-cache-") as cache_dir:
        cached = CachedLLMClient(batched, Path(cache_dir), chunk_size=len(conversations))
        batched_answers, batched_s = timed(lambda: cached.generate(conversations, params))
        cached_answers, cached_s = timed(lambda: cached.generate(conversations, params))
    sequential_answers, sequential_s = timed(lambda: sequential.generate(conversations, params))

    count = len(conversations)
    figures = {
        "prompts": count,
        "max_new_tokens": args.max_new_tokens,
        "batch_size": args.batch_size,
        "torch_threads": torch.get_num_threads(),
        "batched_s": round(batched_s, 2),
        "sequential_s": round(sequential_s, 2),
        "cached_s": round(cached_s, 4),
        "batched_per_s": round(count / batched_s, 3),
        "sequential_per_s": round(count / sequential_s, 3),
        "batch_ratio": round(sequential_s / batched_s, 2),
        "cache_speedup": round(batched_s / cached_s, 1),
        "batched_equals_sequential": batched_answers == sequential_answers,
        "cache_equals_batched": cached_answers == batched_answers,
    }
    rows = [
        ("batched (one forward pass per batch)", batched_s, count / batched_s),
        ("one at a time", sequential_s, count / sequential_s),
        ("second pass from the cache", cached_s, count / cached_s),
    ]
    print(f"{'mode':<40}{'seconds':>12}{'samples/s':>14}")
    for name, seconds, rate in rows:
        print(f"{name:<40}{seconds:>12.2f}{rate:>14.2f}")
    print(f"batch ratio {figures['batch_ratio']}x (target ≥ 3), cache speed-up {figures['cache_speedup']}x")
    print(f"batched answers equal one-at-a-time answers: {figures['batched_equals_sequential']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
