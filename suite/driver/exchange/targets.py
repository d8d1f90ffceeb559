"""Target kinds: how a corpus request becomes a request body, and where the text is in the answer.

A table (``KINDS``), not branches: each kind names its default path, how a stream may end, and
builds a ``Target`` — the compiled functions the exchange calls per request:

- ``openai-chat`` (default): ``/v1/chat/completions``; text at ``choices.0.delta.content``
  (stream) or ``choices.0.message.content``;
- ``openai-completions``: ``/v1/completions`` with a prompt built from the messages (``prompt``);
  text at ``choices.0.text``;
- ``engine``: any JSON endpoint: a body template with placeholders (``engine_template``), the
  text at a field path (``--text-field``, default ``response``) in the body or in each SSE
  event, a stream ending at ``data: [DONE]`` or at the end of the response.

``usage`` (OpenAI's shape) is read wherever it appears, for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from suite.driver.exchange.engine_template import DEFAULT_ENGINE_TEMPLATE, compile_template
from suite.driver.exchange.fieldpath import MISSING, Getter, compile_path
from suite.errors import SpecError
from suite.records import CorpusRequest

# How a stream is complete: "done" = [DONE] or a finish_reason arrived; "eof" = that, or the
# response simply ended (its HTTP framing completed — a cut connection is never complete).
STREAM_ENDS = ("done", "eof")

# one stream chunk → (its text or None, whether it carries a finish reason)
Piece = Callable[[dict[str, Any]], "tuple[str | None, bool]"]


@dataclass(frozen=True)
class Target:
    """The compiled per-request functions of one target kind."""

    kind: str
    path: str
    body: Callable[[CorpusRequest], bytes]
    piece: Piece  # text of one stream chunk (None/"" = no content), finish reason present
    text: Callable[[Any], str | None]  # text of a whole (non-streamed) JSON body
    ids: tuple[Getter, ...]  # where a response id may be, in order
    stream_end: str


def _chat_body(req: CorpusRequest) -> bytes:
    body: dict[str, Any] = {"model": req.model, "messages": req.messages,
                            "max_tokens": req.max_tokens, "temperature": req.temperature,
                            "stream": req.stream}
    if req.stream:
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


def completion_prompt(messages: list[dict[str, str]]) -> str:
    """A single user message is the prompt as is; a conversation becomes a role-tagged transcript
    ending with ``assistant:`` so a completion model continues as the assistant (a system
    message then a user's "Hi" become ``"system: ...\\n\\nuser: Hi\\n\\nassistant:"``)."""
    if len(messages) == 1 and messages[0].get("role") == "user":
        return messages[0]["content"]
    lines = [f"{m.get('role', 'user')}: {m.get('content', '')}" for m in messages]
    return "\n\n".join([*lines, "assistant:"])


def _completions_body(req: CorpusRequest) -> bytes:
    body: dict[str, Any] = {"model": req.model, "prompt": completion_prompt(req.messages),
                            "max_tokens": req.max_tokens, "temperature": req.temperature,
                            "stream": req.stream}
    if req.stream:
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


def _chat_piece(chunk: dict[str, Any]) -> tuple[str | None, bool]:
    """(``choices[0].delta.content``, finish reason present) — hot path: once per token, so one
    call and no generic path walk."""
    try:
        choice = chunk["choices"][0]
        content = choice["delta"].get("content")
        return (content if type(content) is str else None), choice.get("finish_reason") is not None
    except (KeyError, IndexError, TypeError, AttributeError):
        return None, False


def _text_piece(chunk: dict[str, Any]) -> tuple[str | None, bool]:
    try:
        choice = chunk["choices"][0]
        content = choice.get("text")
        return (content if type(content) is str else None), choice.get("finish_reason") is not None
    except (KeyError, IndexError, TypeError, AttributeError):
        return None, False


def _string_at(get: Getter) -> Callable[[Any], str | None]:
    def text(obj: Any) -> str | None:
        value = get(obj)
        return value if type(value) is str else None
    return text


@dataclass(frozen=True)
class TargetOptions:
    """What a run says about its target (the request part of the CLI)."""

    kind: str = "openai-chat"
    path: str | None = None  # None: the kind's default
    engine_template: str | None = None  # engine: JSON with placeholders; None: the default
    text_field: str | None = None  # engine: where the text is; None: "response"
    id_field: str | None = None  # where the response id is; None: the kind's default
    stream_end: str | None = None  # None: the kind's default


def _openai(opts: TargetOptions, path: str, body: Callable[[CorpusRequest], bytes], piece: Piece,
            whole: str) -> Target:
    ids = (compile_path(opts.id_field or "id", "--response-id-field"),)
    return Target(opts.kind, path, body, piece, _string_at(compile_path(whole)), ids,
                  opts.stream_end or "done")


def _engine(opts: TargetOptions, path: str) -> Target:
    render = compile_template(opts.engine_template or DEFAULT_ENGINE_TEMPLATE)
    text_get = compile_path(opts.text_field or "response", "--text-field")
    text = _string_at(text_get)

    def piece(chunk: dict[str, Any]) -> tuple[str | None, bool]:
        return text(chunk), False  # engines have no standard finish reason

    ids = tuple(compile_path(p, "--response-id-field")
                for p in ((opts.id_field,) if opts.id_field else ("id", "response_id")))
    return Target(opts.kind, path, lambda req: orjson.dumps(render(req)), piece, text, ids,
                  opts.stream_end or "eof")


KINDS: dict[str, tuple[str, Callable[[TargetOptions, str], Target]]] = {
    "openai-chat": ("/v1/chat/completions",
                    lambda o, p: _openai(o, p, _chat_body, _chat_piece, "choices.0.message.content")),
    "openai-completions": ("/v1/completions",
                           lambda o, p: _openai(o, p, _completions_body, _text_piece, "choices.0.text")),
    "engine": ("/api/chat", _engine),
}


def default_path(kind: str) -> str:
    return _kind(kind)[0]


def _kind(kind: str) -> tuple[str, Callable[[TargetOptions, str], Target]]:
    if kind not in KINDS:
        raise SpecError(f"--target-kind: unknown target kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind]


def build_target(opts: TargetOptions) -> Target:
    """Compile the options; SpecError naming the option, the value and the fix."""
    default, make = _kind(opts.kind)
    path = opts.path or default
    if not path.startswith("/"):
        raise SpecError(f"--target-path: {path!r} must start with '/', e.g. {default}")
    if opts.stream_end is not None and opts.stream_end not in STREAM_ENDS:
        raise SpecError(f"--stream-end: {opts.stream_end!r} is not one of {', '.join(STREAM_ENDS)}")
    if opts.kind != "engine" and (opts.engine_template or opts.text_field):
        raise SpecError(f"--engine-template and --text-field describe an engine target; "
                        f"add --target-kind engine (the target kind is {opts.kind!r}).")
    return make(opts, path)


def response_id(target: Target, obj: Any) -> str | None:
    for get in target.ids:
        value = get(obj)
        if value is not MISSING and type(value) is str:
            return value
    return None
