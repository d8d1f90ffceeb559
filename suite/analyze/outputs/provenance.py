"""The report's provenance banner: what was measured, before any number is read.

A shared report that does not say "bundled mock" reads like a measurement of real models, so the
target comes first; when run.json does not say whether the suite started the bundled mock, the
banner says it was not recorded rather than guessing from the URL. Partial, truncated and aborted
runs are warn facts: every figure below covers only what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

from suite.analyze.outputs.fmt import seconds
from suite.analyze.outputs.page import Fact
from suite.analyze.schema import RunSection, Summary
from suite.analyze.summarize.coverage import truncated


def _target_meta(run: RunSection) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = run["meta"]
    target = meta.get("extra", {}).get("target") if "why" not in meta else None
    return target if isinstance(target, Mapping) else {}


def target_fact(run: RunSection) -> Fact:
    """The bundled mock with its profiles, or the URL (and gateway preset) of a real target."""
    target = _target_meta(run)
    mock = target.get("bundled_mock")
    if isinstance(mock, Mapping):
        profiles = mock.get("profiles")
        names = ", ".join(map(str, profiles)) if profiles else "not reported"
        return Fact("target", f"bundled mock server (simulated models; profiles: {names})", warn=True)
    meta: Mapping[str, Any] = run["meta"]
    url = target.get("url") or meta.get("target") or ", ".join(run["targets"]) or "not recorded"
    if not target:
        return Fact("target", f"{url} (not recorded whether it was the bundled mock)")
    preset = f", gateway preset {target['preset']}" if target.get("preset") else ""
    return Fact("target", f"{url}{preset}")


def cache_fact(summary: Summary) -> Fact:
    """The mock's cache backend; for any other target, its own cache and the signal that showed it."""
    mock = _target_meta(summary["run"]).get("bundled_mock")
    if isinstance(mock, Mapping):
        backend = mock.get("cache") or "not reported"
        return Fact("cache backend", f"{backend} (the mock's)")
    det: Mapping[str, Any] = summary["cache"].get("detection", {})
    if det.get("signal_found"):
        preset = f" ({det['preset']} preset)" if det.get("preset") else ""
        return Fact("cache", f"the target's own, seen by the {det['signal_found']} header{preset}")
    signal = summary["cache"]["requests_with_signal"]
    whose = "the target's own" if _target_meta(summary["run"]) else "backend not recorded"
    if signal:
        return Fact("cache", f"{whose} ({signal:,} requests carried a hit/miss verdict)")
    return Fact("cache", f"{whose}; no hit/miss signal in this run")


def corpus_fact(run: RunSection) -> Fact | None:
    meta: Mapping[str, Any] = run["meta"]
    if "why" in meta:
        return None
    name = PurePath(str(meta.get("corpus") or "")).name or "not recorded"
    size = meta.get("requests_in_corpus")
    count = f", {size:,} requests" if isinstance(size, int) and size else ""
    mock = _target_meta(run).get("bundled_mock")
    seed = f", mock seed {mock['seed']}" if isinstance(mock, Mapping) and mock.get("seed") is not None else ""
    return Fact("corpus", f"{name}{count}{seed}")


def _utc(ts: Any) -> str:
    return datetime.fromtimestamp(float(ts), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def when_fact(run: RunSection) -> Fact:
    meta: Mapping[str, Any] = run["meta"]
    start = meta.get("started") if "why" not in meta else None
    start = start if isinstance(start, int | float) else run["window"]["start"]
    return Fact("when", f"{_utc(start)}, {seconds(run['window']['seconds'])} measured")


def load_fact(run: RunSection) -> Fact:
    meta: Mapping[str, Any] = run["meta"]
    users = meta.get("users") if "why" not in meta else None
    loop = "open loop" if run.get("open_loop") else "closed loop"
    asked = f"{users:,} users" if isinstance(users, int) else f"{run['users_seen']:,} users seen"
    workers = f", {run['workers']} workers" if run["workers"] > 1 else ""
    limit = meta.get("duration_s") if "why" not in meta else None
    cap = f", duration limit {limit:g} s" if isinstance(limit, int | float) and limit > 0 else ""
    return Fact("load", f"{loop}, {asked}{workers}{cap}")


def sent_facts(summary: Summary) -> list[Fact]:
    """How much of the corpus was sent (a warn fact when a limit, abort or signal cut it short)."""
    run, totals = summary["run"], summary["totals"]
    out = []
    coverage = run.get("coverage")
    if coverage is not None and truncated(coverage):
        out.append(Fact("TRUNCATED run", f"{coverage['note']}; every figure covers only the requests sent",
                        warn=True))
    out.append(Fact("requests", f"{totals['sent']:,} sent, {totals['ok']:,} ok, {totals['failed']:,} failed"))
    if run.get("partial"):
        out.append(Fact("PARTIAL run", f"{run['partial'].get('reason')}; every figure covers only what was "
                                   "recorded", warn=True))
    if run.get("aborted"):
        a = run["aborted"]
        out.append(Fact("run ABORTED early", f"{a.get('reason')} (at {a.get('at')})", warn=True))
    if run.get("warmup_excluded"):
        out.append(Fact("warm-up", f"{run['warmup_excluded']:,} records excluded from every statistic"))
    if len(run.get("files", [])) > 1:
        out.append(Fact("log", f"{len(run['files'])} shards merged"))
    source = run.get("log_source")
    if source:  # a columnar mirror was read, or passed over (cut short, unmarked): say which and why
        fmt = "columnar (Arrow IPC)" if source.get("format") == "arrow-ipc" else "JSONL"
        notes = "; ".join(str(n) for n in source.get("notes") or [])
        out.append(Fact("read from", f"{fmt}{f' ({notes})' if notes else ''}", warn=bool(notes)))
    if "why" in run["meta"]:
        out.append(Fact("run.json", str(run["meta"]["why"]), warn=True))
    return out


def provenance(summary: Summary) -> list[Fact]:
    run = summary["run"]
    corpus = corpus_fact(run)
    return [target_fact(run), cache_fact(summary), *([corpus] if corpus else []), when_fact(run),
            load_fact(run), *sent_facts(summary)]
