"""The SageMaker TGI adapter against moto's sagemaker-runtime (server mode, through AWS_ENDPOINT_URL), and, for the
calls and errors moto does not model, against a real boto3 client whose HTTP layer is botocore's Stubber."""

import base64
import io
import json
from collections.abc import Iterator
from typing import Any, cast

import boto3
import httpx
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import sagemakerruntime_backends
from transformers import PreTrainedTokenizerFast

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.prompt import ChatPromptFormatter
from llm_engineering.infrastructure.llm.sagemaker import SageMakerRuntime, SageMakerTGIClient
from llm_engineering.infrastructure.retrying import RetryPolicy
from tests.aws_support import REGION, LocalAWS, aws_emulator  # noqa: F401 - the fixture, used by name below

EXPECTED_CALL = {"EndpointName": "twin", "ContentType": "application/json", "Accept": "application/json", "Body": ANY}
SHORT = GenerationParams(max_new_tokens=16)
QUESTION = [ChatMessage(role="system", content="then a dog ran"), ChatMessage(role="user", content="the cat sat")]


class Runtime:
    """A real sagemaker-runtime client whose responses are queued on a Stubber, and the bodies it was sent."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "sagemaker-runtime", region_name="eu-central-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        self.stubber = Stubber(self.client)
        self.bodies: list[dict[str, Any]] = []
        self.client.meta.events.register("before-parameter-build.sagemaker-runtime.InvokeEndpoint", self._capture)

    def _capture(self, params: dict[str, Any], **_: object) -> None:
        self.bodies.append(json.loads(params["Body"]))

    def answer(self, payload: object) -> None:
        data = json.dumps(payload).encode()
        body = StreamingBody(io.BytesIO(data), len(data))
        self.stubber.add_response("invoke_endpoint", {"Body": body, "ContentType": "application/json"}, EXPECTED_CALL)

    def fail(self, code: str, status: int, **fields: object) -> None:
        self.stubber.add_client_error(
            "invoke_endpoint",
            service_error_code=code,
            service_message=f"stubbed {code}",
            http_status_code=status,
            modeled_fields=fields,
            expected_params=EXPECTED_CALL,
        )


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    stubbed = Runtime()
    with stubbed.stubber:
        yield stubbed
        stubbed.stubber.assert_no_pending_responses()


@pytest.fixture
def formatter(word_chat_tokenizer: PreTrainedTokenizerFast) -> ChatPromptFormatter:
    return ChatPromptFormatter(word_chat_tokenizer, name="word-model", context_tokens=64)


def emulated_client(formatter: ChatPromptFormatter) -> SageMakerTGIClient:
    """The adapter as the service builds it: its own boto3 client, which finds the emulator in AWS_ENDPOINT_URL."""
    return SageMakerTGIClient(
        "twin",
        formatter=lambda: formatter,
        region=REGION,
        timeout_s=5.0,
        retry=RetryPolicy(max_retries=2, backoff_s=0.01),
        concurrency=1,
    )


def queue_answers(aws: LocalAWS, *payloads: object) -> None:
    """The endpoint's next answers, in order, set through moto's API for InvokeEndpoint results."""
    results = [{"Body": json.dumps(payload), "ContentType": "application/json"} for payload in payloads]
    url = f"{aws.endpoint_url}/moto-api/static/sagemaker/endpoint-results"
    httpx.post(url, json={"region": REGION, "results": results}, timeout=30).raise_for_status()


def bodies_received(endpoint: str = "twin") -> list[dict[str, Any]]:
    """The JSON bodies the emulator's endpoint was sent, in order.

    moto, serving from this process, files each distinct request under a key that holds its body: read from there.
    """
    requests = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID][REGION].results.get(endpoint, {})
    return [json.loads(json.loads(base64.b64decode(key))["Body"]) for key in requests]


def client_for(runtime: Runtime, formatter: ChatPromptFormatter, max_retries: int = 2) -> SageMakerTGIClient:
    return SageMakerTGIClient(
        "twin",
        formatter=lambda: formatter,
        region="eu-central-1",
        timeout_s=5.0,
        retry=RetryPolicy(max_retries=max_retries, backoff_s=0.01),
        concurrency=1,
        runtime_client=cast(SageMakerRuntime, runtime.client),
    )


def test_greedy_request_is_tgi_shaped_and_the_answer_parsed(
    aws_emulator: LocalAWS,  # noqa: F811 - the fixture imported above
    formatter: ChatPromptFormatter,
) -> None:
    queue_answers(aws_emulator, [{"generated_text": "a dog ran"}])
    answers = emulated_client(formatter).generate([QUESTION], GenerationParams(max_new_tokens=20))
    assert answers == ["a dog ran"]
    assert bodies_received() == [
        {
            "inputs": "<|system|> then a dog ran <|end|> <|user|> the cat sat <|end|> <|assistant|>",
            "parameters": {"max_new_tokens": 20, "return_full_text": False, "do_sample": False},
        }
    ]


def test_sampling_parameters_and_a_bare_object_answer(
    aws_emulator: LocalAWS,  # noqa: F811 - the fixture imported above
    formatter: ChatPromptFormatter,
) -> None:
    queue_answers(aws_emulator, {"generated_text": "the mat"})
    params = GenerationParams(max_new_tokens=8, temperature=0.7, top_p=0.9, seed=3)
    assert emulated_client(formatter).generate([QUESTION], params) == ["the mat"]
    (body,) = bodies_received()
    assert body["parameters"] == {
        "max_new_tokens": 8,
        "return_full_text": False,
        "do_sample": True,
        "temperature": 0.7,
        "seed": 3,
        "top_p": 0.9,
    }


def test_prompts_are_cut_to_the_context_left_for_the_answer(
    aws_emulator: LocalAWS,  # noqa: F811 - the fixture imported above
    formatter: ChatPromptFormatter,
) -> None:
    queue_answers(aws_emulator, [{"generated_text": "ok"}])
    long_question = [ChatMessage(role="user", content=" ".join(["the cat sat on the mat"] * 30))]
    emulated_client(formatter).generate([long_question], GenerationParams(max_new_tokens=24))
    (body,) = bodies_received()
    assert formatter.count_tokens(body["inputs"]) == 64 - 24


# Stubber: moto's InvokeEndpoint always answers 200, so no throttle and no container ModelError can come from it.
def test_throttling_is_retried(runtime: Runtime, formatter: ChatPromptFormatter) -> None:
    runtime.fail("ThrottlingException", 400)
    runtime.fail("ModelError", 424, OriginalStatusCode=503, OriginalMessage="queue full")
    runtime.answer([{"generated_text": "finally"}])
    assert client_for(runtime, formatter).generate([QUESTION], SHORT) == ["finally"]
    assert len(runtime.bodies) == 3


# Stubber: moto's InvokeEndpoint always answers 200, so no throttle and no container ModelError can come from it.
def test_a_model_error_from_the_container_is_not_retried(runtime: Runtime, formatter: ChatPromptFormatter) -> None:
    runtime.fail("ModelError", 424, OriginalStatusCode=422, OriginalMessage="Input validation error")
    with pytest.raises(
        LLMError, match=r"twin \(eu-central-1\) failed after 1 attempt\(s\): ModelError \(container HTTP 422\)"
    ):
        client_for(runtime, formatter).generate([QUESTION], SHORT)


# Stubber: moto's InvokeEndpoint always answers 200, so no throttle and no container ModelError can come from it.
def test_persistent_throttling_ends_in_an_llm_error(runtime: Runtime, formatter: ChatPromptFormatter) -> None:
    for _ in range(3):
        runtime.fail("ThrottlingException", 400)
    with pytest.raises(LLMError, match=r"after 3 attempt\(s\): ThrottlingException .*SAGEMAKER_ENDPOINT_INFERENCE"):
        client_for(runtime, formatter).generate([QUESTION], SHORT)


def test_an_answer_that_is_not_tgi_is_an_llm_error(
    aws_emulator: LocalAWS,  # noqa: F811 - the fixture imported above
    formatter: ChatPromptFormatter,
) -> None:
    queue_answers(aws_emulator, {"outputs": ["x"]})
    with pytest.raises(LLMError, match="is it TGI"):
        emulated_client(formatter).generate([QUESTION], SHORT)


class _Events(list[dict[str, Any]]):
    """SageMaker's response event stream as botocore yields it: PayloadPart chunks; records its closing."""

    closed = False

    def close(self) -> None:
        self.closed = True


def _stream_of(*chunks: bytes) -> _Events:
    return _Events({"PayloadPart": {"Bytes": chunk}} for chunk in chunks)


def _queue_stream(runtime: Runtime, events: _Events) -> None:
    """The request goes through the Stubber (its parameters checked); the event stream is swapped in after the call,
    because the Stubber validates a response's event stream as a plain structure."""
    runtime.stubber.add_response(
        "invoke_endpoint_with_response_stream",
        {"Body": {}, "ContentType": "text/event-stream"},
        {"EndpointName": "twin", "ContentType": "application/json", "Body": ANY},
    )

    def swap(parsed: dict[str, Any], **_: object) -> None:
        parsed["Body"] = events

    runtime.client.meta.events.register_first("after-call.sagemaker-runtime.InvokeEndpointWithResponseStream", swap)


def _capture_stream_body(runtime: Runtime) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    runtime.client.meta.events.register(
        "before-parameter-build.sagemaker-runtime.InvokeEndpointWithResponseStream",
        lambda params, **_: bodies.append(json.loads(params["Body"])),
    )
    return bodies


def _token(text: str, special: bool = False) -> bytes:
    return b"data:" + json.dumps({"token": {"id": 1, "text": text, "special": special}}).encode() + b"\n\n"


# Stubber: moto 5.2 does not implement InvokeEndpointWithResponseStream.
def test_streaming_yields_tokens_split_across_payload_parts(runtime: Runtime, formatter: ChatPromptFormatter) -> None:
    bodies = _capture_stream_body(runtime)
    wire = _token("a") + _token(" dog") + _token(" ran") + _token("</s>", special=True)
    events = _stream_of(wire[:7], wire[7:30], wire[30:])
    _queue_stream(runtime, events)
    tokens = list(client_for(runtime, formatter).stream(QUESTION, GenerationParams(max_new_tokens=20)))
    assert tokens == ["a", " dog", " ran"]
    assert bodies[0]["stream"] is True and bodies[0]["parameters"]["max_new_tokens"] == 20
    assert events.closed


# Stubber: moto 5.2 does not implement InvokeEndpointWithResponseStream.
def test_closing_the_stream_closes_the_endpoints_event_stream(runtime: Runtime, formatter: ChatPromptFormatter) -> None:
    events = _stream_of(*(_token(f" w{i}") for i in range(50)))
    _queue_stream(runtime, events)
    tokens = client_for(runtime, formatter).stream(QUESTION, SHORT)
    assert next(tokens) == " w0"
    tokens.close()  # type: ignore[attr-defined]
    assert events.closed


# Stubber: moto 5.2 does not implement InvokeEndpointWithResponseStream.
def test_a_stream_error_is_an_llm_error(runtime: Runtime, formatter: ChatPromptFormatter) -> None:
    _queue_stream(
        runtime, _stream_of(_token("a"), b'data:{"error": "Input validation error", "error_type": "validation"}\n\n')
    )
    with pytest.raises(LLMError, match="Input validation error"):
        list(client_for(runtime, formatter).stream(QUESTION, SHORT))
