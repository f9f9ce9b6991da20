"""Any OpenAI-compatible chat-completions endpoint: OpenAI, vLLM, TGI's Messages API, Ollama."""

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams
from llm_engineering.infrastructure.llm.prompt import ChatPromptFormatter
from llm_engineering.infrastructure.llm.remote_calls import (
    CallFailure,
    call_with_retries,
    map_concurrently,
)
from llm_engineering.infrastructure.retrying import RetryPolicy, retry_after_seconds

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

# Sent when no key is configured: self-hosted servers (vLLM, Ollama, TGI) ignore it, the client insists on one.
_KEYLESS = "no-key"


class OpenAICompatibleClient:
    """Implements the LLMClient port over /v1/chat/completions; a batch is sent as concurrent requests."""

    def __init__(
        self,
        model_id: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float,
        retry: RetryPolicy,
        concurrency: int,
        formatter: Callable[[], ChatPromptFormatter] | None = None,
        max_input_tokens: int | None = None,
    ) -> None:
        """`formatter` loads the served model's tokenizer to cut prompts to its context; None sends them whole."""
        from openai import OpenAI

        self._model_id = model_id
        self._where = base_url or "api.openai.com"
        self._timeout_s = timeout_s
        self._retry = retry
        self._concurrency = concurrency
        self._formatter = formatter
        self._max_input_tokens = max_input_tokens
        # The client's own retries are off: ours apply the same policy and logs to every backend.
        self._client = OpenAI(api_key=api_key or _KEYLESS, base_url=base_url, timeout=timeout_s, max_retries=0)

    @property
    def backend(self) -> str:
        """Always "openai": an OpenAI-compatible chat completions endpoint."""
        return "openai"

    @property
    def model_id(self) -> str:
        """The model name sent with each request."""
        return self._model_id

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """One completion per conversation, requested concurrently; raises LLMError after the retries."""
        return map_concurrently(
            lambda conversation: self._complete(conversation, params), conversations, self._concurrency
        )

    def _request(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> dict[str, Any]:
        """The chat-completions arguments: messages cut to the model's context, and the decoding parameters."""
        messages = list(conversation)
        if self._formatter is not None:
            formatter = self._formatter()
            messages = formatter.fit(messages, formatter.input_budget(params.max_new_tokens, self._max_input_tokens))
        payload = cast(
            "list[ChatCompletionMessageParam]",
            [{"role": message.role, "content": message.content} for message in messages],
        )
        request: dict[str, Any] = {
            "model": self._model_id,
            "messages": payload,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        }
        # top_p=1 means "no nucleus filtering" everywhere, and some servers (TGI) reject the value itself.
        if params.top_p < 1.0:
            request["top_p"] = params.top_p
        return request

    def _call(self, create: Callable[[], Any], what: str) -> Any:
        return call_with_retries(
            create,
            policy=self._retry,
            classify=self._classify,
            what=f"{what} from {self._where} (model {self._model_id})",
            fix=(
                "Check that the endpoint is up and serves this model (OPENAI_BASE_URL, OPENAI_MODEL_ID, "
                "OPENAI_API_KEY); for a slow or busy endpoint raise LLM_TIMEOUT_S or LLM_MAX_RETRIES."
            ),
        )

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> Iterator[str]:
        """One completion's text as the server streams it (`stream: true`).

        Closing the iterator closes the HTTP response, so the server stops generating. Only the opening request
        is retried.
        """
        request = self._request(conversation, params)
        response = self._call(
            lambda: self._client.chat.completions.create(**request, stream=True), "Streamed chat completion"
        )
        try:
            for chunk in response:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        finally:
            response.close()

    def _complete(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> str:
        request = self._request(conversation, params)
        response: ChatCompletion = self._call(
            lambda: self._client.chat.completions.create(**request), "Chat completion"
        )
        if not response.choices or response.choices[0].message.content is None:
            raise LLMError(
                f"{self._where} (model {self._model_id}) answered without text; check that the model is a chat model."
            )
        return response.choices[0].message.content

    def _classify(self, error: Exception) -> CallFailure | None:
        import openai

        if isinstance(error, openai.APITimeoutError):
            return CallFailure(transient=True, cause=f"timed out after {self._timeout_s:g} s (LLM_TIMEOUT_S)")
        if isinstance(error, openai.APIConnectionError):
            return CallFailure(transient=True, cause=f"cannot connect ({error.__cause__ or error})")
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            transient = status in {408, 409, 429} or status >= 500
            return CallFailure(
                transient=transient,
                cause=f"HTTP {status}: {error.message[:300]}",
                retry_after_s=retry_after_seconds(error.response.headers.get("retry-after")),
            )
        if isinstance(error, openai.OpenAIError):
            return CallFailure(transient=False, cause=str(error))
        return None
