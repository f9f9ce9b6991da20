"""Load test of the REST service: the real service process under uvicorn on 127.0.0.1, driven by async httpx clients.

    python bench/serve.py [--answerer twin|stand-in] [--duration 60] [--retrieve-clients 50]
                          [--chat-clients 8] [--chat-requests 4] [--max-tokens 32]
    python bench/serve.py --engines transformers openvino [--chat-clients 8] [--max-tokens 64] [--weight-format int8]

Measures:
- POST /retrieve with N concurrent clients for the duration: requests/s, p50, p95, errors (target: 0 errors);
- POST /v1/chat/completions (stream) with 1 client, then with K concurrent clients: generated pieces/s of each,
  the throughput ratio K/1 (target ≥ 2.5 with the engine's continuous batching) and time to first token;
- the limit that ratio is compared against: with 1 client, a request's time T over its time to first token t0.
  Even if K rows decoded together for free, each request's retrieval and prompt prefill (compute-bound on a CPU,
  so K prompts cost K times one) stays serial, so K clients cannot beat K·n pieces per K·t0: ratio <= T / t0;
- the service process's memory (VmRSS, and VmHWM, its peak) after the load.

`--answerer twin` (the default) runs `llm-twin serve`, the service with the real RAG core.
`--answerer stand-in` serves a canned answerer defined here: it is NOT the real twin (no retrieval, no model;
pieces come at a fixed pace), so its numbers measure only the service's own overhead.
API_MAX_CONCURRENT_REQUESTS is raised above the client count so the limiter does not turn load into 429s.
The last line is one JSON object with the figures.

`--engines` compares the serving engines instead, in one run and on the same prompts: the packaged SmolLM2-135M on
plain transformers (the fallback, RAG_MODEL_DTYPE) and on OpenVINO GenAI's continuous batching (its `--weight-format`
export, made once under DATA_DIR/bench/openvino and reused), each built from the settings as the service builds it
(LLM_KV_CACHE_GB, LLM_MAX_BATCHED_TOKENS, LLM_PROMPT_LOOKUP). Each engine runs in a process of its own, so that its
peak RSS is its own, and is driven directly rather than over HTTP (the HTTP overhead is what `--answerer stand-in`
measures). Per engine: time to first token at a prompt of about 1,536 tokens with one client (p50 of 3), greedy
decode tokens/s with 1 client and with --chat-clients, their ratio (goal >= 2.5), and peak RSS; then OpenVINO's
time to first token as a ratio of transformers' (goal <= 0.4).
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.domain.rag import ContextChunk, ReadinessCheck, Retrieval
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.local.loopback import free_port

QUERIES = [
    "How do you keep GPU costs down?",
    "What is a point-in-time join?",
    "Which data tools does Theo Brandt dislike?",
    "How should a feature store version its features?",
    "What makes a good evaluation set?",
]
STAND_IN_NAME = "stand-in (NOT the real twin: canned chunks and pieces)"


class StandInAnswerer:
    """A canned TwinAnswerer for measuring the service alone: fixed chunks, one piece every `piece_s`."""

    def __init__(self, piece_s: float = 0.02) -> None:
        self._piece_s = piece_s

    @property
    def model_name(self) -> str:
        return STAND_IN_NAME

    def retrieve(self, query: str, *, k: int | None = None, author_full_name: str | None = None) -> Retrieval:
        chunk = ContextChunk(
            chunk_id="stand-in",
            document_id="stand-in",
            category=DataCategory.POSTS,
            author_full_name="Stand In",
            link="http://127.0.0.1/stand-in",
            content="canned",
        )
        return Retrieval(query=query, author_full_name=None, queries=[query], chunks=[chunk])

    def stream_answer(
        self, retrieval: Retrieval, history: Sequence[ChatMessage], params: GenerationParams
    ) -> Iterator[str]:
        for index in range(params.max_new_tokens):
            time.sleep(self._piece_s)
            yield f"w{index} "

    @property
    def serving(self) -> dict[str, str]:
        return {"engine": "stand-in"}

    def readiness(self) -> dict[str, ReadinessCheck]:
        return {name: ReadinessCheck(True, "answers") for name in ("warehouse", "vector_store", "model")}


def _serve_stand_in(port: int) -> None:
    import uvicorn

    from llm_engineering.infrastructure.api.app import create_app
    from llm_engineering.infrastructure.api.dependencies import ServiceConfig
    from llm_engineering.settings import load_settings

    app = create_app(ServiceConfig.from_settings(load_settings()), StandInAnswerer)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _start(answerer: str, port: int, max_concurrent: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "API_MAX_CONCURRENT_REQUESTS": str(max_concurrent), "API_HOST": "127.0.0.1"}
    env.setdefault("OPIK_TRACK_DISABLE", "true")
    if answerer == "twin":
        command = [sys.executable, "-m", "tools", "serve", "--port", str(port)]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve-stand-in", "--port", str(port)]
    with log.open("wb") as sink:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _wait_ready(
    url: str, headers: dict[str, str], process: subprocess.Popen[bytes], timeout_s: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise SystemExit(f"the service exited with status {process.returncode} before it was ready:\n{tail}")
        try:
            if httpx.get(f"{url}/ready", headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the service was not ready after {timeout_s:g} s")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def _retrieve_load(url: str, headers: dict[str, str], clients: int, duration_s: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + duration_s

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        turn = index
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                response = await http.post(f"{url}/retrieve", json={"query": QUERIES[turn % len(QUERIES)]})
                if response.status_code != 200:
                    errors += 1
                else:
                    latencies.append(time.perf_counter() - started)
            except httpx.HTTPError:
                errors += 1
            turn += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
    }


async def _chat_load(
    url: str, headers: dict[str, str], clients: int, requests_each: int, max_tokens: int
) -> dict[str, float]:
    first_token_s: list[float] = []
    request_s: list[float] = []
    pieces = 0
    errors = 0

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal pieces, errors
        for turn in range(requests_each):
            body = {
                "messages": [{"role": "user", "content": QUERIES[(index + turn) % len(QUERIES)]}],
                "stream": True,
                "max_tokens": max_tokens,
            }
            started = time.perf_counter()
            first = True
            async with http.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    errors += 1
                    continue
                async for line in response.aiter_lines():
                    if not line.startswith("data: {"):
                        continue
                    delta = json.loads(line[6:]).get("choices", [{}])[0].get("delta", {})
                    if delta.get("content"):
                        pieces += 1
                        if first:
                            first_token_s.append(time.perf_counter() - started)
                            first = False
            request_s.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with httpx.AsyncClient(headers=headers, timeout=600) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": clients * requests_each,
        "errors": errors,
        "pieces_per_s": round(pieces / elapsed, 2),
        "ttft_p50_ms": round(statistics.median(first_token_s) * 1000, 1) if first_token_s else float("nan"),
        "ttft_p95_ms": round(_percentile(first_token_s, 0.95) * 1000, 1),
        "ttft_mean_ms": round(statistics.fmean(first_token_s) * 1000, 1) if first_token_s else float("nan"),
        "request_mean_ms": round(statistics.fmean(request_s) * 1000, 1) if request_s else float("nan"),
    }


def _memory_mib(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


def _engine_child(engine_name: str, clients: int, max_new_tokens: int, weight_format: str) -> None:
    """In a process of its own: build one engine as the service would, measure it, print one JSON line."""
    import resource

    from bench.openvino_engine import exported, serving_figures
    from llm_engineering.bootstrap.llm import llm_models_dir
    from llm_engineering.infrastructure.llm.local_streaming import TransformersStreamingLLM
    from llm_engineering.infrastructure.llm.model_store import resolve_llm_model
    from llm_engineering.infrastructure.llm.openvino_engine import EngineLimits, OpenVINOGenerator
    from llm_engineering.settings import load_settings

    settings = load_settings()
    source = Path(resolve_llm_model(settings.LOCAL_LLM_MODEL_ID, llm_models_dir(settings)))
    engine: TransformersStreamingLLM | OpenVINOGenerator
    if engine_name == "transformers":
        engine = TransformersStreamingLLM(
            source, model_id="SmolLM2-135M", models_dir=llm_models_dir(settings), dtype=settings.RAG_MODEL_DTYPE
        )
    else:
        export = exported(source, settings.data_dir / "bench" / "openvino" / weight_format, weight_format)
        engine = OpenVINOGenerator(
            export.folder,
            model_id="SmolLM2-135M",
            limits=EngineLimits(
                kv_cache_gb=settings.LLM_KV_CACHE_GB,
                max_batched_tokens=settings.LLM_MAX_BATCHED_TOKENS,
                max_sequences=max(clients, settings.API_MAX_CONCURRENT_REQUESTS),
            ),
            prompt_lookup=settings.LLM_PROMPT_LOOKUP,
        )
    started = time.monotonic()
    engine.load()
    figures: dict[str, object] = {"engine": engine.engine, "load_s": round(time.monotonic() - started, 2)}
    figures.update(serving_figures(engine, clients, max_new_tokens))
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


def _compare_engines(engines: Sequence[str], clients: int, max_new_tokens: int, weight_format: str) -> int:
    """Measure each engine in its own process, print a table, the goals, and one JSON line."""
    root = Path(__file__).resolve().parents[1]
    results: dict[str, dict[str, object]] = {}
    for name in engines:
        print(f"measuring {name} ...", flush=True)
        command = [sys.executable, "-m", "bench.serve", "--engine-child", name, "--chat-clients", str(clients)]
        command += ["--max-tokens", str(max_new_tokens), "--weight-format", weight_format]
        child = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if child.returncode != 0:
            print(f"{name} failed:\n{child.stderr[-3000:]}", file=sys.stderr)
            return 1
        results[name] = json.loads(child.stdout.strip().splitlines()[-1])
    keys = [key for key in next(iter(results.values())) if key != "engine"]
    print(f"{'figure':28}" + "".join(f"{name:>16}" for name in results))
    for key in keys:
        print(f"{key:28}" + "".join(f"{figures.get(key, '-')!s:>16}" for figures in results.values()))
    for name, figures in results.items():
        print(f"{name}: {figures['engine']}")
    print(f"goal: {clients} clients / 1 client >= 2.5")
    if "transformers" in results and "openvino" in results:
        ratio = float(str(results["openvino"]["ttft_p50_s"])) / float(str(results["transformers"]["ttft_p50_s"]))
        results["openvino"]["ttft_ratio_to_transformers"] = round(ratio, 3)
        print(f"openvino time to first token / transformers': {ratio:.3f} (goal <= 0.4)")
    print(json.dumps(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Start the service, run both loads, report, stop the service (or, with --engines, compare the engines)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answerer", choices=["twin", "stand-in"], default="twin")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of /retrieve load (default 60)")
    parser.add_argument("--retrieve-clients", type=int, default=50)
    parser.add_argument("--chat-clients", type=int, default=8)
    parser.add_argument("--chat-requests", type=int, default=4, help="streamed requests per chat client")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--ready-timeout", type=float, default=600.0, help="seconds to wait for /ready")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=["transformers", "openvino"],
        help="compare these serving engines instead of load-testing the service (uses --chat-clients, --max-tokens)",
    )
    parser.add_argument("--weight-format", choices=["int8", "int4", "fp16"], default="int8", help="with --engines")
    parser.add_argument("--serve-stand-in", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine-child", choices=["transformers", "openvino"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_child:
        _engine_child(args.engine_child, args.chat_clients, args.max_tokens, args.weight_format)
        return 0
    if args.engines:
        return _compare_engines(args.engines, args.chat_clients, args.max_tokens, args.weight_format)
    port = args.port or free_port()
    if args.serve_stand_in:
        _serve_stand_in(port)
        return 0
    key = os.environ.get("API_KEY", "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "service.log"
    process = _start(args.answerer, port, max(args.retrieve_clients, args.chat_clients) + 8, log)
    print(f"service log: {log}")
    try:
        _wait_ready(url, headers, process, args.ready_timeout, log)
        model = httpx.get(f"{url}/v1/models", headers=headers).json()["data"][0]["id"]
        print(f"service pid {process.pid}, model: {model}")
        retrieve = asyncio.run(_retrieve_load(url, headers, args.retrieve_clients, args.duration))
        print(
            f"/retrieve, {args.retrieve_clients} clients, {args.duration:g} s: {retrieve['requests_per_s']} req/s, "
            f"p50 {retrieve['p50_ms']} ms, p95 {retrieve['p95_ms']} ms, {retrieve['errors']} errors (target 0)"
        )
        single = asyncio.run(_chat_load(url, headers, 1, args.chat_requests, args.max_tokens))
        many = asyncio.run(_chat_load(url, headers, args.chat_clients, args.chat_requests, args.max_tokens))
        ratio = round(many["pieces_per_s"] / single["pieces_per_s"], 2) if single["pieces_per_s"] else float("nan")
        for result in (single, many):
            print(
                f"/v1/chat/completions, {result['clients']} client(s): {result['pieces_per_s']} pieces/s, "
                f"TTFT p50 {result['ttft_p50_ms']} ms, p95 {result['ttft_p95_ms']} ms, {result['errors']} errors"
            )
        bound = round(single["request_mean_ms"] / single["ttft_mean_ms"], 2)
        print(f"throughput ratio {args.chat_clients}/1: {ratio} (target >= 2.5 with continuous batching)")
        print(
            f"limit: 1 client's request time / its time to first token = {single['request_mean_ms']} / "
            f"{single['ttft_mean_ms']} ms = {bound} (what the ratio could reach if decoding together were free; "
            "prefill does not batch on CPU)"
        )
        memory = _memory_mib(process.pid)
        print(f"service memory after load: VmRSS {memory.get('VmRSS')} MiB, peak VmHWM {memory.get('VmHWM')} MiB")
        report = {
            "answerer": args.answerer,
            "model": model,
            "retrieve": retrieve,
            "chat_single": single,
            "chat_concurrent": many,
            "throughput_ratio": ratio,
            "throughput_ratio_limit": bound,
            "memory_mib": memory,
        }
        print(json.dumps(report))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
