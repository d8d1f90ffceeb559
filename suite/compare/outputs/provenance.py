"""What a comparison measured, for compare.html's banner and folds: each run's target (the bundled
mock or a URL), users, corpus identity and coverage (a run cut short measures part of its corpus),
a swap's design (order, warm-up, salt) and whether it was restricted to the requests every model
sent. Pure functions of the compare dict; text only (the page skeleton escapes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from suite.analyze.outputs.page import Fact
from suite.compare.summarize.population import describe_population

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def bundled_mock(result: dict[str, Any]) -> bool:
    """A swap on the bundled mock says so in its unsalted corpus's reason (suite.sweep.swap_runs)."""
    return str((result.get("salt") or {}).get("why") or "").startswith("bundled mock")


def target_text(target: Any, result: dict[str, Any], run: dict[str, Any] | None = None) -> str:
    if not target:
        return "unknown (no run.json target)"
    mock = (run or {}).get("bundled_mock")
    if mock:
        profiles = ", ".join(mock.get("profiles") or []) or "profiles not recorded"
        return f"bundled mock at {target} (simulated models; profiles: {profiles})"
    if bundled_mock(result):
        return f"bundled mock at {target}"
    host = urlsplit(str(target)).hostname
    return f"{target} (loopback: the bundled mock or a local server)" if host in LOOPBACK else str(target)


def folder(path: Any) -> str:
    return Path(str(path)).name if path else "—"


def coverage_text(run: dict[str, Any], result: dict[str, Any] | None = None) -> str:
    """The run's coverage note; a swap's model measured in segments has none of its own: the swap
    warns (``label: N of the corpus's M requests were sent``) when a segment was cut short."""
    node = run.get("coverage")
    if node is None:
        if "coverage" not in run:
            return "—"
        cut = any(str(w).startswith(f"{run['label']}: ") for w in (result or {}).get("warnings") or [])
        return "cut short: see the warnings above" if cut else "whole corpus sent"
    if node.get("stopped_by") == "corpus_exhausted":
        return "whole corpus sent"
    return str(node.get("note") or f"unknown: {node.get('why')}")


def _same(values: list[Any]) -> bool:
    return len({str(v) for v in values}) == 1


def provenance(result: dict[str, Any]) -> list[Fact]:
    runs = result["runs"]
    facts = [Fact("baseline (A)", runs[0]["label"])]
    targets = [target_text(r.get("target"), result, r) for r in runs]
    hosts = [urlsplit(str(r.get("target") or "")).hostname for r in runs]
    if _same(targets):
        facts.append(Fact("target", targets[0], warn="bundled mock" in targets[0]))
    elif all(h in LOOPBACK for h in hosts) and not bundled_mock(result) \
            and not any(r.get("bundled_mock") for r in runs):  # one mock per run: ports differ
        facts.append(Fact("target", "loopback (the bundled mock or a local server): "
                                    + ", ".join(f"{r['label']} {r['target']}" for r in runs)))
    else:
        facts += [Fact(f"target {r['label']}", t, warn="bundled mock" in t)
                  for r, t in zip(runs, targets, strict=True)]
    users = [r.get("users") for r in runs]
    facts.append(Fact("users", str(users[0])) if _same(users) else
                 Fact("users", ", ".join(f"{r['label']} {u}" for r, u in zip(runs, users, strict=True))))
    ids = [r.get("corpus_identity") for r in runs]
    name = folder(runs[0].get("corpus"))
    if _same(ids) and ids[0]:
        overrides = " (model-override copies)" if all(r.get("model_override") for r in runs) else ""
        facts.append(Fact("corpus", f"{name}, sha256 {str(ids[0])[:12]}, the same in every run{overrides}"))
    else:
        each = ", ".join(f"{r['label']} {str(i or '?')[:12]}" for r, i in zip(runs, ids, strict=True))
        facts.append(Fact("corpus", f"different corpora or unknown: {each}", warn=True))
    facts.append(Fact("latency from", describe_population(result.get("population"))))
    for r in runs:
        text = coverage_text(r, result)
        if text not in ("—", "whole corpus sent"):
            facts.append(Fact(f"{r['label']} coverage", text, warn=True))
    if all(coverage_text(r, result) == "whole corpus sent" for r in runs):
        facts.append(Fact("coverage", "every run sent its whole corpus"))
    common = result.get("restricted_to_common")
    if common:
        sent = ", ".join(f"{m} {n}" for m, n in common["sent"].items())
        facts.append(Fact("compared on", f"the {common['requests']} requests every model sent (sent: {sent})",
                          warn=True))
    if result.get("order"):
        warm = result.get("warmup") or {}
        facts.append(Fact("swap", f"order {result['order']}, warm-up "
                                  + (f"{warm['n']} request(s) per model" if warm.get("n") else "none")))
    return facts


def alerts(result: dict[str, Any]) -> list[str]:
    """Warnings a reader must see before the numbers: notes of a comparison, a swap's warnings."""
    notes = [f"{c['a']} vs {c['b']}: {c['note']}" for c in result["comparisons"] if c.get("note")]
    return notes + [str(w) for w in result.get("warnings") or []]


def runs_rows(result: dict[str, Any]) -> list[list[Any]]:
    return [[r["label"], folder(r.get("run_dir")), ", ".join(r["models"]), f"{r['records']:,}",
             f"{r['ok']:,}", r.get("users") or "—", str(r.get("corpus_identity") or "—")[:12],
             r.get("model_override") or "—", coverage_text(r, result)] for r in result["runs"]]


def metadata_rows(result: dict[str, Any]) -> list[list[Any]]:
    """Every run's full paths and identities (the tables above show folder names only)."""
    rows: list[list[Any]] = []
    for r in result["runs"]:
        window = r.get("window_s")
        items = [("folder", r.get("run_dir")), ("run id", r.get("run_id")), ("target", r.get("target")),
                 ("corpus file", r.get("corpus")), ("corpus sha256 (run.json)", r.get("corpus_sha256")),
                 ("corpus identity", f"{r.get('corpus_identity') or '—'} "
                                     f"({r.get('corpus_identity_source')})"),
                 ("window", "—" if window is None else f"{window:.1f} s")]
        rows += [[r["label"], k, "—" if v is None else v] for k, v in items]
    for s in result.get("schedule") or []:
        rows.append([s["model"], f"segment {s['part']}", f"{s['run_dir']} ({s['requests']} requests)"])
    return rows


def swap_design(result: dict[str, Any]) -> list[list[str]]:
    """A swap's order, schedule, warm-up, salt and fresh-request probe; empty for a plain compare."""
    if not result.get("order"):
        return []
    warm = result.get("warmup") or {}
    salt = result.get("salt") or {}
    schedule = " → ".join(f"{s['model']}·{s['part']}" if s["model"] != "*" else "all models interleaved"
                          for s in result.get("schedule", []))
    rows = [["order", str(result["order"])], ["schedule", schedule or "—"],
            ["warm-up", f"{warm['n']} request(s) per model" if warm.get("n") else
             f"none ({warm.get('why', '--warmup 0')})"],
            ["salt", str(salt.get("value") or salt.get("why") or "—")]]
    probe = result.get("fresh_probe")
    if probe:
        rows.append(["fresh-request probe", str(probe.get("cache") or probe.get("why") or "no verdict")])
    common = result.get("restricted_to_common")
    if common:
        rows.append(["compared on", f"{common['requests']} requests: {common['why']}"])
    return rows
