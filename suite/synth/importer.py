"""Import prompts: ShareGPT JSON, JSONL of prompts or messages, CSV with a named column.

``read_prompts`` is the I/O edge (one file in, conversations out). A corrupt line or entry is a
``CorpusError`` naming the file and line (or entry), or — with ``skip_bad`` — counted and reported.
A conversation is the list of its turns' prompts: a ShareGPT entry with k human turns gives k prompts,
turn j carrying the system message and every earlier human/gpt turn as user/assistant history; a
JSONL or CSV line is a one-turn conversation. The imported prompts then replace the scenario's
templates: repetition and arrival controls apply on top of them exactly as for synthesized ones, and a
conversation becomes a session (see ``imported.build_imported``).
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
Conversation = list[Messages]  # one prompt per user turn, each with the history before it
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system"}


class BadEntry(Exception):
    """One unusable line or entry; the reader turns it into a CorpusError or a skip."""


@dataclass
class Imported:
    """What an import produced: the conversations and how many lines or entries were skipped."""

    file: str
    format: str
    conversations: list[Conversation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def prompts(self) -> list[Messages]:
        """Every turn's prompt, conversation after conversation."""
        return [prompt for conversation in self.conversations for prompt in conversation]

    def report(self) -> dict[str, Any]:
        return {"file": Path(self.file).name, "format": self.format, "prompts": len(self.prompts),
                "conversations": len(self.conversations), "skipped_bad": len(self.skipped),
                "first_skipped": self.skipped[:5]}


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        got = "an empty string" if isinstance(value, str) else type(value).__name__
        raise BadEntry(f"{what} must be a non-empty string, got {got}")
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


def _jsonl_entry(raw: bytes) -> Conversation:
    return [_jsonl_prompt(raw)]


def _jsonl_prompt(raw: bytes) -> Messages:
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


def _sharegpt_entry(obj: Any) -> Conversation:
    """One prompt per human turn: the messages so far (system, earlier human/gpt turns as user/assistant)
    up to and including that turn; gpt turns after the last human one are dropped. Every turn is
    checked, so a bad later turn makes the whole entry bad."""
    turns = obj.get("conversations") if isinstance(obj, dict) else None
    if not isinstance(turns, list) or not turns:
        raise BadEntry("no 'conversations' list")
    history: Messages = []
    out: Conversation = []
    for i, turn in enumerate(turns):
        role = SHAREGPT_ROLES.get(turn.get("from")) if isinstance(turn, dict) else None
        if role is None:
            raise BadEntry(f"conversations[{i}].from must be human, gpt or system")
        history.append({"role": role, "content": _text(turn.get("value"), f"conversations[{i}].value")})
        if role == "user":
            out.append(list(history))
    if not out:
        raise BadEntry("no human turn")
    return out


def _lines(path: Path) -> Iterator[tuple[str, Callable[[], Conversation]]]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if raw.strip():
                yield f"{path}:{lineno}", lambda raw=raw: _jsonl_entry(raw)


def _sharegpt(path: Path) -> Iterator[tuple[str, Callable[[], Conversation]]]:
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not valid JSON ({exc}). A ShareGPT file is one JSON list of "
                          "{conversations: [{from, value}, ...]}.") from None
    if not isinstance(data, list):
        raise CorpusError(f"{path}: a ShareGPT file must be a JSON list, got {type(data).__name__}.")
    for i, obj in enumerate(data):
        yield f"{path}: entry {i}", lambda obj=obj: _sharegpt_entry(obj)


def _csv(path: Path, column: str | None) -> Iterator[tuple[str, Callable[[], Conversation]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        names = reader.fieldnames or []
        if column is None or column not in names:
            given = "no --column given" if column is None else unknown_name("column", column, names)
            raise CorpusError(f"{path}: {given}; name the prompt column with --column "
                              f"(columns: {', '.join(names)}).")
        for row in reader:
            value = row.get(column)
            yield f"{path}:{reader.line_num}", lambda value=value: [[
                {"role": "user", "content": _text(value, f"column {column!r}")}]]


FORMATS = ("sharegpt", "jsonl", "csv")


def read_prompts(path: str | Path, fmt: str, column: str | None = None, skip_bad: bool = False) -> Imported:
    """Every conversation of ``path`` in file order; a bad entry raises unless ``skip_bad``."""
    path = Path(path)
    if fmt not in FORMATS:
        raise CorpusError(f"--format: {unknown_name('import format', fmt, FORMATS)}.")
    if not path.is_file():
        raise CorpusError(f"cannot read {path}: no such file. Check the path.")
    entries = {"sharegpt": lambda: _sharegpt(path), "jsonl": lambda: _lines(path),
               "csv": lambda: _csv(path, column)}[fmt]()
    out = Imported(str(path), fmt)
    try:
        _collect(entries, out, skip_bad)
    except UnicodeDecodeError as exc:  # the CSV reader decodes as it goes
        raise CorpusError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}). Save it as "
                          "UTF-8.") from None
    if not out.conversations:
        raise CorpusError(f"{path}: no usable prompts ({len(out.skipped)} bad entries skipped).")
    return out


def _collect(entries: Iterator[tuple[str, Callable[[], Conversation]]], out: Imported,
             skip_bad: bool) -> None:
    """Parse every entry into ``out``: a bad one raises, or is counted with ``skip_bad``."""
    for where, parse in entries:
        try:
            out.conversations.append(parse())
        except BadEntry as exc:
            if not skip_bad:
                raise CorpusError(f"{where}: {exc}. Fix or remove it, or pass --skip-bad to skip "
                                  "bad entries (they are counted in the manifest).") from None
            out.skipped.append(f"{where}: {exc}")
