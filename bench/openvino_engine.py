"""Benchmark of the OpenVINO GenAI engine on the packaged SmolLM2-135M, exported with the given weight formats,
side by side with the transformers fallback on the same weights and prompts.

    python bench/openvino_engine.py [--formats int8 int4] [--clients 8] [--max-new-tokens 64] [--data-dir DIR]
                                    [--no-transformers]

For the transformers fallback (the source weights, RAG_MODEL_DTYPE=auto), then per weight format, in one process,
greedy decoding:
- export seconds and size (the export is kept under DATA_DIR/bench/openvino and reused on the next run);
- time to first token at a RAG-sized prompt (about 1,536 tokens), median of 3, one client;
- decode tokens/s with one client and with `--clients` concurrent clients, and their ratio;
- prompt lookup on and off, on answers that quote their context and on answers that do not (ratio of wall times;
  OpenVINO only).
Then each export's time to first token as a ratio of the fallback's (goal: at most 0.4), the process's peak RSS,
and, last, one JSON object with the figures.
"""

import argparse
import json
import resource
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.local_streaming import TransformersStreamingLLM
from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
from llm_engineering.infrastructure.llm.openvino_engine import OpenVINOGenerator
from llm_engineering.model.inference.openvino_export import (
    EXPORT_RECORD,
    OpenVINOExport,
    export_openvino,
    folder_size_mb,
)
from llm_engineering.settings import load_settings

PASSAGE = (
    "The feature store keeps point-in-time joins correct by storing every feature value with the time it became "
    "known, and a training row only ever reads values known before its label's time. "
)
QUOTING = "Context:\n{context}\nQuote the first sentence of the context exactly."
FREE = "Write a short poem about the sea, in your own words."


class Engine(Protocol):
    """What both engines offer the benchmark."""

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


def timed_stream(engine: Engine, text: str, max_new_tokens: int) -> tuple[float, float, int]:
    """(time to first piece, total time, tokens generated)."""
    started = time.monotonic()
    first = 0.0
    pieces: list[str] = []
    for piece in engine.stream([ChatMessage("user", text)], GenerationParams(max_new_tokens=max_new_tokens)):
        if not pieces:
            first = time.monotonic() - started
        pieces.append(piece)
    return first, time.monotonic() - started, engine.count_tokens("".join(pieces))


def concurrent_tokens_per_s(engine: Engine, clients: int, max_new_tokens: int) -> float:
    """Generated tokens per second of wall time with `clients` requests in flight at once."""
    counts: list[int] = []

    def ask(index: int) -> None:
        counts.append(timed_stream(engine, f"{FREE} Number {index}.", max_new_tokens)[2])

    started = time.monotonic()
    threads = [threading.Thread(target=ask, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def exported(source: Path, folder: Path, weight_format: str) -> OpenVINOExport:
    """The export of `source` in `weight_format`, made once and reused while its record names the same source and
    format (another LOCAL_LLM_MODEL_ID exports again)."""
    try:
        record = json.loads((folder / EXPORT_RECORD).read_text())
    except (OSError, ValueError):
        record = {}
    same = record.get("source") == str(source) and record.get("weight_format") == weight_format
    if same and (folder / "openvino_model.xml").is_file():
        return OpenVINOExport(folder, weight_format, folder_size_mb(folder), float("nan"))
    return export_openvino(source, folder, weight_format)


def serving_figures(engine: Engine, clients: int, max_new_tokens: int) -> dict[str, float]:
    """Time to first token at a RAG-sized prompt, and tokens/s with one client and with `clients`."""
    long_prompt = QUOTING.format(context=PASSAGE * 40)  # about 1,500 tokens
    figures: dict[str, float] = {"prompt_tokens": engine.count_tokens(long_prompt)}
    timed_stream(engine, FREE, 8)  # warm-up
    figures["ttft_p50_s"] = round(statistics.median(timed_stream(engine, long_prompt, 1)[0] for _ in range(3)), 3)
    _, seconds, tokens = timed_stream(engine, FREE, max_new_tokens)
    figures["tokens_per_s_1_client"] = round(tokens / seconds, 1)
    figures[f"tokens_per_s_{clients}_clients"] = round(concurrent_tokens_per_s(engine, clients, max_new_tokens), 1)
    figures["concurrency_ratio"] = round(
        figures[f"tokens_per_s_{clients}_clients"] / figures["tokens_per_s_1_client"], 2
    )
    return figures


def measure(export: OpenVINOExport, clients: int, max_new_tokens: int) -> dict[str, float]:
    """Every figure of one export."""
    figures: dict[str, float] = {"export_s": round(export.export_s, 1), "size_mb": round(export.size_mb, 1)}
    plain = OpenVINOGenerator(export.folder, model_id="SmolLM2-135M")
    plain.load()
    figures.update(serving_figures(plain, clients, max_new_tokens))
    quoting = QUOTING.format(context=PASSAGE * 3)
    plain_times = {
        kind: timed_stream(plain, text, max_new_tokens)[1] for kind, text in (("quoting", quoting), ("free", FREE))
    }
    plain.close()
    lookup = OpenVINOGenerator(export.folder, model_id="SmolLM2-135M", prompt_lookup=True)
    lookup.load()
    timed_stream(lookup, FREE, 8)
    for kind, text in (("quoting", quoting), ("free", FREE)):
        figures[f"prompt_lookup_speedup_{kind}"] = round(
            plain_times[kind] / timed_stream(lookup, text, max_new_tokens)[1], 2
        )
    lookup.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", nargs="+", default=["int8", "int4"], choices=["int8", "int4", "fp16", "fp32"])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--data-dir", type=Path, default=None, help="DATA_DIR (default: the settings')")
    parser.add_argument("--no-transformers", action="store_true", help="skip the transformers fallback's figures")
    args = parser.parse_args()
    settings = load_settings(**({"DATA_DIR": args.data_dir} if args.data_dir else {}))
    source = Path(resolve_llm_model(settings.LOCAL_LLM_MODEL_ID, llm_models_dir(settings)))
    results: dict[str, dict[str, float]] = {}
    if not args.no_transformers:
        fallback = TransformersStreamingLLM(
            source, model_id="SmolLM2-135M", models_dir=llm_models_dir(settings), dtype=settings.RAG_MODEL_DTYPE
        )
        fallback.load()
        results["transformers"] = serving_figures(fallback, args.clients, args.max_new_tokens)
    for weight_format in args.formats:
        export = exported(source, settings.data_dir / "bench" / "openvino" / weight_format, weight_format)
        results[weight_format] = measure(export, args.clients, args.max_new_tokens)
    print(f"{'figure':32}" + "".join(f"{name:>14}" for name in results))
    for key in results[args.formats[0]]:
        print(f"{key:32}" + "".join(f"{figures.get(key, '-'):>14}" for figures in results.values()))
    if "transformers" in results:
        for weight_format in args.formats:
            ratio = results[weight_format]["ttft_p50_s"] / results["transformers"]["ttft_p50_s"]
            results[weight_format]["ttft_ratio_to_transformers"] = round(ratio, 3)
            print(f"{weight_format} time to first token / transformers': {ratio:.3f} (goal <= 0.4)")
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process (all engines): {peak_rss_mb:.0f} MB")
    print("goals: concurrency ratio >= 2.5; prompt lookup >= 1.5 on quoting answers, >= 0.95 on the others")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
