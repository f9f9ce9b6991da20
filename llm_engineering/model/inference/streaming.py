"""The answering model in process, streaming and micro-batched.

One batcher thread owns the model. Requests that arrive within `batch_window_s` of each other (a few ms) are
left-padded into one batch and decoded together by `generate`: one forward pass per step for the whole batch.
Each step's tokens are split by row into each request's own `TextIteratorStreamer`, so every caller reads only
its own text. A row ends at EOS, at its own max_new_tokens, or when its stream is closed (a per-row stopping
criterion); its stream ends at once and it no longer receives tokens. The batch's decoding stops when every row
has ended. Requests arriving while a batch decodes wait for the next one (static micro-batching: rows do not join
a running batch).

On a CPU with bfloat16 instructions (AVX512-BF16 or AMX) the model runs in bfloat16 by default (`dtype="auto"`):
prompt prefill, which is compute-bound and dominates a RAG answer's time on CPU, takes about half as long as in
float32. Elsewhere the CPU default stays float32; a GPU takes the checkpoint's own dtype.
"""

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams

if TYPE_CHECKING:
    import torch
    from transformers import GenerationMixin, PreTrainedModel, PreTrainedTokenizerBase, TextIteratorStreamer

_STOP = object()
DTYPES = ("auto", "float32", "bfloat16", "float16")


def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX), as torch detects it."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if callable(check))


def resolve_dtype(requested: str, device: str, *, fast_bfloat16: bool | None = None) -> str:
    """The dtype the answering model loads in.

    `auto` is bfloat16 on a CPU that computes it in hardware, float32 on other CPUs, and the checkpoint's own dtype
    ("auto") on an accelerator.
    """
    if requested not in DTYPES:
        raise LLMError(f"Unknown dtype {requested!r} for the answering model; use one of {', '.join(DTYPES)}.")
    if requested != "auto":
        return requested
    if device != "cpu":
        return "auto"
    return "bfloat16" if (cpu_has_fast_bfloat16() if fast_bfloat16 is None else fast_bfloat16) else "float32"


@dataclass(eq=False)
class _Request:
    prompt: str
    params: GenerationParams
    streamer: "TextIteratorStreamer"
    closed: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    produced: int = 0
    error: str | None = None

    def finish(self) -> None:
        """End this row: its stream gets its last text and stops, once."""
        if not self.finished:
            self.finished = True
            self.streamer.end()  # type: ignore[no-untyped-call]  # unannotated in transformers


class TokenStream:
    """One request's answer as text pieces; close() takes the request out of its batch."""

    def __init__(self, request: _Request) -> None:
        self._request = request
        self._pieces = iter(request.streamer)

    def __iter__(self) -> "TokenStream":
        return self

    def __next__(self) -> str:
        while True:
            try:
                piece: str = next(self._pieces)
            except StopIteration:
                if self._request.error is not None:
                    raise LLMError(self._request.error) from None
                raise
            if piece:
                return piece

    def close(self) -> None:
        """Stop generating for this request; the rest of its batch carries on."""
        self._request.closed.set()


class MicroBatchingGenerator:
    """Implements the StreamingLLM port on a transformers model folder; loads it on first use, then keeps it."""

    def __init__(
        self,
        folder: Path,
        *,
        model_id: str,
        device: str = "cpu",
        dtype: str = "auto",
        batch_window_s: float = 0.005,
        max_batch_size: int = 8,
        stream_timeout_s: float = 600.0,
    ) -> None:
        """`model_id`: the name people see; `stream_timeout_s`: longest wait for one token before a stream fails."""
        self._folder = folder
        self._model_id = model_id
        self._device = device
        self._dtype = resolve_dtype(dtype, device)
        self._window_s = batch_window_s
        self._max_batch = max_batch_size
        self._timeout_s = stream_timeout_s
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.forward_passes = 0
        self.batch_sizes: list[int] = []

    @property
    def dtype(self) -> str:
        """The dtype the model loads in ("auto": the checkpoint's own)."""
        return self._dtype

    @property
    def model_id(self) -> str:
        """The Hugging Face id or folder of the streamed model."""
        return self._model_id

    @cached_property
    def _loaded(self) -> tuple["PreTrainedModel", "PreTrainedTokenizerBase"]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        logger.info(
            "Loading the answering model {} from {} on {} in {}.",
            self._model_id,
            self._folder,
            self._device,
            self._dtype,
        )
        try:
            tokenizer = AutoTokenizer.from_pretrained(self._folder)
            dtype = "auto" if self._dtype == "auto" else getattr(torch, self._dtype)
            model = AutoModelForCausalLM.from_pretrained(self._folder, dtype=dtype, device_map=self._device)
        except OSError as error:
            raise LLMError(
                f"Cannot load the answering model from {self._folder} ({error}); retrain and promote a model, or "
                "remove the folder so it is copied again from the registry."
            ) from error
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token  # padded positions are masked, any token does
        model.eval()  # type: ignore[no-untyped-call]  # unannotated in torch
        model.register_forward_pre_hook(self._count_forward)
        return model, tokenizer

    def _count_forward(self, *_: object) -> None:
        self.forward_passes += 1

    def load(self) -> None:
        """Load the model and start the batcher thread now (the service does it at start-up)."""
        self._loaded  # noqa: B018 - loading is the point
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="micro-batcher", daemon=True)
                self._thread.start()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory and the batcher runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def context_tokens(self) -> int | None:
        """The model's context window (TokenCounter port), from its config."""
        model, _ = self._loaded
        window = getattr(model.config, "max_position_embeddings", None)
        return int(window) if isinstance(window, int) and window > 0 else None

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` as this model reads it (TokenCounter port)."""
        _, tokenizer = self._loaded
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def render(self, conversation: Sequence[ChatMessage]) -> str:
        """The conversation in the model's chat template, ending with the assistant's turn."""
        _, tokenizer = self._loaded
        messages = [{"role": message.role, "content": message.content} for message in conversation]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if not isinstance(text, str):
            raise LLMError(f"The chat template of {self._model_id} did not render to text; check its tokenizer.")
        return text

    def stream(self, conversation: Sequence[ChatMessage], params: GenerationParams) -> TokenStream:
        """Queue the conversation for the next batch; its text pieces arrive as the batch decodes."""
        from transformers import TextIteratorStreamer

        self.load()
        _, tokenizer = self._loaded
        streamer = TextIteratorStreamer(tokenizer, skip_special_tokens=True, timeout=self._timeout_s)
        request = _Request(prompt=self.render(conversation), params=params, streamer=streamer)
        self._queue.put(request)
        return TokenStream(request)

    def close(self) -> None:
        """Stop the batcher thread after the batch in progress."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
            self._thread = None

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Request] = [first]
            stop = False
            deadline = time.monotonic() + self._window_s
            while len(batch) < self._max_batch and (remaining := deadline - time.monotonic()) > 0:
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            groups: dict[tuple[float, float], list[_Request]] = {}
            for request in batch:
                groups.setdefault((request.params.temperature, request.params.top_p), []).append(request)
            for group in groups.values():
                self._decode(group)
            if stop:
                return

    def _decode(self, group: list[_Request]) -> None:
        live = [request for request in group if not request.closed.is_set()]
        for request in group:
            if request.closed.is_set():
                request.finish()
        if not live:
            return
        try:
            self._generate(live)
        except Exception as error:  # the caller's stream must end with the reason, not hang
            logger.exception("Generation of a batch of {} failed.", len(live))
            for request in live:
                request.error = f"Local generation failed ({type(error).__name__}: {error}); see the service log."
        finally:
            for request in live:
                request.finish()

    def _generate(self, rows: list[_Request]) -> None:
        import torch
        from transformers import GenerationConfig, StoppingCriteriaList

        model, tokenizer = self._loaded
        encoded = tokenizer(
            [row.prompt for row in rows],
            add_special_tokens=False,
            padding=True,
            padding_side="left",
            return_tensors="pt",
        ).to(model.device)
        params = rows[0].params
        options: dict[str, Any] = {"do_sample": params.temperature > 0, **params.repetition_controls()}
        if params.temperature > 0:
            options.update(temperature=params.temperature, top_p=params.top_p)
            torch.manual_seed(params.seed)
        eos = model.generation_config.eos_token_id or tokenizer.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        config = GenerationConfig(  # type: ignore[no-untyped-call]  # unannotated in transformers
            max_new_tokens=max(row.params.max_new_tokens for row in rows),
            eos_token_id=eos,
            pad_token_id=tokenizer.pad_token_id,
            **options,
        )
        self.batch_sizes.append(len(rows))
        splitter = _RowSplitter(rows, eos_ids)
        with torch.inference_mode():
            cast("GenerationMixin", model).generate(
                **encoded,
                generation_config=config,
                streamer=splitter,
                stopping_criteria=StoppingCriteriaList([_RowsEnded(rows)]),
            )


class _RowSplitter:
    """A generate() streamer for a batch: each step's tokens go row by row to the requests' own streamers."""

    def __init__(self, rows: list[_Request], eos_ids: set[int]) -> None:
        self._rows = rows
        self._eos = eos_ids
        self._prompt = True

    def put(self, value: "torch.Tensor") -> None:
        import torch

        if self._prompt:  # generate() hands over the prompt first
            self._prompt = False
            return
        for row, token in zip(self._rows, value.reshape(-1).tolist(), strict=True):
            if row.finished:
                continue
            if row.closed.is_set() or token in self._eos:
                row.finish()
                continue
            row.streamer.put(torch.tensor([token]))  # type: ignore[no-untyped-call]  # unannotated
            row.produced += 1
            if row.produced >= row.params.max_new_tokens:
                row.finish()

    def end(self) -> None:
        for row in self._rows:
            row.finish()


class _RowsEnded:
    """Per-row stopping criterion: a row stops once it ended (EOS, its own limit) or its stream was closed."""

    def __init__(self, rows: list[_Request]) -> None:
        self._rows = rows

    def __call__(self, input_ids: "torch.Tensor", scores: Any, **kwargs: Any) -> "torch.Tensor":
        import torch

        done = [row.finished or row.closed.is_set() for row in self._rows]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)
