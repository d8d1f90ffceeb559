"""Auditable cache attribution: which signal said "hit", and re-attributing a run with another rule.

``cache_detection`` is the summary's ``cache.detection`` node: the rule, the signal found (a
header, with the gateway preset it belongs to, or a JSON field) and how many requests carried one;
when nothing was found but the corpus repeats itself, it says hits were probably missed and names
the options — a silent 0 % hit ratio is the failure this exists for.

``reattribute`` (``analyze --cache-detect RULE``) recomputes every record's ``cache`` from its
recorded ``cache_headers`` with the same rule code the driver runs (suite.cachesignal), so a run
made with the wrong rule is corrected without re-running. What cannot be re-derived is refused
with the reason: a ``json:`` rule (bodies are not kept), a header the run never looked at.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from suite.analyze.read.cacheheaders import Recorded, header_columns, recorded
from suite.analyze.read.load import LoadedRun
from suite.cachesignal import PRESENCE, CacheRule, Signal, parse_rule, preset_of
from suite.errors import AnalysisError, SpecError
from suite.gateways import PRESETS

_VERDICT = {None: 0, "hit": 1, "miss": 2}  # int8 codes; 0 = no verdict
OPTIONS = ("--target-preset NAME ({presets}) or --cache-detect header:NAME=HIT / present:NAME when "
           "running, or re-attribute this run: llmsuite analyze RUN --cache-detect RULE")


def _codes(signal: Signal, column: pa.Array) -> np.ndarray:
    """The signal's verdict per row (0 none, 1 hit, 2 miss), computed once per distinct value."""
    encoded = column.dictionary_encode()
    table = np.array([_VERDICT[signal.read(v)] for v in encoded.dictionary.to_pylist()] + [0],
                     dtype=np.int8)
    idx = pc.fill_null(encoded.indices, len(table) - 1).to_numpy(zero_copy_only=False)
    out = table[idx]
    if signal.mode == PRESENCE:  # an allow-listed header that did not come: a miss
        out = np.where(column.is_null().to_numpy(zero_copy_only=False), np.int8(2), out)
    return out


def verdicts(rule: CacheRule, columns: dict[str, pa.Array], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(verdict codes, index of the signal that gave each, -1 for none) — the rule's first signal
    with a verdict wins, as in ``CacheRule.from_headers``."""
    codes = np.zeros(n, dtype=np.int8)
    which = np.full(n, -1, dtype=np.int16)
    for i, signal in enumerate(rule.signals):
        got = _codes(signal, columns[signal.name])
        fired = (codes == 0) & (got != 0)
        codes[fired] = got[fired]
        which[fired] = i
    return codes, which


def _check(spec: str, rule: CacheRule, rec: Recorded | None, where: str) -> None:
    if rec is None:
        raise AnalysisError(f"{where}: this run recorded no cache headers (its run.json has no "
                            f"extra.cache_headers: made before records kept them, or not by the "
                            f"driver), so --cache-detect {spec!r} cannot re-attribute it; re-run it.")
    if rule.json_path is not None and rule.signals == ():
        raise AnalysisError(f"{where}: --cache-detect {spec!r} reads the response body, which records do "
                            f"not keep; re-run with it, or re-attribute with a header rule "
                            f"(header:NAME, present:NAME, auto).")
    missing = [s.name for s in rule.signals if s.name not in rec.allowlist]
    if missing:
        raise AnalysisError(f"{where}: header {missing[0]!r} was not recorded by this run (its records "
                            f"keep {', '.join(rec.allowlist)}); re-run with --cache-detect {spec!r}.")


def reattribute(run: LoadedRun, spec: str) -> LoadedRun:
    """The run with every record's ``cache`` recomputed from its recorded headers by ``spec``;
    AnalysisError (one line) when the run cannot be re-attributed that way."""
    where = str(run.run_dir)
    try:
        rule = parse_rule(spec)
    except SpecError as exc:
        raise AnalysisError(f"{where}: {exc}") from None
    rec = recorded(run.meta)
    _check(spec, rule, rec, where)
    assert rec is not None and run.meta is not None
    frame = run.requests
    n = len(frame)
    columns = header_columns(run, [s.name for s in rule.signals])
    codes, _ = verdicts(rule, columns, n)
    answered = np.isfinite(frame["status"].to_numpy(dtype=float, na_value=np.nan))
    codes = np.where(answered, codes, np.int8(0))  # no response, no header, no verdict
    if any(s.mode == PRESENCE for s in rule.signals):  # as the driver does: an error answer without
        failed = answered & (frame["status"].to_numpy(dtype=float, na_value=np.nan) >= 400)
        codes = np.where(failed & (codes == 2), np.int8(0), codes)  # the header: neither hit nor miss
    if rule.json_path is not None and parse_rule(rec.rule).json_path == rule.json_path:
        # auto's body field: recorded by the same rule, kept where no header decides
        old = frame["cache"].astype(object).to_numpy()
        keep = (codes == 0) & pd.notna(old)
        codes = np.where(keep, np.where(old == "hit", np.int8(1), np.int8(2)), codes)
    frame = frame.copy()
    frame["cache"] = pd.Categorical.from_codes(codes.astype(np.int32) - 1, categories=["hit", "miss"])
    run.meta.extra.setdefault("cache_headers", {})["reattributed"] = spec
    run.requests = frame
    return run


def _rule_of(run: LoadedRun, rec: Recorded | None) -> tuple[str, bool]:
    applied = (run.meta.extra.get("cache_headers") or {}).get("reattributed") if run.meta else None
    if applied:
        return str(applied), True
    if rec is not None:
        return rec.rule, False
    request = (run.meta.extra.get("request") or {}) if run.meta else {}
    return str(request.get("cache_detect") or "auto"), False


def cache_detection(run: LoadedRun, frame: pd.DataFrame) -> dict[str, Any]:
    """The ``cache.detection`` node: rule, signal found (+ preset), requests with a signal, every
    signal's count; else why none, and — when the corpus repeats itself — the options."""
    rec = recorded(run.meta)
    spec, again = _rule_of(run, rec)
    cache = frame["cache"].astype(object).to_numpy()
    with_signal = pd.notna(cache)
    node: dict[str, Any] = {"rule": spec, "reattributed": again,
                            "requests_with_signal": int(with_signal.sum())}
    try:
        rule = parse_rule(spec)
    except SpecError:
        rule = CacheRule(spec)
    counts = _counts(run, rule, rec, with_signal) if with_signal.any() else {}
    found = max(counts, key=lambda k: counts[k]) if counts else None
    node["signal_found"] = found
    node["preset"] = preset_of(Signal(found)) if found and not found.startswith("json:") else None
    node["signals"] = counts
    if found is None:
        node["why"] = _why(rule, with_signal)
        repeats = int(pd.array(frame["repeat"], dtype="boolean").fillna(False).sum()) \
            if "repeat" in frame else 0
        if repeats and not with_signal.any() and rule.spec.strip().lower() != "none":
            presets = ", ".join(sorted(p for p, v in PRESETS.items() if v.cache_detect != "none"))
            node["hint"] = (f"hits were probably missed: {repeats} requests repeat an earlier one, yet "
                            f"no response carried a cache signal the rule reads; name the target's "
                            f"signal with " + OPTIONS.format(presets=presets))
    return node


def _why(rule: CacheRule, with_signal: np.ndarray) -> str:
    if rule.spec.strip().lower() == "none":
        return "cache detection was off (--cache-detect none)"
    if with_signal.any():
        return ("requests carry a cache verdict but this run recorded no cache headers to say which "
                "signal gave it")
    return f"no response carried a signal that --cache-detect {rule.spec!r} reads"


def _counts(run: LoadedRun, rule: CacheRule, rec: Recorded | None,
            with_signal: np.ndarray) -> dict[str, int]:
    """Requests per signal that decided them; a JSON verdict is counted as ``json:PATH``."""
    json_name = f"json:{rule.json_path}" if rule.json_path else None
    if not rule.signals:
        return {json_name: int(with_signal.sum())} if json_name else {}
    names = [s.name for s in rule.signals]
    if rec is None or any(n not in rec.allowlist for n in names):
        return {}
    columns = header_columns(run, names)
    _, which = verdicts(rule, columns, len(with_signal))
    which = np.where(with_signal, which, -2)
    out = {names[i]: int(c) for i, c in zip(*np.unique(which[which >= 0], return_counts=True), strict=True)}
    rest = int((which == -1).sum())
    if rest and json_name:
        out[json_name] = rest
    return out


__all__ = ["cache_detection", "reattribute", "verdicts"]
