"""The cross-encoder reranker, used only when its model loads with a trained classification head.

No trained cross-encoder ships in any wheel, so on a machine without the Hub the reranker is skipped (said once).
A cross-encoder built from a plain encoder would get a randomly initialised head and rank at random: refused.
"""

import os
import socket
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from loguru import logger

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder


class CrossEncoderReranker:
    """Implements the Reranker port with a sentence-transformers CrossEncoder that was checked to be trained."""

    def __init__(self, model: "CrossEncoder", model_id: str) -> None:
        self._model = model
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        """The cross-encoder's Hugging Face id."""
        return self._model_id

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage, read together with the query."""
        if not passages:
            return []
        scores = self._model.predict([(query, passage) for passage in passages], show_progress_bar=False)
        return [float(score) for score in scores]


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hugging Face Hub (HF_ENDPOINT) takes a connection here; HF_HUB_OFFLINE=1 means no, unasked.

    Asked once before a download, because the Hub client retries an unreachable host for about 25 s per file.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


@lru_cache(maxsize=2)
def load_cross_encoder(model_id: str, device: str) -> CrossEncoderReranker | None:
    """The reranker, or None (logged once per process) when the model cannot load or its head is untrained.

    A Hub id loads from the local cache alone when the Hub cannot be reached.
    """
    from transformers import AutoModelForSequenceClassification

    local_only = not Path(model_id).expanduser().is_dir() and not hub_reachable()
    try:
        _, info = AutoModelForSequenceClassification.from_pretrained(
            model_id, output_loading_info=True, local_files_only=local_only
        )
    except (OSError, ValueError) as error:
        where = " (the Hub is not reachable from here and it is not in the local cache)" if local_only else ""
        logger.warning(
            "No reranking: the cross-encoder {} does not load here{} ({}). Chunks are ranked by fused score; set "
            "RERANKING_CROSS_ENCODER_MODEL_ID to a trained cross-encoder folder, or allow Hub access, to rerank.",
            model_id,
            where,
            str(error).splitlines()[0][:200],
        )
        return None
    untrained = [key for key in info.get("missing_keys", []) if "classifier" in key or "score" in key]
    if untrained:
        logger.warning(
            "No reranking: {} has no trained classification head ({} would start random), so it would rank at "
            "random. Set RERANKING_CROSS_ENCODER_MODEL_ID to a trained cross-encoder.",
            model_id,
            ", ".join(sorted(untrained)[:3]),
        )
        return None
    from sentence_transformers import CrossEncoder

    logger.info("Reranking with the cross-encoder {} on {}.", model_id, device)
    return CrossEncoderReranker(CrossEncoder(model_id, device=device, local_files_only=local_only), model_id)
