"""The service's trace spans are the RAG core's own stages, at the times it took them, or one span for the call."""

from datetime import UTC, datetime, timedelta

from llm_engineering.domain.rag import Retrieval, StageTime
from llm_engineering.infrastructure.api.twin_calls import _retrieval_spans

START = datetime(2026, 1, 1, tzinfo=UTC)


def at(ms: float) -> datetime:
    return START + timedelta(milliseconds=ms)


def test_each_stage_is_a_span_at_the_times_the_core_recorded() -> None:
    stages = {
        "self-query": StageTime(at(1), at(3)),
        "retrieval": StageTime(at(3), at(33)),
        "rerank": StageTime(at(34), at(39)),
    }
    retrieval = Retrieval(query="q", author_full_name=None, queries=["q", "q2"], chunks=[], stage_times=stages)
    spans = {span.name: span for span in _retrieval_spans(retrieval, START, at(100))}
    assert [(spans[name].start, spans[name].end) for name in stages] == [(t.start, t.end) for t in stages.values()]
    assert spans["retrieval"].input == {"queries": ["q", "q2"]}


def test_without_stage_times_one_span_covers_the_call_and_says_so() -> None:
    retrieval = Retrieval(query="q", author_full_name=None, queries=["q"], chunks=[])
    [span] = _retrieval_spans(retrieval, START, at(100))
    assert (span.name, span.start, span.end) == ("retrieve", START, at(100))
    assert "records no stage times" in span.metadata["timing"]
