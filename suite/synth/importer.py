"""Import prompts: ShareGPT JSON, JSONL of prompts or messages, CSV with a named column.

``read_prompts`` is the I/O edge (one file in, chat-message lists out). A corrupt line or entry is a
``CorpusError`` naming the file and line (or entry), or — with ``skip_bad`` — counted and reported.
The imported prompts then replace the scenario's templates: repetition and arrival controls apply on
top of them exactly as for synthesized ones (see ``build.build_imported``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from suite.errors import CorpusError
from suite.synth.validate import unknown_name

Messages = list[dict[str, str]]
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system"}


class BadEntry(Exception):
    """One unusable line or entry; the reader turns it into a CorpusError or a skip."""


@dataclass
class Imported:
    """What an import produced: the prompts and how many lines or entries were skipped."""

    file: str
    format: str
    prompts: list[Messages] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {"file": Path(self.file).name, "format": self.format, "prompts": len(self.prompts),
                "skipped_bad": len(self.skipped), "first_skipped": self.skipped[:5]}


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadEntry(f"{what} must be a non-empty string, got {type(value).__name__}")
    return value


def _messages(value: Any) -> Messages:
    if not isinstance(value, list) or not value:
        raise BadEntry("messages must be a non-empty list of {role, content}")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise BadEntry(f"messages[{i}] needs a role of system, user or assistant")
        out.append({"role": m["role"], "content": _text(m.get("content"), f"messages[{i}].content")})
    if out[-1]["role"] != "user":
        raise BadEntry("the last message must be the user's")
    return out


def _jsonl_entry(raw: bytes) -> Messages:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadEntry(f"not valid JSON ({exc})") from None
    if isinstance(obj, str):
        return [{"role": "user", "content": _text(obj, "the prompt")}]
    if not isinstance(obj, dict):
        raise BadEntry(f"expected an object with prompt or messages, got {type(obj).__name__}")
    if "messages" in obj:
        return _messages(obj["messages"])
    if "prompt" in obj:
        return [{"role": "user", "content": _text(obj["prompt"], "prompt")}]
    raise BadEntry("no 'prompt' or 'messages' field")


def _sharegpt_entry(obj: Any) -> Messages:
    """System message (if any) and the conversation up to and including its first human turn."""
    turns = obj.get("conversations") if isinstance(obj, dict) else None
    if not isinstance(turns, list) or not turns:
        raise BadEntry("no 'conversations' list")
    out: Messages = []
    for i, turn in enumerate(turns):
        role = SHAREGPT_ROLES.get(turn.get("from")) if isinstance(turn, dict) else None
        if role is None:
            raise BadEntry(f"conversations[{i}].from must be human, gpt or system")
        out.append({"role": role, "content": _text(turn.get("value"), f"conversations[{i}].value")})
        if role == "user":
            return out
    raise BadEntry("no human turn")


def _lines(path: Path) -> Iterator[tuple[str, Callable[[], Messages]]]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if raw.strip():
                yield f"{path}:{lineno}", lambda raw=raw: _jsonl_entry(raw)


def _sharegpt(path: Path) -> Iterator[tuple[str, Callable[[], Messages]]]:
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not valid JSON ({exc}). A ShareGPT file is one JSON list of "
                          "{conversations: [{from, value}, ...]}.") from None
    if not isinstance(data, list):
        raise CorpusError(f"{path}: a ShareGPT file must be a JSON list, got {type(data).__name__}.")
    for i, obj in enumerate(data):
        yield f"{path}: entry {i}", lambda obj=obj: _sharegpt_entry(obj)


def _csv(path: Path, column: str | None) -> Iterator[tuple[str, Callable[[], Messages]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        names = reader.fieldnames or []
        if column is None or column not in names:
            given = "no --column given" if column is None else unknown_name("column", column, names)
            raise CorpusError(f"{path}: {given}; name the prompt column with --column "
                              f"(columns: {', '.join(names)}).")
        for row in reader:
            value = row.get(column)
            yield f"{path}:{reader.line_num}", lambda value=value: [
                {"role": "user", "content": _text(value, f"column {column!r}")}]


FORMATS = ("sharegpt", "jsonl", "csv")


def read_prompts(path: str | Path, fmt: str, column: str | None = None, skip_bad: bool = False) -> Imported:
    """Every prompt of ``path`` in file order; a bad entry raises unless ``skip_bad``."""
    path = Path(path)
    if fmt not in FORMATS:
        raise CorpusError(f"--format: {unknown_name('import format', fmt, FORMATS)}.")
    if not path.is_file():
        raise CorpusError(f"cannot read {path}: no such file. Check the path.")
    entries = {"sharegpt": lambda: _sharegpt(path), "jsonl": lambda: _lines(path),
               "csv": lambda: _csv(path, column)}[fmt]()
    out = Imported(str(path), fmt)
    for where, parse in entries:
        try:
            out.prompts.append(parse())
        except BadEntry as exc:
            if not skip_bad:
                raise CorpusError(f"{where}: {exc}. Fix or remove it, or pass --skip-bad to skip "
                                  "bad entries (they are counted in the manifest).") from None
            out.skipped.append(f"{where}: {exc}")
    if not out.prompts:
        raise CorpusError(f"{path}: no usable prompts ({len(out.skipped)} bad entries skipped).")
    return out
