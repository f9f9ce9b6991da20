"""The Tracer port's adapters: Opik when OPIK_API_KEY / OPIK_URL_OVERRIDE are set, otherwise nothing at all."""

from typing import Any, Protocol

from llm_engineering.domain.tracing import RequestTrace
from llm_engineering.settings import Settings

# Opik flushes on close; a server that is down must not hold the service's shutdown for long.
CLOSE_TIMEOUT_S = 5


class NullTracer:
    """Tracing off: no client, no thread, no network, nothing to flush at exit."""

    @property
    def enabled(self) -> bool:
        """Always False: this tracer records nothing."""
        return False

    def record(self, trace: RequestTrace) -> None:
        """Never called by the service (it checks `enabled`); drops the trace."""

    def close(self) -> None:
        """Nothing to release."""


class OpikClient(Protocol):
    """The part of `opik.Opik` the adapter uses."""

    def trace(self, **kwargs: Any) -> Any:
        """Create a trace with the given fields and send it."""
        ...

    def end(self, timeout: int | None = None) -> Any:
        """Flush the traces still queued, waiting at most `timeout` seconds."""
        ...


class OpikTracer:
    """One Opik trace per request, with one span per stage; the client's background thread does the sending."""

    def __init__(self, client: OpikClient) -> None:
        self._client = client

    @property
    def client(self) -> OpikClient:
        """The Opik client traces go through."""
        return self._client

    @property
    def enabled(self) -> bool:
        """Always True: traces are sent to Opik."""
        return True

    def record(self, trace: RequestTrace) -> None:
        """Log the trace and its spans (queued; the Opik client batches them to the server)."""
        model = str(trace.metadata.get("model", ""))
        opik_trace = self._client.trace(
            name=trace.name,
            start_time=trace.start,
            end_time=trace.end,
            input=trace.input,
            output=trace.output,
            metadata={**trace.metadata, "request_id": trace.request_id},
            tags=["llm-twin", trace.name],
            error_info={"exception_type": "RequestFailed", "message": trace.error, "traceback": ""}
            if trace.error
            else None,
        )
        for span in trace.spans:
            opik_trace.span(
                name=span.name,
                type="llm" if span.name == "generation" else "general",
                start_time=span.start,
                end_time=span.end,
                input=span.input,
                output=span.output,
                metadata=span.metadata,
                model=model if span.name == "generation" else None,
            )

    def close(self) -> None:
        """Send what is queued (at most CLOSE_TIMEOUT_S) and release the client."""
        self._client.end(timeout=CLOSE_TIMEOUT_S)


def build_opik_client(settings: Settings) -> OpikClient:
    """The real `opik.Opik` client for the configured project, workspace, server and key; sends nothing yet."""
    import opik

    client: OpikClient = opik.Opik(
        project_name=settings.OPIK_PROJECT,
        workspace=settings.OPIK_WORKSPACE,
        host=settings.OPIK_URL_OVERRIDE,
        api_key=settings.OPIK_API_KEY.get_secret_value() if settings.OPIK_API_KEY else None,
        _show_misconfiguration_message=False,
    )
    return client


def build_tracer(settings: Settings) -> NullTracer | OpikTracer:
    """OpikTracer when Opik is configured; otherwise NullTracer, without importing or building any Opik client."""
    if not settings.opik_enabled:
        return NullTracer()
    return OpikTracer(build_opik_client(settings))
