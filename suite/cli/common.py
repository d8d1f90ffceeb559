"""``llmsuite run``'s request-side options: target kind, headers, API key, request ids, cache
detection, content checks, token cross-check. One decorator adds them all and hands the command a
single ``request: RequestArgs``; ``RequestArgs.options()`` validates them (a SpecError, reported by
the CLI's usual one-line error) inside the command, where errors are translated.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from suite.driver.requestopts import (
    DEFAULT_REQUEST_ID_HEADER,
    DEFAULT_TOKEN_CHECK_SAMPLE,
    RequestOptions,
    parse_header,
)
from suite.driver.targets import KINDS

API_KEY_ENV = "LLMSUITE_API_KEY"
_NAMES = ("target_kind", "target_path", "engine_template", "text_field", "response_id_field",
          "stream_end", "header", "api_key", "api_key_header", "request_id_header", "no_request_id",
          "cache_detect", "require_field", "forbid", "forbid_regex", "min_length",
          "token_check_sample")


@dataclass(frozen=True)
class RequestArgs:
    """The raw option values, validated by ``options()``."""

    values: dict[str, Any]

    @property
    def api_key(self) -> str | None:
        """--api-key / LLMSUITE_API_KEY, else OPENAI_API_KEY (what the OpenAI SDK users have set)."""
        return self.values.get("api_key") or os.environ.get("OPENAI_API_KEY") or None

    def options(self) -> RequestOptions:
        v = self.values
        return RequestOptions(
            kind=v["target_kind"], path=v["target_path"], engine_template=v["engine_template"],
            text_field=v["text_field"], id_field=v["response_id_field"], stream_end=v["stream_end"],
            headers=tuple(parse_header(h) for h in v["header"]),
            api_key_header=v["api_key_header"],
            request_id_header=None if v["no_request_id"] else v["request_id_header"],
            cache_detect=v["cache_detect"], require_fields=tuple(v["require_field"]),
            forbid=tuple(v["forbid"]), forbid_regex=tuple(v["forbid_regex"]),
            min_length=v["min_length"], token_check_sample=v["token_check_sample"])


_OPTIONS = [
    click.option("--target-kind", type=click.Choice(list(KINDS)), default="openai-chat",
                 show_default=True, help="openai-chat, openai-completions (prompt built from the "
                 "messages), or engine: any JSON endpoint (see --engine-template, --text-field)."),
    click.option("--target-path", default=None,
                 help="Request path (default: /v1/chat/completions, /v1/completions, /api/chat)."),
    click.option("--engine-template", default=None, metavar="JSON",
                 help='Engine body with placeholders {message} {messages} {session_id} {model} '
                 '{max_tokens} {stream}; default: {"message": "{message}", "session_id": '
                 '"{session_id}", "stream": "{stream}"}.'),
    click.option("--text-field", default=None, metavar="PATH",
                 help="Engine: where the text is, in the body or in each SSE event (default: "
                 "response; e.g. choices.0.message.content)."),
    click.option("--response-id-field", default=None, metavar="PATH",
                 help="Where the target's response id is (default: id; engine: id, response_id)."),
    click.option("--stream-end", type=click.Choice(["done", "eof"]), default=None,
                 help="done: a stream needs [DONE] or a finish reason (default for OpenAI kinds); "
                 "eof: the end of the response is enough (default for engine)."),
    click.option("--header", "-H", multiple=True, metavar="'NAME: VALUE'",
                 help="Extra request header (repeatable). Credential headers are never written."),
    click.option("--api-key", envvar=API_KEY_ENV, default=None, show_envvar=True,
                 help="API key (prefer the environment variable: argv is visible to other users). "
                 "Falls back to OPENAI_API_KEY."),
    click.option("--api-key-header", default="Authorization", show_default=True,
                 help="Header carrying the key: Authorization sends 'Bearer KEY', others the key."),
    click.option("--request-id-header", default=DEFAULT_REQUEST_ID_HEADER, show_default=True,
                 help="Header carrying each record's id, to join with the target's logs."),
    click.option("--no-request-id", is_flag=True, help="Do not send a request-id header."),
    click.option("--cache-detect", default="auto", show_default=True, metavar="SPEC",
                 help="auto | none | header:NAME[=HIT1|HIT2] | present:NAME | json:FIELD.PATH"),
    click.option("--require-field", multiple=True, metavar="PATH",
                 help="Content check: this JSON field must be in the response (repeatable)."),
    click.option("--forbid", multiple=True, metavar="TERM",
                 help="Content check: fail a response containing TERM, any case (repeatable)."),
    click.option("--forbid-regex", multiple=True, metavar="REGEX",
                 help="Content check: fail a response matching REGEX (repeatable)."),
    click.option("--min-length", type=int, default=None,
                 help="Content check: fail a response shorter than this many characters."),
    click.option("--token-check-sample", type=float, default=DEFAULT_TOKEN_CHECK_SAMPLE,
                 show_default=True, help="Share of requests whose text is also counted with "
                 "tiktoken beside the target's usage (deterministic by id; 0 = never)."),
]


def request_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options; the command receives them as one ``request: RequestArgs``."""

    @functools.wraps(fn, updated=())
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _NAMES}
        return fn(*args, request=RequestArgs(values), **kwargs)

    # the options already attached to ``fn`` (inner decorators), copied: never share click's list
    wrapper.__click_params__ = list(getattr(fn, "__click_params__", []))  # type: ignore[attr-defined]
    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
