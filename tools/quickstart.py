"""The main job (`make run`): from the sample authors' pages to the twin's first answer, in one ZenML run.

    llm-twin quickstart [--config configs/quickstart.yaml] [--question "..."] [--summary output/run_summary.json]

The continuous-training pipeline runs with the quickstart's training budget: ETL from the local sample site, features,
the instruction and preference datasets, SFT, DPO, evaluation against the base and production with promotion, and
the optimize stage (OpenVINO int8 and GGUF, registered on the production version). Then one question is asked of
the production twin through the RAG core the service uses. A line names each stage as it starts ([4/9] ...), a
table at the end says what each stage took and made, and the same summary is written as JSON.

Run it again and every stage whose inputs did not change reuses what it made: nothing is re-embedded, retrained or
re-exported, and the same version answers. After a failure, the next run goes on from the failed stage, since the
stages before it find their work done. The default configs crawl the local sample site, so `poe quickstart` runs
`llm-twin sample-site -- llm-twin quickstart`.
"""

import importlib.util
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llm_engineering.domain.exceptions import ConfigError, LLMTwinError
from llm_engineering.domain.ports import GenerationParams
from llm_engineering.model.continuous_training import ContinuousTrainingConfig
from llm_engineering.settings import get_settings
from tools.cli_logging import configure_logging
from tools.rag import DEFAULT_QUESTION
from tools.run import launch, load_config

if TYPE_CHECKING:
    from zenml.models import PipelineRunResponse, StepRunResponse

PIPELINE = "continuous-training"
DEFAULT_CONFIG = Path("configs/quickstart.yaml")
DEFAULT_SUMMARY = Path("output/run_summary.json")
# ZenML's local orchestrator says this, in this process, as each step begins.
STEP_STARTED = re.compile(r"Step `(?P<step>[^`]+)` has started")


@dataclass(frozen=True)
class Stage:
    """One stage as a person sees it: a name, and the pipeline steps (by name prefix) that make it up."""

    key: str
    title: str
    steps: tuple[str, ...]

    def owns(self, step_name: str) -> bool:
        """Whether the ZenML step `step_name` belongs to this stage."""
        return any(step_name == prefix or step_name.startswith(prefix) for prefix in self.steps)


ALL_STAGES = (
    Stage("etl", "Crawl the sample authors", ("crawl_links_", "resolve_authors")),
    Stage("features", "Features: clean, chunk, embed", ("update_feature_store",)),
    Stage("instruct", "Instruction dataset", ("generate_instruct_datasets",)),
    Stage("preference", "Preference dataset", ("generate_preference_datasets",)),
    Stage("sft", "SFT", ("train_sft",)),
    Stage("dpo", "DPO", ("train_dpo",)),
    Stage("evaluate", "Evaluation and promotion", ("evaluate_candidate", "promote_candidate")),
    Stage("optimize", "Optimize: OpenVINO export, GGUF", ("optimize_version", "export_gguf_version")),
    Stage("ask", "Ask the twin", ()),
)


def stages_for(config: ContinuousTrainingConfig) -> list[Stage]:
    """The stages this config runs (no DPO stage without dpo_config, no optimize stage without optimize_config)."""
    skipped = {"dpo"} if config.dpo_config is None else set()
    if config.optimize_config is None:
        skipped.add("optimize")
    return [stage for stage in ALL_STAGES if stage.key not in skipped]


class StageAnnouncer(logging.Handler):
    """Prints `[i/N] title …` when the first step of a stage starts, read from ZenML's "Step `x` has started"."""

    def __init__(self, stages: Sequence[Stage], emit_line: Callable[[str], None]) -> None:
        super().__init__(level=logging.INFO)
        self._stages = list(stages)
        self._emit_line = emit_line
        self.announced: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = STEP_STARTED.search(record.getMessage())
        if match is not None:
            self.step_started(match["step"])

    def step_started(self, step_name: str) -> None:
        """Announce the stage `step_name` opens, once."""
        for stage in self._stages:
            if stage.owns(step_name):
                self.announce(stage)
                return

    def announce(self, stage: Stage) -> None:
        """The stage's line, the first time only."""
        if stage.key in self.announced:
            return
        self.announced.append(stage.key)
        index = self._stages.index(stage) + 1
        self._emit_line(f"[{index}/{len(self._stages)}] {stage.title} …")

    @property
    def current(self) -> str | None:
        """The key of the stage that started last."""
        return self.announced[-1] if self.announced else None


@dataclass
class StageResult:
    """What one stage took and made."""

    key: str
    title: str
    status: str = "not run"  # completed | failed | interrupted | not run
    seconds: float | None = None
    made: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def one_line(text: str, limit: int = 300) -> str:
    """The last non-empty line of `text` (an exception's message or traceback), cut to `limit` characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "unknown error"
    return last if len(last) <= limit else f"{last[: limit - 1]}…"


def gpu_path() -> str:
    """Which training path this machine gets: Unsloth on CUDA when both are there, else CPU."""
    try:
        import torch

        cuda = bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover - torch is a dependency
        cuda = False
    if cuda and importlib.util.find_spec("unsloth") is not None:
        return "GPU (CUDA, Unsloth)"
    if cuda:
        return "GPU (CUDA, transformers + PEFT + TRL; install the gpu extra for Unsloth)"
    return "CPU (transformers + PEFT + TRL)"


def _load(step: "StepRunResponse", output: str) -> Any:
    artifacts = step.outputs.get(output) or []
    return artifacts[0].load() if artifacts else None


def _metadata(step: "StepRunResponse") -> dict[str, Any]:
    return dict(step.run_metadata or {})


def _seconds(steps: Sequence["StepRunResponse"]) -> float | None:
    spans = [(s.start_time, s.end_time) for s in steps if s.start_time is not None and s.end_time is not None]
    return round(sum((end - start).total_seconds() for start, end in spans), 1) if spans else None


def _status(steps: Sequence["StepRunResponse"]) -> str:
    statuses = {str(step.status.value) for step in steps}
    if not statuses:
        return "not run"
    if "failed" in statuses:
        return "failed"
    if statuses == {"completed"} or statuses == {"completed", "cached"} or statuses == {"cached"}:
        return "completed"
    return "interrupted"


def made_by(stage: Stage, steps: Sequence["StepRunResponse"], model_name: str) -> dict[str, Any]:
    """What a completed stage made, from its steps' outputs and metadata and the model version they name."""
    from llm_engineering.model.registry import find_model_version

    by_name = {step.name: step for step in steps}
    if stage.key == "etl":
        reports = [_load(step, "crawl_report") for step in steps if step.name.startswith("crawl_links_")]
        outcomes: dict[str, int] = {}
        for report in reports:
            for outcome, count in (report or {}).get("outcomes", {}).items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
        documents = sum(sum((report or {}).get("documents", {}).values()) for report in reports)
        return {"authors": len(reports), "links": sum((r or {}).get("links", 0) for r in reports)} | {
            "documents": documents,
            "outcomes": outcomes,
        }
    if stage.key == "features":
        report = _load(by_name["update_feature_store"], "feature_store_report") or {}
        keys = ("documents_seen", "documents_changed", "documents_skipped", "chunks_written")
        return {key: report.get(key) for key in keys}
    if stage.key in ("instruct", "preference"):
        counts = _metadata(steps[0]).get("counts", {})
        train = sum(split.get("train", 0) for split in counts.values())
        test = sum(split.get("test", 0) for split in counts.values())
        return {"train_rows": train, "test_rows": test}
    if stage.key in ("sft", "dpo"):
        step = steps[0]
        number = int(_load(step, "trained_version"))
        version = find_model_version(model_name, number)
        metrics: dict[str, Any] = dict(version.run_metadata or {})
        made: dict[str, Any] = {"version": number, "reused": "reused_version" in _metadata(step)}
        for key in ("perplexity_before", "perplexity_after"):
            if isinstance(metrics.get(key), int | float):
                made[key] = round(float(metrics[key]), 3)
        made["backend"] = metrics.get("backend")
        return made
    if stage.key == "evaluate":
        decision = _load(by_name["promote_candidate"], "promotion_decision") or {}
        results = _load(by_name["evaluate_candidate"], "evaluation_results") or {}
        perplexity = {
            score["role"]: round(float(score["measures"]["perplexity"]), 3)
            for score in results.get("scores", [])
            if score.get("measures", {}).get("perplexity") is not None
        }
        return {
            "candidate_version": decision.get("candidate_version"),
            "perplexity": perplexity,
            "promoted": decision.get("promoted"),
            "reason": decision.get("reason"),
        }
    if stage.key == "optimize":
        optimization = _load(by_name["optimize_version"], "optimization") or {}
        made = {
            "weight_format": optimization.get("weight_format"),
            "size_mb": optimization.get("size_mb"),
            "perplexity_ratio": round(float(optimization["perplexity_ratio"]), 4)
            if isinstance(optimization.get("perplexity_ratio"), int | float)
            else None,
            "served": optimization.get("served"),
            "reused": bool(optimization.get("reused")) or "reused" in _metadata(by_name["optimize_version"]),
        }
        if "export_gguf_version" in by_name:
            gguf = _load(by_name["export_gguf_version"], "gguf_export") or {}
            made["gguf"] = gguf.get("format") or gguf.get("gguf_format")
            made["gguf_size_mb"] = gguf.get("size_mb")
        return made
    return {}


def stage_results(
    run: "PipelineRunResponse", stages: Sequence[Stage], model_name: str, interrupted: str | None = None
) -> list[StageResult]:
    """One result per stage of the run, in order: status, time, what it made, or the one-line reason it failed."""
    steps = list(run.steps.values())
    results = []
    for stage in stages:
        result = StageResult(stage.key, stage.title)
        owned = [step for step in steps if stage.owns(step.name)]
        result.status = _status(owned)
        result.seconds = _seconds(owned)
        if result.status == "failed":
            failed = next(step for step in owned if str(step.status.value) == "failed")
            info = failed.exception_info
            message = (info.message if info is not None and info.message else None) or (
                info.traceback if info is not None else "no exception recorded"
            )
            result.error = f"{failed.name}: {one_line(message)}"
        elif result.status == "completed":
            try:
                result.made = made_by(stage, owned, model_name)
            except (KeyError, TypeError, ValueError, LLMTwinError) as error:
                result.made = {"note": f"could not read what it made: {error}"}
        if interrupted is not None and stage.key == interrupted and result.status != "completed":
            result.status, result.error = "interrupted", "interrupted (Ctrl-C)"
        results.append(result)
    return results


def ask_twin(question: str, params: GenerationParams, model_name: str, emit: Callable[[str], None]) -> dict[str, Any]:
    """The question to `model_name`'s production twin through the RAG core: the sources, then the streamed answer."""
    from llm_engineering.bootstrap.twin import build_twin

    twin = build_twin(get_settings(), model_name=model_name)
    try:
        retrieval = twin.retrieve(question)
        emit(f"Question: {question}")
        emit(f"Answered by: {twin.model_name} on {twin.serving.get('engine', '?')}")
        for note in retrieval.notes:
            emit(f"Note: {note}")
        emit("Sources:")
        sources = []
        for rank, chunk in enumerate(retrieval.chunks, start=1):
            scores = {name: round(value, 4) for name, value in chunk.scores.items() if value is not None}
            sources.append({"author": chunk.author_full_name, "link": chunk.link, "scores": scores})
            shown = "  ".join(f"{name} {value}" for name, value in scores.items())
            emit(f"  {rank}. {chunk.author_full_name}  {chunk.link}  {shown}")
        emit("Answer:")
        pieces: list[str] = []
        stream: Iterator[str] = twin.stream_answer(retrieval, [], params)
        try:
            for piece in stream:
                pieces.append(piece)
                print(piece, end="", flush=True)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        print(flush=True)
        return {
            "question": question,
            "model": twin.model_name,
            "engine": twin.serving.get("engine"),
            "sources": sources,
            "answer": "".join(pieces),
        }
    finally:
        twin.close()


def _readable(value: Any) -> str:
    """A summary value as a person reads it: a mapping as "key value, key value"."""
    if isinstance(value, dict):
        return "(" + ", ".join(f"{key} {_readable(inner)}" for key, inner in value.items()) + ")"
    return str(value)


def render_summary(summary: dict[str, Any]) -> str:
    """The summary table: each stage's status, time and what it made."""
    rows = [("stage", "status", "time", "made")]
    for stage in summary["stages"]:
        seconds = "" if stage["seconds"] is None else f"{stage['seconds']:.1f} s"
        made = stage["error"] or "; ".join(
            f"{key} {_readable(value)}" for key, value in stage["made"].items() if value is not None
        )
        rows.append((stage["title"], stage["status"], seconds, made))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    lines.append(f"total {summary['total_seconds']:.1f} s on the {summary['training_path']} path; {summary['outcome']}")
    return "\n".join(lines)


NEXT_STEPS = """What next:
  poe run-inference-ml-service                    # the twin over HTTP on http://127.0.0.1:8000
  open http://127.0.0.1:8000/                     # its chat page
  curl -s http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
       -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "How do you keep GPU costs down?"}}]}}'
  poe local-zenml-server-up                       # the ZenML dashboard: runs, artifacts, model versions
  poe call-rag-retrieval-module "your question"   # ask again from the terminal"""


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """The summary as JSON, written whole (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    partial.replace(path)


def latest_run(started: datetime) -> "PipelineRunResponse | None":
    """This job's ZenML run: the newest continuous_training run created after `started`."""
    from zenml.client import Client

    runs = Client().list_pipeline_runs(sort_by="desc:created", size=5, hydrate=True)
    for run in runs.items:
        created = run.created if run.created.tzinfo is not None else run.created.replace(tzinfo=UTC)
        if run.pipeline is not None and run.pipeline.name == "continuous_training" and created >= started:
            return run
    return None


def quickstart(
    config_path: Annotated[Path, typer.Option("--config", help="the main job's config")] = DEFAULT_CONFIG,
    question: Annotated[str, typer.Option(help="what to ask the twin at the end")] = DEFAULT_QUESTION,
    max_new_tokens: Annotated[int, typer.Option(help="answer length limit")] = 160,
    summary_path: Annotated[Path, typer.Option("--summary", help="where the run summary is written")] = DEFAULT_SUMMARY,
) -> int:
    """The main job: from the sample authors' pages to the twin's first answer, in one ZenML run.

    ETL from the local sample site, features, both datasets, SFT, DPO, evaluation with promotion, the optimize stage,
    then one question through the RAG core. Run it again and every finished stage is reused; after a failure the next
    run goes on from the failed stage. Exit 0 when the twin answered, 1 when a stage failed, 2 for a bad config, 130
    on Ctrl-C.
    """
    try:
        config, run_options = load_config(PIPELINE, config_path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not isinstance(config, ContinuousTrainingConfig):  # pragma: no cover - PIPELINE's config model
        raise TypeError(f"{PIPELINE} gave a {type(config).__name__}")
    configure_logging()
    stages = stages_for(config)
    model_name = config.sft_config.model_name
    announcer = StageAnnouncer(stages, lambda line: print(line, flush=True))
    zenml_logger = logging.getLogger("zenml.orchestrators.step_launcher")
    zenml_logger.addHandler(announcer)
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    path = gpu_path()
    print(f"The main job: {len(stages)} stages on the {path} path, config {config_path}.", flush=True)
    failure: str | None = None
    interrupted: str | None = None
    try:
        launch(PIPELINE, config, run_options)
    except KeyboardInterrupt:
        interrupted = announcer.current or stages[0].key
    except Exception as error:  # any step's failure, whatever its type, ends in the summary
        failure = one_line(f"{type(error).__name__}: {error}")
    finally:
        zenml_logger.removeHandler(announcer)
    run = latest_run(started_at)
    results = stage_results(run, stages[:-1], model_name, interrupted) if run is not None else []
    ask = StageResult("ask", stages[-1].title)
    answer: dict[str, Any] | None = None
    if failure is None and interrupted is None:
        announcer.announce(stages[-1])
        asked = time.monotonic()
        try:
            # As the service answers: its repetition controls, by default the evaluation's.
            settings = get_settings()
            params = GenerationParams(
                max_new_tokens=max_new_tokens,
                repetition_penalty=settings.API_REPETITION_PENALTY,
                no_repeat_ngram_size=settings.API_NO_REPEAT_NGRAM_SIZE,
            )
            answer = ask_twin(question, params, model_name, lambda line: print(line, flush=True))
        except KeyboardInterrupt:
            ask.status, ask.error = "interrupted", "interrupted (Ctrl-C)"
        except (LLMTwinError, ValueError) as error:
            ask.status, ask.error = "failed", f"ask: {one_line(str(error))}"
        else:
            ask.status = "completed"
            ask.made = {"model": answer["model"], "sources": len(answer["sources"])}
        ask.seconds = round(time.monotonic() - asked, 1)
    results.append(ask)
    failed = next((result for result in results if result.status in ("failed", "interrupted")), None)
    if failed is not None:
        outcome = f"stopped at {failed.title}: {(failed.error or '').rstrip('.')}"
    elif failure is not None:
        outcome = f"stopped: {failure.rstrip('.')}"
    else:
        outcome = "the twin answered"
    summary: dict[str, Any] = {
        "config": str(config_path),
        "pipeline_run": None if run is None else {"id": str(run.id), "name": run.name},
        "model_name": model_name,
        "training_path": path,
        "started": started_at.isoformat(),
        "total_seconds": round(time.monotonic() - clock, 1),
        "outcome": outcome,
        "stages": [vars(result) for result in results],
        "answer": answer,
    }
    write_summary(summary_path, summary)
    print()
    print(render_summary(summary))
    print(f"Summary written to {summary_path}.")
    if interrupted is not None or ask.status == "interrupted":
        print(f"error: interrupted. {outcome}. Run it again to go on from there.", file=sys.stderr)
        return 130
    if failed is not None or failure is not None:
        print(f"error: {outcome}. Fix it and run it again: the stages before it are reused.", file=sys.stderr)
        return 1
    print()
    print(NEXT_STEPS.format(model=answer["model"] if answer else model_name))
    return 0
