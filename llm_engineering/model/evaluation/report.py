"""Results people read: a table per model, a JSON file per evaluated version, a PNG chart comparing the models."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llm_engineering.model.evaluation.config import LOWER_IS_BETTER
from llm_engineering.model.evaluation.evaluator import ModelScores

# The measures in tables and charts, in reading order, with the heading a person reads.
TABLE_MEASURES = {
    "perplexity": "perplexity",
    "rouge_l": "ROUGE-L",
    "bleu": "BLEU",
    "style_similarity": "style sim",
    "mean_words": "words",
    "degenerate_share": "degenerate",
    "judge_accuracy": "judge acc",
    "judge_style": "judge style",
}


def _arrow(measure: str) -> str:
    if measure in {"mean_words"}:
        return ""
    return "↓" if measure in LOWER_IS_BETTER else "↑"


def results_table(scores: Sequence[ModelScores]) -> str:
    """A fixed-width table, one row per model, one column per measure (↓ lower is better, ↑ higher)."""
    headings = [f"{title}{_arrow(key)}" for key, title in TABLE_MEASURES.items()]
    label_width = max([5, *(len(score.label) for score in scores)])
    widths = [max(len(heading), 8) for heading in headings]
    lines = ["model".ljust(label_width) + "  " + "  ".join(h.rjust(w) for h, w in zip(headings, widths, strict=True))]
    for score in scores:
        cells = []
        for key, width in zip(TABLE_MEASURES, widths, strict=True):
            value = score.measures.get(key)
            cells.append(
                ("-" if value is None else f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}").rjust(width)
            )
        lines.append(score.label.ljust(label_width) + "  " + "  ".join(cells))
    return "\n".join(lines)


def write_results_json(path: Path, scores: Sequence[ModelScores], extra: dict[str, Any]) -> Path:
    """Every model's measures and answers, plus `extra` (config, promotion decision), as one JSON file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {**extra, "models": [score.to_json() for score in scores]}
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def write_chart(path: Path, scores: Sequence[ModelScores], title: str) -> Path:
    """A PNG with one bar panel per measure that has a value, one bar per model (base, production, candidate)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    measures = [key for key in TABLE_MEASURES if any(score.measures.get(key) is not None for score in scores)]
    columns = min(4, len(measures))
    rows = (len(measures) + columns - 1) // columns
    figure, axes = pyplot.subplots(rows, columns, figsize=(3.6 * columns, 3.0 * rows), squeeze=False)
    colours = {"base": "#9e9e9e", "production": "#4c72b0", "candidate": "#dd8452"}
    for index, key in enumerate(measures):
        axis = axes[index // columns][index % columns]
        labels = [score.label for score in scores]
        values = [score.measures.get(key) or 0.0 for score in scores]
        bars = axis.bar(range(len(scores)), values, color=[colours[score.role] for score in scores])
        axis.bar_label(bars, labels=[f"{value:.3g}" for value in values], fontsize=8)
        axis.set_xticks(range(len(scores)), labels, rotation=20, fontsize=8)
        axis.set_title(f"{TABLE_MEASURES[key]} {_arrow(key)}", fontsize=10)
        axis.margins(y=0.15)
    for index in range(len(measures), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path
