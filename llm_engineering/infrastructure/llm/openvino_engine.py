"""The answering model on OpenVINO GenAI's ContinuousBatchingPipeline: paged KV cache, continuous batching.

One engine thread owns the pipeline: it admits queued requests, runs `step()` while any request is unfinished, and
hands each request's new token ids to that request's own stream. Each request carries its own generation config
(max tokens, temperature, top-p, seed, repetition controls, stop strings). Closing a stream cancels its request in
the engine, which frees its KV blocks; the other requests carry on.

Prompt-lookup decoding (`prompt_lookup=True`) proposes the next tokens from n-grams of the prompt, which a RAG answer
often quotes; a draft model (`draft_model=` folder) proposes them by speculative decoding. Under greedy decoding
both give exactly the tokens that plain decoding gives.
"""

import ctypes
import itertools
import queue
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage

_END = object()
# Tokens proposed per step by prompt lookup or a draft model, and the longest prompt n-gram prompt lookup matches.
ASSISTANT_TOKENS = 5
MAX_NGRAM_SIZE = 3


class _SignalStack(ctypes.Structure):
    """Linux's stack_t, for sigaltstack(2)."""

    _fields_ = (("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t))


def _signal_stack(new: _SignalStack | None = None) -> _SignalStack | None:
    """This thread's alternate signal stack, after setting `new` when given; None where sigaltstack is not at hand."""
    if not sys.platform.startswith("linux"):
        return None
    current = _SignalStack()
    failed = ctypes.CDLL(None).sigaltstack(ctypes.byref(new) if new is not None else None, ctypes.byref(current))
    return None if failed else current


@dataclass(frozen=True)
class EngineLimits:
    """The engine's memory and batching: KV cache size, tokens per step, requests decoded together."""

    kv_cache_gb: float = 1.0
    max_batched_tokens: int = 2048
    max_sequences: int = 8


@dataclass(eq=False)
class _Request:
    prompt: str
    params: GenerationParams
    pieces: "queue.Queue[object]" = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    handle: Any = None
    token_ids: list[int] = field(default_factory=list)
    text: str = ""
    prompt_tokens: int = 0
    finish_reason: str = "stop"


class OpenVINOStream:
    """One request's answer as text pieces; close() cancels the request and frees its KV cache."""

    def __init__(self, request: _Request, timeout_s: float) -> None:
        self._request = request
        self._timeout_s = timeout_s
        self._ended = False

    @property
    def usage(self) -> TokenUsage | None:
        """The prompt's and the answer's tokens and why the answer ended, once the stream is exhausted."""
        if not self._ended:
            return None
        request = self._request
        return TokenUsage(request.prompt_tokens, len(request.token_ids), request.finish_reason)

    def __iter__(self) -> "OpenVINOStream":
        return self

    def __next__(self) -> str:
        try:
            item = self._request.pieces.get(timeout=self._timeout_s)
        except queue.Empty:
            self.close()
            raise LLMError(
                f"The engine produced no token in {self._timeout_s:g} s; the request was cancelled."
            ) from None
        if item is _END:
            self._request.pieces.put(_END)  # later calls end too
            self._ended = True
            raise StopIteration
        if isinstance(item, LLMError):
            self._request.pieces.put(_END)
            raise item
        return str(item)

    def close(self) -> None:
        """Stop generating for this request; the engine drops it at its next step."""
        self._request.cancelled.set()


# The precisions a device may be asked to compute in (OpenVINO's INFERENCE_PRECISION_HINT).
INFERENCE_PRECISIONS = ("f32", "bf16", "f16")


class OpenVINOGenerator:
    """Implements the StreamingLLM and TokenCounter ports on an OpenVINO IR folder; loads on first use."""

    def __init__(
        self,
        folder: Path,
        *,
        model_id: str,
        limits: EngineLimits | None = None,
        prompt_lookup: bool = False,
        draft_model: Path | None = None,
        device: str = "CPU",
        stream_timeout_s: float = 600.0,
        inference_precision: str | None = None,
    ) -> None:
        """`model_id`: the name people see; `draft_model`: an OpenVINO IR folder for speculative decoding.

        `inference_precision` (f32, bf16, f16): the precision the device computes in; None leaves the device's
        default (on a CPU with bfloat16 instructions, bf16).
        """
        if inference_precision not in (None, *INFERENCE_PRECISIONS):
            raise LLMError(
                f"Unknown inference precision {inference_precision!r}; use one of {', '.join(INFERENCE_PRECISIONS)}."
            )
        if prompt_lookup and draft_model is not None:
            raise LLMError("Choose prompt lookup or a draft model, not both (LLM_PROMPT_LOOKUP, LLM_DRAFT_MODEL).")
        self._folder = folder
        self._model_id = model_id
        self._limits = limits or EngineLimits()
        self._prompt_lookup = prompt_lookup
        self._draft_model = draft_model
        self._device = device
        self._inference_precision = inference_precision
        self._timeout_s = stream_timeout_s
        self._inbox: queue.Queue[_Request | None] = queue.Queue()
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._pipeline: Any = None
        self._tokenizer: Any = None
        self._thread: threading.Thread | None = None
        self._signal_stack: tuple[int, _SignalStack] | None = None

    @property
    def model_id(self) -> str:
        """The name of the served model."""
        return self._model_id

    @property
    def engine(self) -> str:
        """How the model runs, for /ready, logs and the completions cache's key: engine, weights, decoding."""
        decoding = "prompt lookup" if self._prompt_lookup else "draft model" if self._draft_model else "plain"
        precision = f", {self._inference_precision} compute" if self._inference_precision else ""
        return f"openvino-genai {self.weight_format} continuous batching ({decoding} decoding{precision})"

    @property
    def weight_format(self) -> str:
        """The export's weight format (int8, int4, fp16), from its export record; "unknown" without one."""
        import json

        record = self._folder / "llm_twin_export.json"
        try:
            return str(json.loads(record.read_text())["weight_format"])
        except (OSError, ValueError, KeyError):
            return "unknown"

    def load(self) -> None:
        """Compile the model and start the engine thread (the service does it at start-up)."""
        with self._lock:
            if self._thread is not None:
                return
            import openvino_genai

            if not (self._folder / "openvino_model.xml").is_file():
                raise LLMError(f"{self._folder} holds no OpenVINO model (openvino_model.xml); export one first.")
            scheduler = openvino_genai.SchedulerConfig()
            scheduler.cache_size = max(1, round(self._limits.kv_cache_gb))
            scheduler.max_num_batched_tokens = self._limits.max_batched_tokens
            scheduler.max_num_seqs = self._limits.max_sequences
            properties: dict[str, Any] = {}
            if self._inference_precision:
                properties["INFERENCE_PRECISION_HINT"] = self._inference_precision
            if self._prompt_lookup:
                properties["prompt_lookup"] = True
            if self._draft_model is not None:
                stack = _signal_stack()
                self._signal_stack = (threading.get_ident(), stack) if stack is not None else None
                properties["draft_model"] = openvino_genai.draft_model(str(self._draft_model), self._device)
            logger.info("Loading {} from {} on OpenVINO GenAI ({}).", self._model_id, self._folder, self.engine)
            try:
                self._pipeline = openvino_genai.ContinuousBatchingPipeline(
                    str(self._folder), scheduler, self._device, properties
                )
            except RuntimeError as error:
                raise LLMError(f"OpenVINO GenAI cannot load {self._folder}: {error}") from error
            self._tokenizer = self._pipeline.get_tokenizer()
            self._thread = threading.Thread(target=self._serve, name="openvino-engine", daemon=True)
            self._thread.start()

    @property
    def loaded(self) -> bool:
        """Whether the model is compiled and the engine thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def context_tokens(self) -> int | None:
        """The model's context window, from its config.json."""
        import json

        config = json.loads((self._folder / "config.json").read_text())
        window = config.get("max_position_embeddings")
        return int(window) if isinstance(window, int) and window > 0 else None

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` as this model reads it."""
        self.load()
        encoded = self._tokenizer.encode(text, add_special_tokens=False)
        return int(encoded.input_ids.get_shape()[-1])

    def render(self, conversation: Sequence[ChatMessage]) -> str:
        """The conversation in the model's chat template, ending with the assistant's turn."""
        self.load()
        messages = [{"role": message.role, "content": message.content} for message in conversation]
        return str(self._tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> OpenVINOStream:
        """Queue the conversation; its text pieces arrive as the engine decodes it with the others."""
        prompt = self.render(conversation)
        request = _Request(prompt=prompt, params=params, prompt_tokens=self.count_tokens(prompt))
        self._inbox.put(request)
        return OpenVINOStream(request, self._timeout_s)

    def generate_text(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> str:
        """The whole answer at once."""
        return "".join(self.stream(conversation, params))

    @property
    def backend(self) -> str:
        """Always "local" (LLMClient port): the model runs in this process."""
        return "local"

    def generate(self, conversations: Sequence[Sequence[ChatMessage]], params: GenerationParams) -> list[str]:
        """One completion per conversation (LLMClient port), all decoded together by the engine."""
        self.load()
        streams = [self.stream(conversation, params) for conversation in conversations]
        answers = [""] * len(streams)

        def read(index: int) -> None:
            answers[index] = "".join(streams[index])

        threads = [threading.Thread(target=read, args=(index,), daemon=True) for index in range(len(streams))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return answers

    def close(self) -> None:
        """Stop the engine thread once the running requests are cancelled, and release the model."""
        if self._thread is None:
            return
        self._inbox.put(None)
        self._thread.join(timeout=30)
        released = not self._thread.is_alive()
        self._thread = None
        if released:
            self._pipeline = self._tokenizer = None
        if released and self._signal_stack is not None:
            # A speculative pipeline, destroyed, leaves the loading thread's alternate signal stack pointing at memory
            # it freed (OpenVINO GenAI 2026.4): the next signal that thread handles, Ctrl-C or a timeout's alarm,
            # would crash the process. Put back the stack that thread had before.
            thread, stack = self._signal_stack
            if thread == threading.get_ident():
                _signal_stack(stack)
                self._signal_stack = None

    def _config(self, params: GenerationParams) -> Any:
        import openvino_genai

        config = openvino_genai.GenerationConfig()
        config.max_new_tokens = params.max_new_tokens
        config.do_sample = params.temperature > 0
        if config.do_sample:
            config.temperature = params.temperature
            config.top_p = params.top_p
            config.rng_seed = params.seed
        config.repetition_penalty = params.repetition_penalty
        if params.no_repeat_ngram_size > 0:
            config.no_repeat_ngram_size = params.no_repeat_ngram_size
        if params.stop:
            config.stop_strings = set(params.stop)
        if self._prompt_lookup:
            config.num_assistant_tokens = ASSISTANT_TOKENS
            config.max_ngram_size = MAX_NGRAM_SIZE
        elif self._draft_model is not None:
            config.num_assistant_tokens = ASSISTANT_TOKENS
        return config

    def _serve(self) -> None:
        live: list[_Request] = []
        while True:
            if not self._take_arrivals(live):
                for request in live:
                    request.handle.cancel()
                    request.pieces.put(_END)
                return
            for request in [request for request in live if request.cancelled.is_set()]:
                request.handle.cancel()
                request.pieces.put(_END)
                live.remove(request)
            if not live:
                continue
            try:
                if self._pipeline.has_non_finished_requests():
                    self._pipeline.step()
            except RuntimeError as error:
                logger.opt(exception=error).error("The OpenVINO engine failed a step for {} request(s).", len(live))
                for request in live:
                    request.pieces.put(LLMError(f"Local generation failed ({error}); see the service log."))
                live.clear()
                continue
            live[:] = [request for request in live if self._deliver(request)]

    def _take_arrivals(self, live: list[_Request]) -> bool:
        """Admit what waits (waiting for one request when none runs); False once close() asked to stop."""
        block = not live
        while True:
            try:
                item = self._inbox.get(block=block)
            except queue.Empty:
                return True
            if item is None:
                return False
            self._admit(item, live)
            block = False

    def _admit(self, request: _Request, live: list[_Request]) -> None:
        if request.cancelled.is_set():
            request.pieces.put(_END)
            return
        try:
            request.handle = self._pipeline.add_request(next(self._ids), request.prompt, self._config(request.params))
        except RuntimeError as error:
            request.pieces.put(LLMError(f"The engine refused the request: {error}"))
            return
        live.append(request)

    def _deliver(self, request: _Request) -> bool:
        """Hand the request its new text; False once it has finished."""
        import openvino_genai

        if request.handle.can_read():
            for output in request.handle.read().values():
                request.token_ids.extend(output.generated_ids)
                if output.finish_reason == openvino_genai.GenerationFinishReason.LENGTH:
                    request.finish_reason = "length"
            text = str(self._tokenizer.decode(request.token_ids, skip_special_tokens=True))
            # A piece ending in a half-decoded character waits for its next token.
            if len(text) > len(request.text) and not text.endswith("\ufffd"):
                request.pieces.put(text[len(request.text) :])
                request.text = text
        status = request.handle.get_status()
        if status == openvino_genai.GenerationStatus.RUNNING or request.handle.can_read():
            return True
        text = str(self._tokenizer.decode(request.token_ids, skip_special_tokens=True))
        if len(text) > len(request.text):
            request.pieces.put(text[len(request.text) :])
        request.pieces.put(_END)
        return False
