"""Request and response bodies: the book's /rag, /retrieve, and the OpenAI chat-completions wire format."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_engineering.domain.rag import ContextChunk


class RagRequest(BaseModel):
    """The book's body: a question, optionally about one author."""

    query: str = Field(min_length=1)
    author_full_name: str | None = None
    k: int | None = Field(default=None, ge=1, le=50)


class Source(BaseModel):
    """A chunk an answer drew on, as a reader wants to follow it: where it is and how well it ranked."""

    chunk_id: str
    document_id: str
    category: str
    author_full_name: str
    link: str
    score: float | None = None

    @classmethod
    def from_chunk(cls, chunk: ContextChunk) -> "Source":
        """The best score the ranking produced (rerank, then fused, then any)."""
        score = next(
            (chunk.scores[key] for key in ("rerank", "fused", "dense", "lexical") if key in chunk.scores), None
        )
        return cls(
            chunk_id=chunk.chunk_id,
            document_id=chunk.document_id,
            category=chunk.category.value,
            author_full_name=chunk.author_full_name,
            link=chunk.link,
            score=score,
        )


class RagResponse(BaseModel):
    """The book's answer plus what it was grounded in and which model wrote it."""

    answer: str
    sources: list[Source]
    model: str


class RetrievedChunk(Source):
    """A ranked chunk with its text and every score."""

    content: str
    scores: dict[str, float]


class RetrieveResponse(BaseModel):
    """What the retriever found, with no generation."""

    query: str
    author_full_name: str | None
    queries: list[str]
    chunks: list[RetrievedChunk]
    notes: list[str]


class ContentPart(BaseModel):
    """One part of an OpenAI message's content list; only text parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    """An OpenAI chat message; content is a string or a list of parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text, parts joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class StreamOptions(BaseModel):
    """OpenAI's stream_options: `include_usage` adds a last chunk with the token usage and no choices."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The OpenAI chat-completions body; fields the twin does not use are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    # OpenAI's stop: one string or up to 4; the answer ends before the first one generated.
    stop: str | list[str] | None = Field(default=None)
    n: int = Field(default=1, ge=1, le=1)

    def stop_strings(self) -> tuple[str, ...]:
        """The stop strings as a tuple (empty strings dropped)."""
        words = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(words) > 4:
            raise ValueError("stop takes at most 4 strings")
        return tuple(word for word in words if word)


class ErrorDetail(BaseModel):
    """OpenAI's error shape, plus the request id to quote when reporting it."""

    message: str
    type: str
    code: int
    request_id: str
    errors: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every error the service returns."""

    error: ErrorDetail
