"""The optimize stage's exports of the packaged SmolLM2-135M, measured against their source on held-out rows.

    python -m bench.optimize [--formats int8 int4 q8_0 f16] [--rows 24] [--max-length 256] [--max-new-tokens 64]

Held-out rows: the test split of the instruction dataset built from the sample corpus with the `structure` strategy
(no LLM needed), at most --rows of them. Per format, in one process:
- export seconds and size on disk: OpenVINO IR through optimum-intel (int8, int4, fp16) or GGUF through llama.cpp's
  converter (q8_0, f16);
- held-out perplexity, and its ratio to the source weights' (fp32) on the same rows, by the evaluation's measure
  (OpenVINO exports run on OpenVINO; a GGUF is read back into transformers, dequantized);
- decode tokens/s of one greedy stream, and the speed-up of prompt lookup on an answer that quotes its context:
  the source under transformers (fp32; that engine has no prompt lookup), each OpenVINO export on the served
  engine. A GGUF is not decoded here: no llama.cpp runtime is installed.
Goals: int8 ≤ 1.02x the source's perplexity, int4 ≤ 1.10x. The last line is one JSON object with the figures.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from loguru import logger

from bench.openvino_engine import FREE, PASSAGE, QUOTING, timed_stream
from bench.rag_corpus import ROOT, sample_stores
from bench.retrieval_quality import dataset_rows
from llm_engineering.application.rag.prompts import standalone_system_prompt
from llm_engineering.bootstrap.llm import llm_models_dir
from llm_engineering.infrastructure.embeddings import SentenceTransformerEmbedder
from llm_engineering.infrastructure.llm.local_streaming import TransformersStreamingLLM
from llm_engineering.infrastructure.llm.model_store import ensure_safetensors, resolve_llm_model
from llm_engineering.infrastructure.llm.openvino_engine import OpenVINOGenerator
from llm_engineering.model.evaluation.evaluator import model_perplexity
from llm_engineering.model.inference.gguf_export import GGUF_FORMATS, export_gguf, with_source_tokenizer
from llm_engineering.model.inference.openvino_export import export_openvino
from llm_engineering.model.inference.openvino_perplexity import openvino_perplexity

GOALS = {"int8": 1.02, "int4": 1.10}


def decode_tokens_per_s(engine: TransformersStreamingLLM | OpenVINOGenerator, max_new_tokens: int) -> float:
    """Tokens/s of one greedy stream of a free answer, after a short warm-up."""
    timed_stream(engine, FREE, 8)
    _, seconds, tokens = timed_stream(engine, FREE, max_new_tokens)
    return round(tokens / seconds, 1)


def openvino_decode(folder: Path, max_new_tokens: int) -> dict[str, float]:
    """Decode tokens/s of an export, and prompt lookup's speed-up on an answer that quotes its context."""
    quoting = QUOTING.format(context=PASSAGE * 3)
    plain = OpenVINOGenerator(folder, model_id="SmolLM2-135M")
    plain.load()
    figures = {"decode_tokens_per_s": decode_tokens_per_s(plain, max_new_tokens)}
    plain_s = timed_stream(plain, quoting, max_new_tokens)[1]
    plain.close()
    lookup = OpenVINOGenerator(folder, model_id="SmolLM2-135M", prompt_lookup=True)
    lookup.load()
    timed_stream(lookup, FREE, 8)
    figures["prompt_lookup_speedup_quoting"] = round(plain_s / timed_stream(lookup, quoting, max_new_tokens)[1], 2)
    lookup.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.optimize", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--formats", nargs="+", default=["int8", "int4", "q8_0", "f16"])
    parser.add_argument("--rows", type=int, default=24, help="held-out rows to measure on")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--max-new-tokens", type=int, default=64, help="tokens per decode measurement")
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    with sample_stores() as stores, tempfile.TemporaryDirectory(prefix="optimize-bench-") as work:
        settings = stores.settings
        embedder = SentenceTransformerEmbedder.from_settings(settings)
        splits = dataset_rows(None, stores, embedder, ROOT / ".data" / "cache" / "llm", None, ["structure"])
        rows = [{"instruction": s.instruction, "output": s.output} for s in splits["test"][: args.rows]]
        source = Path(resolve_llm_model(settings.LOCAL_LLM_MODEL_ID, llm_models_dir(settings)))
        source_perplexity = model_perplexity(source, rows, args.max_length)
        fp32 = TransformersStreamingLLM(
            source, model_id="SmolLM2-135M", models_dir=llm_models_dir(settings), dtype="float32"
        )
        fp32.load()
        report: dict[str, Any] = {
            "rows": len(rows),
            "source_perplexity": round(source_perplexity, 4),
            "source_decode_tokens_per_s": decode_tokens_per_s(fp32, args.max_new_tokens),
        }
        del fp32
        for name in args.formats:
            target = Path(work) / name
            if name in GGUF_FORMATS:
                gguf = export_gguf(source, target, name, system=standalone_system_prompt(), title="bench")
                read_back = with_source_tokenizer(ensure_safetensors(gguf.gguf, Path(work) / f"{name}-read"), source)
                perplexity = model_perplexity(read_back, rows, args.max_length)
                seconds, size = gguf.export_s, gguf.size_mb
            else:
                export = export_openvino(source, target, name)
                perplexity = openvino_perplexity(export.folder, rows, args.max_length)
                seconds, size = export.export_s, export.size_mb
            report[name] = {
                "export_s": round(seconds, 1),
                "size_mb": round(size, 1),
                "perplexity": round(perplexity, 4),
                "ratio": round(perplexity / source_perplexity, 4),
            }
            if name not in GGUF_FORMATS:
                report[name].update(openvino_decode(export.folder, args.max_new_tokens))
    print(
        f"{len(rows)} held-out rows (structure strategy, sample corpus); source fp32 perplexity {source_perplexity:.4f}"
    )
    header = f"{'format':<8} {'export s':>8} {'size MB':>8} {'perplexity':>10} {'ratio':>7} {'goal':>7}"
    print(f"{header} {'decode tok/s':>12} {'lookup quoting':>14}")
    source_row = f"{'fp32':<8} {'-':>8} {'-':>8} {source_perplexity:10.4f} {1:7.4f} {'':>7}"
    print(f"{source_row} {report['source_decode_tokens_per_s']:12.1f} {'-':>14}  (source, transformers)")
    for name in args.formats:
        row = report[name]
        goal = f"<= {GOALS[name]:.2f}" if name in GOALS else ""
        print(
            f"{name:<8} {row['export_s']:8.1f} {row['size_mb']:8.1f} {row['perplexity']:10.4f} "
            f"{row['ratio']:7.4f} {goal:>7} {row.get('decode_tokens_per_s', '-'):>12} "
            f"{row.get('prompt_lookup_speedup_quoting', '-'):>14}"
        )
    print("goal for prompt lookup on quoting answers: >= 1.5x")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
