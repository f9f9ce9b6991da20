"""One model's evaluation: answers and perplexity (heavy), then the measures and the optional judge (light).

The heavy part, answers to every test instruction and held-out perplexity, runs here or in a SageMaker job; the
light part, the objective measures and the optional judge, runs on those answers.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from loguru import logger
from tqdm import tqdm

from llm_engineering.domain.exceptions import RegistryError
from llm_engineering.domain.ports import ChatMessage, Embedder, GenerationParams, LLMClient
from llm_engineering.model.evaluation.config import EvaluationConfig, EvaluationGenerationSection
from llm_engineering.model.evaluation.judge import judge_answers
from llm_engineering.model.evaluation.measures import bleu, length_stats, rouge_l, style_similarity
from llm_engineering.model.finetuning.data import Row
from llm_engineering.model.finetuning.formatting import uses_chat_template
from llm_engineering.model.finetuning.perplexity import held_out_perplexity
from llm_engineering.model.registry import find_model_version, load_model_folder

Role = Literal["base", "production", "candidate"]


@dataclass(frozen=True)
class ModelUnderTest:
    """A model the run evaluates.

    Its role, a label for tables, its registry version (None for the base), its merged weights, and the optimized
    export it is scored on (None: the weights themselves, on transformers float32).
    """

    role: Role
    label: str
    version: int | None
    folder: Path
    export: Path | None = None

    @property
    def scored_as(self) -> str:
        """What was scored, for tables and results: "openvino-genai int8 export" or "transformers float32"."""
        if self.export is None:
            return "transformers float32"
        return f"openvino-genai {_export_format(self.export)} export"


def _export_format(folder: Path) -> str:
    import json

    try:
        return str(json.loads((folder / "llm_twin_export.json").read_text())["weight_format"])
    except (OSError, ValueError, KeyError):
        return "unknown"


@dataclass(frozen=True)
class ModelOutputs:
    """What only the model's weights can give: its answers to the test instructions and its perplexity."""

    answers: list[str]
    perplexity: float


@dataclass(frozen=True)
class ModelScores:
    """Every measure of one model, as measured; judge scores are None when no judge ran or every judgement failed."""

    role: Role
    label: str
    version: int | None
    measures: dict[str, float | None]
    judge_failed: int | None = None
    answers: list[str] = field(default_factory=list)
    # What was scored: "transformers float32" (the weights) or "openvino-genai int8 export".
    scored_as: str = "transformers float32"

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the results file and the step output."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelScores":
        """The inverse of `to_json`."""
        return cls(**data)


def answer_conversations(rows: Sequence[Row]) -> list[list[ChatMessage]]:
    """The conversation a model answers for each test row: the instruction alone, as a user would ask it."""
    return [[ChatMessage(role="user", content=row["instruction"])] for row in rows]


def generate_answers(
    client: LLMClient, rows: Sequence[Row], generation: EvaluationGenerationSection, label: str
) -> list[str]:
    """Greedy answers to every test instruction, asked in batches (a cached client answers repeats from disk)."""
    conversations = answer_conversations(rows)
    params = GenerationParams(
        max_new_tokens=generation.max_new_tokens,
        temperature=0.0,
        repetition_penalty=generation.repetition_penalty,
        no_repeat_ngram_size=generation.no_repeat_ngram_size,
    )
    answers: list[str] = []
    with tqdm(total=len(conversations), desc=f"answers of {label}", unit="answer") as progress:
        for start in range(0, len(conversations), generation.batch_size):
            batch = conversations[start : start + generation.batch_size]
            answers.extend(client.generate(batch, params))
            progress.update(len(batch))
    return answers


def model_perplexity(folder: Path, rows: Sequence[Row], max_length: int) -> float:
    """Held-out perplexity of the model in `folder` on the authors' answers, by the training code's measure."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return held_out_perplexity(model, tokenizer, rows, uses_chat_template(tokenizer), max_length)


def model_outputs(
    model: ModelUnderTest,
    client: LLMClient,
    rows: Sequence[Row],
    generation: EvaluationGenerationSection,
    max_length: int,
) -> ModelOutputs:
    """The answers and the perplexity of one model.

    The answers come through `client` (local weights, an export or an endpoint alike); the perplexity is the
    export's when the model is scored on one, else its weights'.
    """
    answers = generate_answers(client, rows, generation, model.label)
    if model.export is not None:
        from llm_engineering.model.inference.openvino_perplexity import openvino_perplexity

        perplexity = openvino_perplexity(model.export, rows, max_length)
    else:
        perplexity = model_perplexity(model.folder, rows, max_length)
    logger.info("{}: perplexity {:.3f} on {} held-out answers.", model.label, perplexity, len(rows))
    return ModelOutputs(answers=answers, perplexity=perplexity)


def score_outputs(
    model: ModelUnderTest,
    outputs: ModelOutputs,
    rows: Sequence[Row],
    embedder: Embedder,
    judge: LLMClient | None = None,
    judge_max_new_tokens: int = 256,
) -> ModelScores:
    """Every measure of one model's outputs against the author's references (and the judge's, when given)."""
    references = [row["output"] for row in rows]
    lengths = length_stats(outputs.answers)
    measures: dict[str, float | None] = {
        "perplexity": outputs.perplexity,
        "rouge_l": rouge_l(outputs.answers, references),
        "bleu": bleu(outputs.answers, references),
        "style_similarity": style_similarity(outputs.answers, references, embedder),
        "mean_words": lengths.mean_words,
        "median_words": lengths.median_words,
        "min_words": float(lengths.min_words),
        "max_words": float(lengths.max_words),
        "empty_share": lengths.empty_share,
        "degenerate_share": lengths.degenerate_share,
        "judge_accuracy": None,
        "judge_style": None,
    }
    judge_failed: int | None = None
    if judge is not None:
        outcome = judge_answers(judge, [row["instruction"] for row in rows], outputs.answers, judge_max_new_tokens)
        measures["judge_accuracy"] = outcome.accuracy
        measures["judge_style"] = outcome.style
        judge_failed = outcome.failed
    return ModelScores(
        role=model.role,
        label=model.label,
        version=model.version,
        measures=measures,
        judge_failed=judge_failed,
        answers=list(outputs.answers),
        scored_as=model.scored_as,
    )


def production_version(model_name: str) -> int | None:
    """The number of the version in the production stage, None when no version is there yet."""
    try:
        return find_model_version(model_name, "production").number
    except RegistryError:
        return None


def models_under_test(config: EvaluationConfig, base_folder: Path, cache_dir: Path) -> list[ModelUnderTest]:
    """Base, production (when there is one, and it is not the candidate itself) and candidate, from the registry.

    Each version is scored as the service would serve it, on its optimized export when it has one cleared for
    serving, but only when the candidate and its reference (production) both have one: promotion compares like
    with like. Otherwise every model is scored on its weights, and the labels say so.
    """
    from llm_engineering.model.inference.production import served_export

    candidate = find_model_version(config.model_name, config.candidate_version)
    production = production_version(config.model_name) if config.compare_production else None
    if config.compare_production and production is None:
        logger.info("No {} version is in production yet: the candidate is compared with the base.", config.model_name)
    compared = [number for number in (production, candidate.number) if number is not None]
    compared = list(dict.fromkeys(compared))
    exports = {
        number: served_export(config.model_name, find_model_version(config.model_name, number), cache_dir)
        for number in compared
    }
    on_exports = production is not None and all(export.folder is not None for export in exports.values())
    if not on_exports:
        missing = "; ".join(export.note for export in exports.values() if export.folder is None)
        logger.info("Scoring the registry models on their weights (transformers float32): {}.", missing or "no export")
    models = [ModelUnderTest(role="base", label="base", version=None, folder=base_folder)]
    versions: list[tuple[Role, int | None]] = [("production", production), ("candidate", candidate.number)]
    for role, number in versions:
        if number is None or (role == "production" and number == candidate.number):
            continue
        folder = load_model_folder(config.model_name, number, cache_dir)
        export = exports[number].folder if on_exports else None
        if role == "production":
            label = f"v{number} (production)"
        else:
            label = f"v{number} ({','.join(tag.name for tag in candidate.tags) or 'candidate'})"
        if export is not None:
            label = f"{label} [{_export_format(export)}]"
        models.append(ModelUnderTest(role, label, number, folder, export))
    return models


def evaluate_models(
    models: Sequence[ModelUnderTest],
    rows: Sequence[Row],
    config: EvaluationConfig,
    answer_client: Callable[[ModelUnderTest], LLMClient],
    embedder: Embedder,
    judge: LLMClient | None,
) -> list[ModelScores]:
    """Every model's outputs (answers through `answer_client(model)`) and scores, in the order given."""
    if not rows:
        raise ValueError("The instruct dataset's test split is empty: there is nothing held out to evaluate on.")
    outputs: dict[str, ModelOutputs] = {
        model.role: model_outputs(model, answer_client(model), rows, config.generation, config.max_length)
        for model in models
    }
    return score_models(models, outputs, rows, config, embedder, judge)


def score_models(
    models: Sequence[ModelUnderTest],
    outputs: Mapping[str, ModelOutputs],
    rows: Sequence[Row],
    config: EvaluationConfig,
    embedder: Embedder,
    judge: LLMClient | None,
) -> list[ModelScores]:
    """The measures (and the judge's scores) of every model's outputs, wherever the outputs were computed."""
    if judge is None:
        logger.info("No judge configured (judge.backend is null): the objective measures alone decide.")
    return [
        score_outputs(model, outputs[model.role], rows, embedder, judge, config.judge.max_new_tokens)
        for model in models
    ]
