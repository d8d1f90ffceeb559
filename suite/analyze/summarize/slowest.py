"""The slowest successful requests and a few failures, with the prompt each one sent (joined from the
corpus by id), so a reader can see *what* was slow. Prompts are untrusted text: the report escapes
them like everything else from data.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import orjson
import pandas as pd

from suite.analyze.schema import SlowestRow
from suite.analyze.summarize.metrics import column

TOP = 10
EXCERPT = 240


def pick_rows(frame: pd.DataFrame, top: int = TOP) -> list[int]:
    """Positions of the ``top`` slowest successful requests, then up to ``top // 2`` failures."""
    ok, e2e = frame["ok"].to_numpy(), column(frame, "e2e")
    candidates = np.flatnonzero(ok & np.isfinite(e2e))
    if candidates.size > top:
        candidates = candidates[np.argpartition(-e2e[candidates], top - 1)[:top]]
    slow = candidates[np.argsort(-e2e[candidates], kind="stable")]
    failed = np.flatnonzero(~ok)[: top // 2]
    return [int(i) for i in (*slow, *failed)]


def prompts_for(corpus: Path | None, ids: set[str]) -> tuple[dict[str, str], str | None]:
    """The last user message of each wanted id, read from the corpus (stops once all are found)."""
    if corpus is None:
        return {}, "no run.json naming the corpus"
    if not corpus.exists():
        return {}, f"corpus {corpus} not found"
    found: dict[str, str] = {}
    with corpus.open("rb") as fh:
        for line in fh:
            if len(found) == len(ids):
                break
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # the corpus is only decoration here; its own stage validates it
            if isinstance(obj, dict) and obj.get("id") in ids:
                users = [m.get("content", "") for m in obj.get("messages", []) if m.get("role") == "user"]
                found[str(obj["id"])] = str(users[-1] if users else "")[:EXCERPT]
    return found, None


def slowest_section(frame: pd.DataFrame, corpus: Path | None) -> list[SlowestRow]:
    rows = pick_rows(frame)
    ids = [str(frame["id"].iloc[i]) for i in rows]
    prompts, why = prompts_for(corpus, set(ids))
    out: list[SlowestRow] = []
    for i, rid in zip(rows, ids, strict=True):
        e2e, ok = frame["e2e"].iloc[i], bool(frame["ok"].iloc[i])
        kind = frame["error_kind"].iloc[i]
        out.append(cast("SlowestRow", {"id": rid, "model": str(frame["model"].iloc[i]), "ok": ok,
                    "e2e": None if pd.isna(e2e) else float(e2e),
                    "cache": None if pd.isna(frame["cache"].iloc[i]) else str(frame["cache"].iloc[i]),
                    "error": None if ok or pd.isna(kind) else str(kind),
                    "prompt": prompts.get(rid),
                    **({} if rid in prompts else {"prompt_why": why or "id not found in the corpus"})}))
    return out
