"""The service's trace spans follow the RAG core's own per-stage timings."""

from datetime import UTC, datetime, timedelta

from llm_engineering.domain.rag import Retrieval
from llm_engineering.infrastructure.api.twin_calls import _retrieval_spans


def test_spans_are_laid_end_to_end_from_the_stage_timings() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(milliseconds=100)
    timings = {"self-query": 2.0, "retrieval": 30.0, "rerank": 5.0}
    retrieval = Retrieval(query="q", author_full_name=None, queries=["q"], chunks=[], timings_ms=timings)
    spans = {span.name: span for span in _retrieval_spans(retrieval, start, end)}
    assert spans["self-query"].start == start and spans["self-query"].end == start + timedelta(milliseconds=2)
    assert spans["retrieval"].start == spans["self-query"].end
    assert spans["rerank"].end == start + timedelta(milliseconds=37)
    assert "timing" not in spans["retrieval"].metadata


def test_without_stage_timings_every_span_is_the_whole_call_and_says_so() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(milliseconds=100)
    retrieval = Retrieval(query="q", author_full_name=None, queries=["q"], chunks=[])
    spans = _retrieval_spans(retrieval, start, end)
    assert all((span.start, span.end) == (start, end) and "timing" in span.metadata for span in spans)
