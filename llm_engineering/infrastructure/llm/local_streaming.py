"""The fallback answering engine: plain transformers, streaming one request at a time.

It serves where OpenVINO GenAI cannot (no optimized export, an export rejected for its perplexity, a machine
where the engine does not load). Requests queue on the model's lock and decode one after the other, each with its
own parameters; closing a stream stops its generation at the next token. The model comes from `load_local_llm`,
the same loader evaluation uses, in the precision asked for.
"""

import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams, TokenUsage, finish_reason
from llm_engineering.infrastructure.llm.local import LoadedLLM, load_local_llm, resolve_dtype

if TYPE_CHECKING:
    from transformers import GenerationMixin

_END = object()


class TransformersStream:
    """One request's answer as text pieces; close() stops its generation."""

    def __init__(self, pieces: "queue.Queue[object]", cancelled: threading.Event, timeout_s: float) -> None:
        self._pieces = pieces
        self._cancelled = cancelled
        self._timeout_s = timeout_s
        # The prompt's and the answer's tokens and why the answer ended, once the stream is exhausted.
        self.usage: TokenUsage | None = None

    def __iter__(self) -> "TransformersStream":
        return self

    def __next__(self) -> str:
        while True:
            try:
                item = self._pieces.get(timeout=self._timeout_s)
            except queue.Empty:
                self.close()
                raise LLMError(f"The model produced no token in {self._timeout_s:g} s; generation stopped.") from None
            if item is _END:
                self._pieces.put(_END)
                raise StopIteration
            if isinstance(item, LLMError):
                self._pieces.put(_END)
                raise item
            if isinstance(item, TokenUsage):
                self.usage = item
                continue
            if item:
                return str(item)

    def close(self) -> None:
        """Stop generating for this request."""
        self._cancelled.set()


class TransformersStreamingLLM:
    """Implements the StreamingLLM and TokenCounter ports on transformers; loads on first use."""

    def __init__(
        self,
        folder: Path,
        *,
        model_id: str,
        models_dir: Path,
        device: str = "cpu",
        dtype: str = "auto",
        stream_timeout_s: float = 600.0,
    ) -> None:
        """`dtype`: "auto" is bfloat16 on a CPU that computes it in hardware, else float32 (see resolve_dtype)."""
        self._folder = folder
        self._model_id = model_id
        self._models_dir = models_dir
        self._device = device
        self._dtype = resolve_dtype(dtype, device)
        self._timeout_s = stream_timeout_s
        self._is_loaded = False

    @property
    def model_id(self) -> str:
        """The name of the served model."""
        return self._model_id

    @property
    def engine(self) -> str:
        """How the model runs, for /ready and logs."""
        return f"transformers {self._dtype} (one request at a time)"

    @property
    def _loaded(self) -> LoadedLLM:
        return load_local_llm(str(self._folder), self._models_dir, self._device, self._dtype)

    def load(self) -> None:
        """Load the model now (the service does it at start-up)."""
        self._loaded  # noqa: B018 - loading is the point
        self._is_loaded = True

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._is_loaded

    @property
    def context_tokens(self) -> int | None:
        """The model's context window (TokenCounter port)."""
        return self._loaded.formatter.context_tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` as this model reads it (TokenCounter port)."""
        return self._loaded.formatter.count_tokens(text)

    def render(self, conversation: Sequence[ChatMessage]) -> str:
        """The conversation in the model's chat template, ending with the assistant's turn."""
        return self._loaded.formatter.render(conversation)

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> TransformersStream:
        """Start generating in a thread of its own; the text pieces arrive as they are decoded."""
        loaded = self._loaded
        prompt = self.render(conversation)
        pieces: queue.Queue[object] = queue.Queue()
        cancelled = threading.Event()
        thread = threading.Thread(
            target=self._generate, args=(loaded, prompt, params, pieces, cancelled), name="transformers-answer"
        )
        thread.daemon = True
        thread.start()
        return TransformersStream(pieces, cancelled, self._timeout_s)

    def close(self) -> None:
        """Nothing runs between requests; the model stays cached for the process."""

    def _generate(
        self,
        loaded: LoadedLLM,
        prompt: str,
        params: GenerationParams,
        pieces: "queue.Queue[object]",
        cancelled: threading.Event,
    ) -> None:
        import torch
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool)

        tokenizer = loaded.tokenizer
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        options: dict[str, Any] = {"do_sample": params.temperature > 0, **params.repetition_controls()}
        if params.temperature > 0:
            options.update(temperature=params.temperature, top_p=params.top_p)
        config = GenerationConfig(  # type: ignore[no-untyped-call]  # transformers leaves __init__ unannotated
            max_new_tokens=params.max_new_tokens,
            eos_token_id=loaded.model.generation_config.eos_token_id or tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            **options,
        )
        encoded = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(loaded.model.device)
        finished = threading.Event()

        def relay() -> None:
            _relay_until_stop(streamer, params.stop, pieces, cancelled)
            finished.set()

        relay_thread = threading.Thread(target=relay, name="transformers-relay", daemon=True)
        relay_thread.start()
        try:
            with loaded.lock, torch.inference_mode():
                prompt_tokens = int(encoded["input_ids"].shape[-1])
                if cancelled.is_set():
                    streamer.end()  # type: ignore[no-untyped-call]
                    usage = TokenUsage(prompt_tokens, 0)
                else:
                    if params.temperature > 0:
                        torch.manual_seed(params.seed)
                    output = cast("GenerationMixin", loaded.model).generate(
                        **encoded,
                        generation_config=config,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                    )
                    new_tokens = [int(token) for token in cast(Any, output)[0, prompt_tokens:].tolist()]
                    eos = config.eos_token_id
                    ended = {eos} if isinstance(eos, int) else set(eos or ())
                    stopped = cancelled.is_set() or bool(new_tokens and new_tokens[-1] in ended)
                    usage = TokenUsage(
                        prompt_tokens,
                        len(new_tokens),
                        finish_reason(len(new_tokens), params.max_new_tokens, stopped_early=stopped),
                    )
        except Exception as error:
            logger.opt(exception=error).error("Local generation failed.")
            streamer.end()  # type: ignore[no-untyped-call]
            finished.wait(timeout=5)
            pieces.put(LLMError(f"Local generation failed ({error}); see the service log."))
            return
        finished.wait(timeout=self._timeout_s)
        pieces.put(usage)
        pieces.put(_END)


def _relay_until_stop(
    streamer: Any, stop: Sequence[str], pieces: "queue.Queue[object]", cancelled: threading.Event
) -> None:
    """Pass the streamer's text on, ending before the first stop string (left out, as OpenAI's API does).

    The last len(longest stop) - 1 characters wait for the next piece, in case a stop string spans two pieces.
    """
    hold = max((len(word) for word in stop), default=1) - 1
    text, sent, stopped = "", 0, False
    for piece in streamer:  # read to the end even once stopped, so generate() never blocks on a full streamer
        if stopped:
            continue
        text += piece
        found = [index for index in (text.find(word, max(0, sent - hold)) for word in stop if word) if index >= 0]
        if found:
            if min(found) > sent:
                pieces.put(text[sent : min(found)])
            stopped = True
            cancelled.set()  # generation stops at its next token
        elif len(text) - hold > sent:
            pieces.put(text[sent : len(text) - hold])
            sent = len(text) - hold
    if not stopped and len(text) > sent:
        pieces.put(text[sent:])
