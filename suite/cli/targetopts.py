"""The one target option group of ``run``, ``swap``, ``sweep cache`` and ``sweep load``: every way
of naming where traffic goes and how it talks to the target becomes one ``Target``
(suite.driver.control.target), so no command can forget the key, a header or the cache rule.

Where a value comes from, first found wins: the command line > ``--target-file target.yaml`` >
``--target-preset`` (a gateway's documented conventions, suite.gateways) > the option's default.
Click's parameter source tells what was typed. A target file never holds a key: it names the
environment variable that does (``api_key_env``), so it can be committed and shared.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from suite.cachesignal import SERVED_KEY_HEADER, SIMILARITY_HEADER
from suite.cli.common import Duration, NonNegativeInt, Share, TargetUrl, url_problem
from suite.driver.control.config import DEFAULT_TIMEOUT_S
from suite.driver.control.requestopts import (
    DEFAULT_REQUEST_ID_HEADER,
    DEFAULT_TOKEN_CHECK_SAMPLE,
    RequestOptions,
    parse_header,
)
from suite.driver.control.target import HEALTH_METHODS, Target, strip_v1
from suite.driver.exchange.targets import KINDS
from suite.errors import SpecError
from suite.gateways import PRESETS, Preset, get_preset

KEY_ENVS = ("LLMSUITE_API_KEY", "OPENAI_API_KEY")  # the default places a key is read from
# target-file key → option (parameter) name
FILE_KEYS = {"url": "target", "preset": "target_preset", "kind": "target_kind", "path": "target_path",
             "engine_template": "engine_template", "text_field": "text_field",
             "stream_end": "stream_end", "headers": "header", "api_key_env": "api_key_env",
             "api_key_header": "api_key_header", "request_id_header": "request_id_header",
             "cache_detect": "cache_detect", "served_key_header": "served_key_header",
             "similarity_header": "similarity_header", "health_path": "health_path",
             "health_method": "health_method", "timeout": "timeout", "ttft_timeout": "ttft_timeout"}
_STRINGS = frozenset(FILE_KEYS) - {"headers", "timeout", "ttft_timeout", "request_id_header"}
# option → the preset attribute that fills it when neither the command line nor the file did
PRESET_FIELDS = {"cache_detect": "cache_detect", "health_path": "health_path",
                 "health_method": "health_method", "api_key_header": "api_key_header"}


def _mock_url(url: str | None) -> bool:
    return url in (None, "", "mock")


def read_target_file(path: Path) -> dict[str, Any]:
    """The target file's mapping, checked: no literal key, no unknown key, the right types."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"--target-file {path}: cannot be read ({exc}).") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"--target-file {path}: not valid YAML ({exc}).") from None
    if not isinstance(raw, dict):
        raise SpecError(f"--target-file {path}: must be a mapping of settings, e.g. 'url: http://host:8000'.")
    if "api_key" in raw:
        raise SpecError(f"--target-file {path}: holds a literal api_key; put the key in an environment "
                        f"variable and name it with api_key_env (e.g. api_key_env: GATEWAY_KEY).")
    unknown = sorted(str(k) for k in raw if k not in FILE_KEYS)
    if unknown:
        raise SpecError(f"--target-file {path}: unknown key(s) {', '.join(unknown)}; known: "
                        f"{', '.join(sorted(FILE_KEYS))}.")
    return {k: _file_value(path, k, v) for k, v in raw.items() if v is not None or k == "request_id_header"}


def _file_value(path: Path, key: str, value: Any) -> Any:
    """A file value in the form its option takes (headers: 'Name: value' strings)."""
    if key == "headers":
        if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
            raise SpecError(f"--target-file {path}: headers must map header names to values, e.g. "
                            f"headers: {{X-Team: blue}}.")
        return tuple(f"{name}: {v}" for name, v in value.items())
    if key in ("timeout", "ttft_timeout"):
        try:
            return Duration().convert(value, None, None)
        except click.BadParameter as exc:
            raise SpecError(f"--target-file {path}: {key}: {exc.message}") from None
    if key == "request_id_header" and value is None:
        return None  # null: send no request-id header
    if key in _STRINGS | {"request_id_header"} and not isinstance(value, str):
        raise SpecError(f"--target-file {path}: {key} must be a string, not {value!r}.")
    return value


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(header: str, env: Mapping[str, str]) -> str:
    """A target file's header with each ``${NAME}`` replaced by that environment variable, so a
    file carries a gateway's second credential (``cf-aig-authorization: Bearer ${CF_AIG_TOKEN}``)
    by name only; an unset variable is an error, never an empty credential."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not env.get(name):
            raise SpecError(f"--target-file: header {header.partition(':')[0]!r} names ${{{name}}}, which "
                            f"is not set (or empty); export {name}=... or drop the header.")
        return env[name]
    return _ENV_REF.sub(value, header)


def resolve_key(values: Mapping[str, Any], typed: frozenset[str], file_env: str | None,
                env: Mapping[str, str]) -> str | None:
    """The key: ``--api-key`` typed > ``--api-key-env NAME`` > the file's ``api_key_env`` >
    LLMSUITE_API_KEY > OPENAI_API_KEY. A named variable that is unset is an error, never None:
    a run without the key it was told to use would measure 401s."""
    if "api_key" in typed and "api_key_env" in typed:
        raise SpecError("--api-key and --api-key-env both name the key; give one (prefer --api-key-env: "
                        "argv is visible to other users).")
    if "api_key" in typed:
        return values["api_key"] or None
    name = values.get("api_key_env") if "api_key_env" in typed else file_env
    if name:
        key = env.get(name)
        if not key:
            raise SpecError(f"--api-key-env {name}: the environment variable {name} is not set (or "
                            f"empty); export it (export {name}=...) or name the one that holds the key.")
        return key
    return next((env[n] for n in KEY_ENVS if env.get(n)), None)


def _layered(values: Mapping[str, Any], typed: frozenset[str], file: Mapping[str, Any],
             preset: Preset | None) -> dict[str, Any]:
    """Each option's value, command line > file > preset > default; headers are merged (a typed
    header replaces the file's header of the same name)."""
    out = dict(values)
    for key, name in FILE_KEYS.items():
        if name not in typed and key in file:
            out[name] = file[key]
        elif name not in typed and preset is not None and name in PRESET_FIELDS:
            out[name] = getattr(preset, PRESET_FIELDS[name])
    if "header" in typed and "headers" in file:
        mine = {parse_header(h)[0].lower() for h in values["header"]}
        kept = tuple(h for h in file["headers"] if parse_header(h)[0].lower() not in mine)
        out["header"] = kept + tuple(values["header"])
    return out


def _request(v: Mapping[str, Any]) -> RequestOptions:
    return RequestOptions(
        kind=v["target_kind"], path=v["target_path"], engine_template=v["engine_template"],
        text_field=v["text_field"], id_field=v["response_id_field"], stream_end=v["stream_end"],
        headers=tuple(parse_header(h) for h in v["header"]), api_key_header=v["api_key_header"],
        request_id_header=None if v["no_request_id"] else v["request_id_header"],
        cache_detect=v["cache_detect"], served_key_header=v["served_key_header"],
        similarity_header=v["similarity_header"], require_fields=tuple(v["require_field"]),
        forbid=tuple(v["forbid"]), forbid_regex=tuple(v["forbid_regex"]),
        min_length=v["min_length"], token_check_sample=v["token_check_sample"])


@dataclass(frozen=True)
class TargetArgs:
    """The group's raw values and which of them were typed; ``build()`` makes the Target inside
    the command, where a SuiteError becomes a one-line message."""

    values: dict[str, Any]
    typed: frozenset[str] = frozenset()

    def build(self, *, mock_ok: bool = False,
              env: Mapping[str, str] | None = None) -> tuple[Target | None, list[str]]:
        """(the Target, notices to print); the Target is None for the bundled mock (``mock_ok``:
        sweeps and swap, with no URL or ``mock``)."""
        env = os.environ if env is None else env
        file = read_target_file(self.values["target_file"]) if self.values.get("target_file") else {}
        if "headers" in file:
            file["headers"] = tuple(expand_env(h, env) for h in file["headers"])
        url = self.values["target"] if "target" in self.typed else file.get("url", self.values["target"])
        if _mock_url(url):
            if not mock_ok:
                raise SpecError("--target: give the target's base URL (-t http://127.0.0.1:8000) or "
                                "url: in --target-file.")
            ignored = sorted(f"--{n.replace('_', '-')}" for n in self.typed - {"target"})
            return None, ([f"the bundled mock is the target: {', '.join(ignored)} ignored"]
                          if ignored or file else [])
        problem = url_problem(str(url))
        if problem:
            raise SpecError(f"--target-file {self.values['target_file']}: url: {problem}")
        preset_name = (self.values["target_preset"] if "target_preset" in self.typed
                       else file.get("preset", self.values["target_preset"]))
        preset = get_preset(preset_name) if preset_name else None
        v = _layered(self.values, self.typed, file, preset)
        base, notice = strip_v1(str(url))
        key = resolve_key(self.values, self.typed, file.get("api_key_env"), env)
        timeout, ttft = v["timeout"], v["ttft_timeout"]
        if ttft is not None and ttft > timeout:
            raise SpecError(f"--ttft-timeout: {ttft:g} s is longer than --timeout {timeout:g} s, which "
                            f"would always fire first; lower it or raise --timeout.")
        target = Target(url=base, request=_request(v), api_key=key, health_path=v["health_path"],
                        health_method=str(v["health_method"]).upper(), timeout_s=timeout,
                        ttft_timeout_s=ttft, preset=preset.name if preset else None)
        return target, [notice] if notice else []

    def real(self, env: Mapping[str, str] | None = None) -> tuple[Target, list[str]]:
        """``build()`` where only a real target will do (``run``: there is no bundled mock)."""
        target, notices = self.build(env=env)
        assert target is not None  # without mock_ok, no URL is a SpecError
        return target, notices


def _options(allow_mock: bool) -> list[Callable[[Any], Any]]:
    url_help = ("Base URL, e.g. http://127.0.0.1:8000 (a trailing /v1 is dropped)" +
                ("; omit it (or 'mock') for the bundled mock on loopback, fresh for every step."
                 if allow_mock else "."))
    return [
        click.option("--target", "-t", type=TargetUrl(allow_mock=allow_mock), default=None, help=url_help),
        click.option("--target-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     help="YAML with the target's settings (url, preset, kind, path, headers, "
                     "api_key_env, cache_detect, health_path, timeout, ...; see docs/cli.md); "
                     "options given on the command line win."),
        click.option("--target-preset", default=None, metavar="NAME",
                     help=f"Gateway conventions (cache signal, health path, key header): "
                     f"{', '.join(PRESETS)}."),
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
        click.option("--api-key", default=None, help="API key (prefer --api-key-env: argv is "
                     "visible to other users)."),
        click.option("--api-key-env", default=None, metavar="NAME",
                     help="Environment variable holding the key (default: LLMSUITE_API_KEY, then "
                     "OPENAI_API_KEY); unset is an error."),
        click.option("--api-key-header", default="Authorization", show_default=True,
                     help="Header carrying the key: Authorization sends 'Bearer KEY', others the key."),
        click.option("--request-id-header", default=DEFAULT_REQUEST_ID_HEADER, show_default=True,
                     help="Header carrying each record's id, to join with the target's logs."),
        click.option("--no-request-id", is_flag=True, help="Do not send a request-id header."),
        click.option("--cache-detect", default="auto", show_default=True, metavar="SPEC",
                     help="auto | none | header:NAME[=HIT1|HIT2] | present:NAME | json:FIELD.PATH"),
        click.option("--served-key-header", default=SERVED_KEY_HEADER, show_default=True, metavar="NAME",
                     help="Header naming the cache entry a hit was served from (none: not read); "
                     "lets the analyzer judge hits against the corpus."),
        click.option("--similarity-header", default=SIMILARITY_HEADER, show_default=True, metavar="NAME",
                     help="Header carrying a semantic hit's similarity (none: not read)."),
        click.option("--health-path", default="/health", show_default=True,
                     help="Path of the pre-flight and --abort-health-failures checks."),
        click.option("--health-method", type=click.Choice(HEALTH_METHODS, case_sensitive=False),
                     default="GET", show_default=True, help="Method of those checks."),
        click.option("--timeout", type=Duration(), default=f"{DEFAULT_TIMEOUT_S:g}", show_default=True,
                     help="Per request, send to last byte; beyond it the request is recorded as "
                     "error kind timeout (message: total)."),
        click.option("--ttft-timeout", type=Duration(), default=None, help="Per request, send to first "
                     "content (streaming) or to the headers; beyond it: kind timeout (message: ttft). "
                     "Default: off."),
        click.option("--require-field", multiple=True, metavar="PATH",
                     help="Content check: this JSON field must be in the response (repeatable)."),
        click.option("--forbid", multiple=True, metavar="TERM",
                     help="Content check: fail a response containing TERM, any case (repeatable)."),
        click.option("--forbid-regex", multiple=True, metavar="REGEX",
                     help="Content check: fail a response matching REGEX (repeatable)."),
        click.option("--min-length", type=NonNegativeInt, default=None,
                     help="Content check: fail a response shorter than this many characters."),
        click.option("--token-check-sample", type=Share, default=DEFAULT_TOKEN_CHECK_SAMPLE,
                     show_default=True, help="Share of requests whose text is also counted with "
                     "tiktoken beside the target's usage (deterministic by id; 0 = never)."),
    ]


NAMES = ("target", "target_file", "target_preset", "target_kind", "target_path", "engine_template",
         "text_field", "response_id_field", "stream_end", "header", "api_key", "api_key_env",
         "api_key_header", "request_id_header", "no_request_id", "cache_detect", "served_key_header",
         "similarity_header", "health_path",
         "health_method", "timeout", "ttft_timeout", "require_field", "forbid", "forbid_regex",
         "min_length", "token_check_sample")


def target_group(allow_mock: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the group's options; the command receives them as one ``target: TargetArgs``."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn, updated=())
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            typed = frozenset(n for n in NAMES if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE)
            values = {name: kwargs.pop(name) for name in NAMES}
            return fn(*args, target=TargetArgs(values, typed), **kwargs)

        # the options already attached to ``fn`` (inner decorators), copied: never share click's list
        wrapper.__click_params__ = list(getattr(fn, "__click_params__", []))  # type: ignore[attr-defined]
        for option in reversed(_options(allow_mock)):
            wrapper = option(wrapper)
        return wrapper

    return decorate
