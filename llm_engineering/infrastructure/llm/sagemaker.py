"""A Text Generation Inference (TGI) endpoint on SageMaker, called through boto3's sagemaker-runtime client."""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, cast

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.prompt import ChatPromptFormatter
from llm_engineering.infrastructure.llm.remote_calls import (
    CallFailure,
    call_with_retries,
    map_concurrently,
)
from llm_engineering.infrastructure.retrying import RetryPolicy

# Error codes of SageMaker itself (not of the model container) that a later attempt may not get.
_TRANSIENT_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalServerError",
    "ModelNotReadyException",
}


class SageMakerRuntime(Protocol):
    """The calls of boto3's sagemaker-runtime client this adapter makes."""

    def invoke_endpoint(self, **kwargs: Any) -> Mapping[str, Any]:
        """Send one request to the endpoint and return its whole response."""
        ...

    def invoke_endpoint_with_response_stream(self, **kwargs: Any) -> Mapping[str, Any]:
        """Send one request to the endpoint and return its response as an event stream."""
        ...


def tgi_stream_tokens(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The token texts of TGI's server-sent events as SageMaker streams them.

    The events are `PayloadPart` byte chunks that may split an SSE line anywhere. Special tokens (end of
    sequence) are skipped; a stream error raises LLMError.
    """
    buffer = b""
    for event in events:
        if "PayloadPart" not in event:
            failure: object = next(iter(event.values()), {}) if event else {}
            raise LLMError(f"The SageMaker stream failed: {str(failure)[:300]}; retry, or check the endpoint's logs.")
        buffer += event["PayloadPart"].get("Bytes", b"")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            text = _token_text(line)
            if text:
                yield text
    text = _token_text(buffer)
    if text:
        yield text


def _token_text(line: bytes) -> str | None:
    line = line.strip()
    if not line.startswith(b"data:"):
        return None
    try:
        data = json.loads(line[len(b"data:") :])
    except json.JSONDecodeError as error:
        raise LLMError(f"The SageMaker stream sent a line that is not JSON ({line[:200]!r}); is it TGI?") from error
    if isinstance(data, dict) and "error" in data:
        raise LLMError(f"The TGI endpoint stopped the answer: {str(data['error'])[:300]}")
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, dict) or token.get("special"):
        return None
    text = token.get("text")
    return text if isinstance(text, str) else None


def tgi_payload(prompt: str, params: GenerationParams) -> dict[str, Any]:
    """The body TGI's /generate (SageMaker's /invocations) expects; TGI rejects temperature 0 and top_p 1."""
    parameters: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "return_full_text": False}
    if params.temperature > 0:
        parameters.update(do_sample=True, temperature=params.temperature, seed=params.seed)
        if params.top_p < 1.0:
            parameters["top_p"] = params.top_p
    else:
        parameters["do_sample"] = False
    if params.repetition_penalty != 1.0:
        parameters["repetition_penalty"] = params.repetition_penalty
    return {"inputs": prompt, "parameters": parameters}


def parse_tgi_response(body: bytes) -> str:
    """The generated text of a TGI answer: [{"generated_text": ...}] (or the bare object)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LLMError(
            f"The SageMaker endpoint answered with non-JSON ({body[:200]!r}); is it a TGI container?"
        ) from error
    if isinstance(data, list) and data:
        data = data[0]
    text = data.get("generated_text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise LLMError(
            f'The SageMaker endpoint answered {str(data)[:200]}, not [{{"generated_text": ...}}]; is it TGI?'
        )
    return text


class SageMakerTGIClient:
    """Implements the LLMClient port: prompts rendered with the served model's chat template, sent concurrently."""

    def __init__(
        self,
        endpoint_name: str,
        *,
        formatter: Callable[[], ChatPromptFormatter],
        region: str,
        timeout_s: float,
        retry: RetryPolicy,
        concurrency: int,
        max_input_tokens: int | None = None,
        runtime_client: SageMakerRuntime | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
    ) -> None:
        """`formatter` loads the served model's tokenizer (TGI's /generate takes raw text, not chat messages)."""
        self._endpoint = endpoint_name
        self._formatter = formatter
        self._region = region
        self._timeout_s = timeout_s
        self._retry = retry
        self._concurrency = concurrency
        self._max_input_tokens = max_input_tokens
        self._runtime = runtime_client or self._make_runtime(aws_access_key_id, aws_secret_access_key)

    @property
    def backend(self) -> str:
        """Always "sagemaker": a TGI model on a SageMaker endpoint."""
        return "sagemaker"

    @property
    def model_id(self) -> str:
        """The endpoint's name, which identifies the deployed model."""
        return self._endpoint

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """One completion per conversation, requested concurrently; raises LLMError after the retries."""
        if not conversations:
            return []
        formatter = self._formatter()
        budget = formatter.input_budget(params.max_new_tokens, self._max_input_tokens)
        prompts = [formatter.render_fitted(conversation, budget) for conversation in conversations]
        return map_concurrently(lambda prompt: self._complete(prompt, params), prompts, self._concurrency)

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> Iterator[str]:
        """One completion's tokens as TGI generates them (invoke_endpoint_with_response_stream).

        Closing the iterator closes the HTTP stream, so the endpoint stops sending. Only the opening call is
        retried.
        """
        formatter = self._formatter()
        budget = formatter.input_budget(params.max_new_tokens, self._max_input_tokens)
        payload = {**tgi_payload(formatter.render_fitted(conversation, budget), params), "stream": True}
        body = json.dumps(payload).encode()

        def invoke() -> Mapping[str, Any]:
            return self._runtime.invoke_endpoint_with_response_stream(
                EndpointName=self._endpoint, ContentType="application/json", Body=body
            )

        response = call_with_retries(
            invoke,
            policy=self._retry,
            classify=self._classify,
            what=f"SageMaker endpoint {self._endpoint} ({self._region}), streaming",
            fix=(
                "Check that the endpoint is InService (SAGEMAKER_ENDPOINT_INFERENCE, AWS_REGION, AWS credentials); "
                "for a busy endpoint raise LLM_TIMEOUT_S or LLM_MAX_RETRIES."
            ),
        )
        events = response["Body"]
        try:
            yield from tgi_stream_tokens(events)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    def _complete(self, prompt: str, params: GenerationParams) -> str:
        body = json.dumps(tgi_payload(prompt, params)).encode()

        def invoke() -> bytes:
            response = self._runtime.invoke_endpoint(
                EndpointName=self._endpoint, ContentType="application/json", Accept="application/json", Body=body
            )
            raw: bytes = response["Body"].read()
            return raw

        raw = call_with_retries(
            invoke,
            policy=self._retry,
            classify=self._classify,
            what=f"SageMaker endpoint {self._endpoint} ({self._region})",
            fix=(
                "Check that the endpoint is InService (SAGEMAKER_ENDPOINT_INFERENCE, AWS_REGION, AWS credentials); "
                "for a busy endpoint raise LLM_TIMEOUT_S or LLM_MAX_RETRIES."
            ),
        )
        return parse_tgi_response(raw)

    def _classify(self, error: Exception) -> CallFailure | None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
            return CallFailure(transient=True, cause=f"timed out after {self._timeout_s:g} s (LLM_TIMEOUT_S)")
        if isinstance(error, EndpointConnectionError | ConnectionClosedError):
            return CallFailure(transient=True, cause=f"cannot connect ({error})")
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            code = str(details.get("Code", ""))
            message = str(details.get("Message", ""))[:300]
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code == "ModelError":
                # The container's own status: TGI answers 429 when its queue is full, 5xx when it breaks.
                original = int(cast(Mapping[str, Any], error.response).get("OriginalStatusCode", 0))
                transient = original == 429 or original >= 500
                return CallFailure(transient=transient, cause=f"ModelError (container HTTP {original}): {message}")
            transient = code in _TRANSIENT_CODES or status == 429 or status >= 500
            return CallFailure(transient=transient, cause=f"{code} (HTTP {status}): {message}")
        if isinstance(error, BotoCoreError):
            return CallFailure(transient=False, cause=str(error))
        return None

    def _make_runtime(self, access_key: str | None, secret_key: str | None) -> SageMakerRuntime:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=min(10.0, self._timeout_s),
            read_timeout=self._timeout_s,
            # botocore's own retries are off: ours apply the same policy and logs to every backend.
            retries={"total_max_attempts": 1},
        )
        client = boto3.client(
            "sagemaker-runtime",
            region_name=self._region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )
        return cast(SageMakerRuntime, client)
