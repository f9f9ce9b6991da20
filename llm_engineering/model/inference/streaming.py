"""The answering model in process, streaming, with continuous batching.

One batcher thread owns the model and decodes every live request together: one forward pass per step for all of
them. Requests that arrive while nothing decodes are gathered for `batch_window_s` (a few ms), then prefilled
together. A request that arrives while others decode joins them: its prompt is prefilled on its own (the others
pause for that one pass), its cache is left-padded to the batch's length, and from the next step it decodes with
them. Each step's token goes to each request's own `TextIteratorStreamer`, so every caller reads only its own
text. A row ends at EOS, at its own max_new_tokens, or when its stream is closed; its stream ends at once, and
it leaves the batch (its cache rows are dropped, and so are cache columns that only padding still uses).

Each row decodes with its own parameters: greedy, or sampled with its own temperature, top_p and seeded
generator (so a sampled answer does not depend on what it was batched with), and its repetition controls.

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
from typing import TYPE_CHECKING, Any

from loguru import logger

from llm_engineering.domain.exceptions import LLMError
from llm_engineering.domain.ports import ChatMessage, GenerationParams

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TextIteratorStreamer

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
    # Prompt and generated token ids (the repetition controls read them), the row's logits processors, built once
    # at its prefill, and its own sampling generator.
    ids: list[int] = field(default_factory=list)
    processors: list[Any] = field(default_factory=list)
    sampler: "torch.Generator | None" = None

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
    def folder(self) -> Path:
        """The model folder the weights load from."""
        return self._folder

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
        """Queue the conversation; it joins the decoding batch, and its text pieces arrive as the batch decodes."""
        from transformers import TextIteratorStreamer

        self.load()
        _, tokenizer = self._loaded
        streamer = TextIteratorStreamer(tokenizer, skip_special_tokens=True, timeout=self._timeout_s)
        request = _Request(prompt=self.render(conversation), params=params, streamer=streamer)
        self._queue.put(request)
        return TokenStream(request)

    def close(self) -> None:
        """Stop the batcher thread once the rows that are decoding have ended."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
            self._thread = None

    def _serve(self) -> None:
        batch: _Batch | None = None
        stopping = False
        while True:
            arrived: list[_Request] = []
            if batch is None:
                if stopping:
                    return
                stopping = self._gather(arrived)
            else:
                stopping = self._drain(arrived, self._max_batch - batch.size) or stopping
            live = self._admit(arrived)
            if live:
                batch = self._join(batch, live)
            if batch is not None:
                batch = self._step(batch)

    def _gather(self, arrived: list["_Request"]) -> bool:
        """Wait for a request, then for those that arrive within the window; True once close() asked to stop."""
        first = self._queue.get()
        if first is _STOP:
            return True
        arrived.append(first)
        deadline = time.monotonic() + self._window_s
        while len(arrived) < self._max_batch and (remaining := deadline - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is _STOP:
                return True
            arrived.append(item)
        return False

    def _drain(self, arrived: list["_Request"], room: int) -> bool:
        """Take what waits, without waiting, up to `room` requests; True once close() asked to stop."""
        while len(arrived) < room:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            arrived.append(item)
        return False

    def _admit(self, arrived: list["_Request"]) -> list["_Request"]:
        """The arrivals still wanted; a stream closed before it started just ends."""
        live = []
        for request in arrived:
            if request.closed.is_set():
                request.finish()
            else:
                live.append(request)
        return live

    def _join(self, batch: "_Batch | None", rows: list["_Request"]) -> "_Batch | None":
        """Prefill the new rows together, give them their first token, and add them to the decoding batch."""
        try:
            fresh = self._prefill(rows)
        except Exception as error:  # the callers' streams must end with the reason, not hang
            self._fail(rows, error)
            return batch
        merged = fresh if batch is None else batch.concat(fresh)
        self.batch_sizes.append(merged.size)
        return merged.without_finished()

    def _step(self, batch: "_Batch") -> "_Batch | None":
        """One decoding step for every row; the batch without the rows that ended (None when none is left)."""
        import torch

        model, _ = self._loaded
        if batch.size == 0:
            return None
        try:
            mask = torch.cat([batch.mask, torch.ones_like(batch.mask[:, :1])], dim=1)
            with torch.inference_mode():
                output = model(
                    input_ids=batch.last_tokens.unsqueeze(1),
                    attention_mask=mask,
                    position_ids=batch.mask.sum(dim=1, keepdim=True),  # the new token's position
                    **{self._cache_argument: batch.cache},
                    use_cache=True,
                )
            batch.mask = mask
            batch.last_tokens = self._emit(batch.rows, output.logits[:, -1, :])
        except Exception as error:
            self._fail(batch.rows, error)
            return None
        remaining = batch.without_finished()
        return remaining if remaining.size else None

    def _prefill(self, rows: list["_Request"]) -> "_Batch":
        import torch
        from transformers import DynamicCache

        model, tokenizer = self._loaded
        encoded = tokenizer(
            [row.prompt for row in rows],
            add_special_tokens=False,
            padding=True,
            padding_side="left",
            return_tensors="pt",
        ).to(model.device)
        mask = encoded["attention_mask"]
        for row, ids, keep in zip(rows, encoded["input_ids"].tolist(), mask.tolist(), strict=True):
            row.ids = [token for token, real in zip(ids, keep, strict=True) if real]
            row.processors = self._processors(row.params)
            if row.params.temperature > 0:
                row.sampler = torch.Generator(device=model.device).manual_seed(row.params.seed)
        cache = DynamicCache()
        with torch.inference_mode():
            output = model(
                input_ids=encoded["input_ids"],
                attention_mask=mask,
                position_ids=(mask.cumsum(dim=1) - 1).clamp(min=0),
                **{self._cache_argument: cache},
                use_cache=True,
                logits_to_keep=1,
            )
        first = self._emit(rows, output.logits[:, -1, :])
        return _Batch(rows=list(rows), cache=cache, mask=mask, last_tokens=first)

    def _emit(self, rows: list["_Request"], logits: "torch.Tensor") -> "torch.Tensor":
        """Pick each row's next token, stream it, end the rows that are done; the tokens, one per row."""
        import torch

        tokens = [self._next_token(row, row_logits) for row, row_logits in zip(rows, logits, strict=True)]
        for row, token in zip(rows, tokens, strict=True):
            if row.finished:
                continue
            if row.closed.is_set() or token in self._eos_ids:
                row.finish()
                continue
            row.ids.append(token)
            row.streamer.put(torch.tensor([token]))  # type: ignore[no-untyped-call]  # unannotated
            row.produced += 1
            if row.produced >= row.params.max_new_tokens:
                row.finish()
        return torch.tensor(tokens, dtype=torch.long, device=logits.device)

    def _next_token(self, row: "_Request", logits: "torch.Tensor") -> int:
        import torch

        scores = logits.float().unsqueeze(0)
        if row.processors:
            history = torch.tensor([row.ids], dtype=torch.long, device=logits.device)
            for processor in row.processors:
                scores = processor(history, scores)
        if row.params.temperature <= 0:
            return int(scores.argmax(dim=-1).item())
        probabilities = torch.softmax(scores, dim=-1)
        return int(torch.multinomial(probabilities, 1, generator=row.sampler).item())

    @staticmethod
    def _processors(params: GenerationParams) -> list[Any]:
        """The transformers logits processors for the row's repetition controls and sampling, in generate's order."""
        from transformers import (
            NoRepeatNGramLogitsProcessor,
            RepetitionPenaltyLogitsProcessor,
            TemperatureLogitsWarper,
            TopPLogitsWarper,
        )

        processors: list[Any] = []
        if params.repetition_penalty != 1.0:
            processors.append(RepetitionPenaltyLogitsProcessor(params.repetition_penalty))
        if params.no_repeat_ngram_size > 0:
            processors.append(NoRepeatNGramLogitsProcessor(params.no_repeat_ngram_size))
        if params.temperature > 0:
            processors.append(TemperatureLogitsWarper(params.temperature))
            if params.top_p < 1.0:
                processors.append(TopPLogitsWarper(params.top_p))
        return processors

    @cached_property
    def _cache_argument(self) -> str:
        """How the model's forward() takes the cache: `cache` in newer transformers, `past_key_values` before."""
        import inspect

        model, _ = self._loaded
        return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    @cached_property
    def _eos_ids(self) -> set[int]:
        model, tokenizer = self._loaded
        eos = model.generation_config.eos_token_id or tokenizer.eos_token_id
        return set(eos if isinstance(eos, list) else [eos])

    @staticmethod
    def _fail(rows: list["_Request"], error: Exception) -> None:
        logger.opt(exception=error).error("Generation failed for {} request(s).", len(rows))
        for row in rows:
            if not row.finished:
                row.error = f"Local generation failed ({type(error).__name__}: {error}); see the service log."
            row.finish()


@dataclass(eq=False)
class _Batch:
    """The rows decoding together: their key/value cache and attention mask (left-padded), and last tokens."""

    rows: list[_Request]
    cache: Any  # transformers' DynamicCache: [rows, heads, positions, head_dim] per layer
    mask: "torch.Tensor"
    last_tokens: "torch.Tensor"

    @property
    def size(self) -> int:
        return len(self.rows)

    def concat(self, other: "_Batch") -> "_Batch":
        """Both batches as one: the shorter one's cache and mask are left-padded to the longer one's length."""
        import torch

        length = max(self.mask.shape[1], other.mask.shape[1])
        for mine, theirs in zip(self.cache.layers, other.cache.layers, strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, length, 2), _left_pad(theirs.keys, length, 2)], dim=0)
            mine.values = torch.cat([_left_pad(mine.values, length, 2), _left_pad(theirs.values, length, 2)], dim=0)
        mask = torch.cat([_left_pad(self.mask, length, 1), _left_pad(other.mask, length, 1)], dim=0)
        tokens = torch.cat([self.last_tokens, other.last_tokens])
        return _Batch(rows=self.rows + other.rows, cache=self.cache, mask=mask, last_tokens=tokens)

    def without_finished(self) -> "_Batch":
        """The batch without its ended rows, and without the leading cache columns only padding uses."""
        import torch

        keep = [index for index, row in enumerate(self.rows) if not row.finished]
        if len(keep) < len(self.rows):
            if not keep:
                return _Batch(rows=[], cache=self.cache, mask=self.mask[:0], last_tokens=self.last_tokens[:0])
            indices = torch.tensor(keep, dtype=torch.long, device=self.mask.device)
            self.cache.batch_select_indices(indices)
            self.mask, self.last_tokens = self.mask[indices], self.last_tokens[indices]
            self.rows = [self.rows[index] for index in keep]
        unused = int((self.mask.sum(dim=0) == 0).long().cumprod(dim=0).sum().item())  # all-padding columns first
        if unused:
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, unused:], layer.values[:, :, unused:]
            self.mask = self.mask[:, unused:]
        return self


def _left_pad(tensor: "torch.Tensor", length: int, dim: int) -> "torch.Tensor":
    """`tensor` with zeros put before its entries along `dim` up to `length`."""
    import torch

    missing = length - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
