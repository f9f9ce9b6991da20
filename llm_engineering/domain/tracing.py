"""Prompt monitoring in the domain's terms: one trace per request, made of timed spans, and the port that ships it.

The service builds a `RequestTrace` only when the tracer is enabled, so tracing that is off costs nothing.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass
class TraceSpan:
    """One timed stage of a request (self-query, retrieval, rerank, generation) with what went in and out."""

    name: str
    start: datetime
    end: datetime
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class RequestTrace:
    """One request to the twin: its route, query, answer, model version, spans and outcome."""

    name: str
    request_id: str
    start: datetime
    end: datetime
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    spans: list[TraceSpan] = field(default_factory=list)
    error: str | None = None


class Tracer(Protocol):
    """Where finished request traces go (Opik, or nowhere); `record` must never raise into the request."""

    @property
    def enabled(self) -> bool:
        """False when tracing is off, so callers skip building traces at all."""
        ...

    def record(self, trace: RequestTrace) -> None:
        """Ship one finished trace (asynchronously where the backend allows)."""
        ...

    def close(self) -> None:
        """Flush what is pending and release the backend; called once at shutdown."""
        ...
