"""Table layouts shared by the HTML report, the terminal tables and the CSV: one column table each.

A column is data (header, CSV name, how to read it from a summary block, how to print it), so the
three renderers cannot drift apart. A column is typed by the block it reads (``Column[GroupBlock]``,
``Column[Outcome]``, ``Column[ErrorRow]``): a field read under a wrong or renamed name is a type error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from suite.analyze.outputs.fmt import MISSING, number, percent, seconds, times
from suite.analyze.schema import CacheSection, ErrorRow, GroupBlock, Outcome, RunSection, Summary, Value

ALL = "(all)"  # label of the whole-run row; parentheses keep it apart from any model name
B = TypeVar("B")  # the summary block a column reads


@dataclass(frozen=True)
class Column(Generic[B]):
    header: str
    csv: str
    read: Callable[[B], Any]
    show: Callable[[Any], str]


def _count(v: Any) -> str:
    return f"{v:,}"


def _dist(metric: str, q: str) -> Callable[[Any], Any]:
    """Reader of ``block[metric][q]`` (a key chosen at run time, so the block is not typed here)."""
    return lambda block: block[metric][q]


def _value(metric: str) -> Callable[[Any], Any]:
    """Reader of ``block[metric]["value"]`` (a key chosen at run time)."""
    return lambda block: block[metric]["value"]


LATENCY_COLUMNS: tuple[Column[GroupBlock], ...] = (
    Column("requests", "requests", lambda b: b["requests"], _count),
    Column("succeeded", "ok", lambda b: b["ok"], _count),
    Column("error ratio", "error_ratio", lambda b: b["error_ratio"], percent),
    *(Column(f"TTFT {q}", f"ttft_{q}_s", _dist("ttft", q), seconds) for q in ("p50", "p95", "p99")),
    *(Column(f"E2E {q}", f"e2e_{q}_s", _dist("e2e", q), seconds) for q in ("p50", "p95", "p99")),
)

RATE_COLUMNS: tuple[Column[GroupBlock], ...] = (
    Column("TPOT p50", "tpot_p50_s", _dist("tpot", "p50"), seconds),
    Column("TPOT p95", "tpot_p95_s", _dist("tpot", "p95"), seconds),
    Column("ITL p50", "itl_p50_s", _dist("itl", "p50"), seconds),
    Column("ITL p95", "itl_p95_s", _dist("itl", "p95"), seconds),
    Column("output tok/s", "output_tokens_per_s", _value("output_tokens_per_s"), number),
    Column("req/s", "requests_per_s", _value("requests_per_s"), lambda v: number(v, 2)),
)

CACHE_COLUMNS: tuple[Column[Outcome], ...] = (
    Column("hits", "cache_hits", lambda b: b["hits"], _count),
    Column("misses", "cache_misses", lambda b: b["misses"], _count),
    Column("failed", "cache_failed", lambda b: b["failed"], _count),
    Column("hit ratio", "cache_hit_ratio", _value("hit_ratio"), percent),
    Column("hit E2E p50", "hit_e2e_p50_s", lambda b: b["hit"]["e2e"]["p50"], seconds),
    Column("miss E2E p50", "miss_e2e_p50_s", lambda b: b["miss"]["e2e"]["p50"], seconds),
    Column("speedup p50", "speedup_e2e_p50", lambda b: b["speedup"]["e2e_p50"]["value"], times),
    Column("speedup p95", "speedup_e2e_p95", lambda b: b["speedup"]["e2e_p95"]["value"], times),
)

CACHE_DETAIL_COLUMNS: tuple[Column[Outcome], ...] = (
    Column("hit E2E p95", "hit_e2e_p95_s", lambda b: b["hit"]["e2e"]["p95"], seconds),
    Column("miss E2E p95", "miss_e2e_p95_s", lambda b: b["miss"]["e2e"]["p95"], seconds),
    Column("hit TTFT p50", "hit_ttft_p50_s", lambda b: b["hit"]["ttft"]["p50"], seconds),
    Column("miss TTFT p50", "miss_ttft_p50_s", lambda b: b["miss"]["ttft"]["p50"], seconds),
    Column("TTFT speedup p50", "speedup_ttft_p50", lambda b: b["speedup"]["ttft_p50"]["value"], times),
    Column("TTFT speedup p95", "speedup_ttft_p95", lambda b: b["speedup"]["ttft_p95"]["value"], times),
)

ERROR_COLUMNS: tuple[Column[ErrorRow], ...] = (
    Column("kind", "kind", lambda r: r["kind"], str),
    Column("count", "count", lambda r: r["count"], _count),
    Column("share of failures", "share", lambda r: r["share"], percent),
    Column("HTTP status", "statuses", lambda r: r["statuses"], lambda v: ", ".join(map(str, v)) or "—"),
    Column("example", "example", lambda r: r["example"], lambda v: "—" if v is None else str(v)),
)


def model_blocks(summary: Summary) -> list[tuple[str, GroupBlock]]:
    """(label, block) per model, then ``ALL`` for the whole run."""
    return [*summary["models"].items(), (ALL, summary["overall"])]


def cache_blocks(summary: Summary) -> list[tuple[str, Outcome]]:
    return [*summary["cache"]["models"].items(), (ALL, summary["cache"])]


def cells(columns: tuple[Column[B], ...], block: B) -> list[str]:
    """A row as display strings; a value of None shows as the em dash (never as 0)."""
    out = []
    for col in columns:
        raw = col.read(block)
        out.append("—" if raw is None else col.show(raw))
    return out


def csv_rows(summary: Summary,
             extra: tuple[Column[GroupBlock], ...] = ()) -> tuple[list[str], list[list[Any]]]:
    """Header and raw-valued rows (every model and cache column, then ``extra`` model columns whose
    CSV name is not already taken) for ``per_model.csv``."""
    base = LATENCY_COLUMNS + RATE_COLUMNS
    taken = {c.csv for c in base}
    model_columns = base + tuple(c for c in extra if c.csv not in taken)
    cache_columns = CACHE_COLUMNS + CACHE_DETAIL_COLUMNS
    header = ["model", *(c.csv for c in model_columns), *(c.csv for c in cache_columns)]
    caches = dict(cache_blocks(summary))
    rows = []
    for label, block in model_blocks(summary):
        values = [c.read(block) for c in model_columns] + [c.read(caches[label]) for c in cache_columns]
        rows.append([label, *values])
    return header, rows


def run_rows(run: RunSection) -> list[tuple[str, str]]:
    """The run's facts as (label, text) pairs: from run.json when present, else what the log shows."""
    meta = run["meta"]
    rows = [("run directory", run["run_dir"]), ("records", f"{run['records']:,}"),
            ("target URLs in the records", ", ".join(run["targets"]) or "—"),
            ("measured window", seconds(run["window"]["seconds"])),
            ("workers / users seen", f"{run['workers']} / {run['users_seen']}")]
    if "why" in meta:
        return [*rows, ("run metadata", meta["why"])]
    labels = (("run_id", "run id", str), ("target", "target URL", str), ("corpus", "corpus file", str),
              ("corpus_sha256", "corpus sha256", str), ("users", "users", str),
              ("duration_s", "duration limit", seconds), ("requests_in_corpus", "requests in corpus", str))
    rows += [(label, MISSING if meta.get(k) is None else show(meta[k])) for k, label, show in labels]
    return rows + [(f"version: {k}", str(v)) for k, v in sorted(meta.get("versions", {}).items())]


def cache_facts(cache: CacheSection) -> list[tuple[str, str]]:
    """Run-level cache facts; a missing one shows the em dash and its reason."""
    def shown(node: Value, render: Any) -> str:
        return render(node["value"]) if node["value"] is not None else f"— ({node['why']})"

    return [
        ("observed hit ratio", shown(cache["hit_ratio"], percent)),
        ("corpus repeat ratio", shown(cache["corpus_repeat_ratio"], percent)),
        ("end-to-end gain bound 1/(1−h)", shown(cache["gain_bound"], times)),
        ("successful requests with a cache signal",
         f"{cache['requests_with_signal']:,} ({percent(cache['signal_coverage'])})"),
        ("failed requests (neither hit nor miss)",
         f"{cache['failed']:,} ({cache['failed_with_signal']:,} carried a signal)"),
        *([("cache signal", detection_fact(cache["detection"]))] if "detection" in cache else []),
        *confusion_rows(cache["confusion"]),
        *miss_facts(cache.get("repeat_misses", {"why": "not computed (a summary from before it)"})),
    ]


def detection_fact(det: Mapping[str, Any]) -> str:
    """Which signal attributed hits (docs/gateways.md), or why none, with the hint when hits were
    probably missed."""
    how = f"rule {det['rule']}" + (", re-attributed from recorded headers" if det["reattributed"] else "")
    if det["signal_found"] is None:
        hint = f". {det['hint']}" if "hint" in det else ""
        return f"{MISSING} ({det.get('why', 'none found')}; {how}){hint}"
    preset = f" ({det['preset']} preset)" if det["preset"] else ""
    return f"{det['signal_found']}{preset} on {det['requests_with_signal']:,} requests; {how}"


def confusion_rows(confusion: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Corpus repeat/fresh against target hit/miss counts, or why they are unavailable."""
    if "why" in confusion:
        return [("repeats vs hits", f"— ({confusion['why']})")]
    return [(f"{name.replace('_', ' ')} (corpus vs target)", f"{count:,}")
            for name, count in confusion.items()]


def _shown(node: Mapping[str, Any], render: Any) -> str:
    return render(node["value"]) if node.get("value") is not None else f"{MISSING} ({node.get('why')})"


def miss_facts(explained: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Why repeats missed: one line per class with its share, the in-run gap, coalescing's points."""
    if "why" in explained:
        return [("repeat misses explained", f"{MISSING} ({explained['why']})")]
    rows = [("misses: first-seen / repeat",
             f"{explained['first_seen_misses']:,} / {explained['repeat_misses']:,}"
             + (f" ({explained['without_key']:,} without a key)" if explained["without_key"] else ""))]
    for name, label in (("in_flight", "first copy still in flight"),
                        ("first_copy_failed", "every earlier copy failed"),
                        ("after_finish", "after a copy finished (eviction, TTL, keying)"),
                        ("expired", "after the cache TTL")):
        node = explained[name]
        text = f"{node['count']:,}" + (f" ({percent(node['share'])})" if node["share"] is not None else "") \
            if node["count"] is not None else f"{MISSING} ({node['why']})"
        rows.append((f"repeat misses: {label}", text))
    gap = explained["gap"]
    rows.append(("hit ratio possible in this run's order vs observed",
                 f"{_shown(gap['theoretical_in_run'], percent)} vs {_shown(gap['observed'], percent)}"
                 + (f" ({gap['points']['value']:.1f} points)" if gap["points"]["value"] is not None else "")))
    rows.append(("coalescing in-flight duplicates would add", _shown(
        explained["coalescing_would_add"], lambda v: f"{v:.1f} points")))
    return rows
