"""Auditable cache attribution: the signal ``auto`` found, the hint when none came on a repeating
corpus, and ``analyze --cache-detect`` re-attributing a run from its recorded headers (with the
cases it must refuse)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from suite.analyze import analyze_run
from suite.analyze.read.load import load_run
from suite.analyze.summarize.cachesignal import reattribute
from suite.cachesignal import allowlist, parse_rule
from suite.errors import AnalysisError
from suite.records import RunMeta
from tests.unit.analyze.logs import rec, run_dir


def meta(rule: str = "auto", extra_names: tuple[str, ...] = ()) -> RunMeta:
    names = [*allowlist(parse_rule(rule)), *extra_names]
    return RunMeta(run_id="t", target="http://127.0.0.1:9", corpus="", corpus_sha256="", users=1,
                   duration_s=0.0, started=1000.0,
                   extra={"cache_headers": {"rule": rule, "allowlist": names}})


def litellm_log() -> list[dict[str, Any]]:
    """A LiteLLM-like trace run with ``auto``: 3 repeats served from cache (key header, no verdict
    header), 5 misses with no header at all, 1 refused connection, 1 warm-up hit."""
    hits = [rec(i, repeat=True, e2e=0.01, cache="hit",
                cache_headers={"x-litellm-cache-key": f"k{i}"}) for i in range(3)]
    misses = [rec(i, repeat=False, e2e=0.3) for i in range(3, 8)]
    refused = [rec(8, ok=False, status=None, e2e=0.001, repeat=False,
                   error={"kind": "connect", "message": "refused"})]
    warm = [rec(9, warmup=True, e2e=0.01, cache="hit", cache_headers={"x-litellm-cache-key": "w"})]
    return hits + misses + refused + warm


def test_auto_names_the_preset_signal_it_found(tmp_path: Path) -> None:
    det = analyze_run(run_dir(tmp_path, litellm_log(), meta()))["cache"]["detection"]
    assert det == {"rule": "auto", "reattributed": False, "requests_with_signal": 3,
                   "signal_found": "x-litellm-cache-key", "preset": "litellm",
                   "signals": {"x-litellm-cache-key": 3}}


def test_reattribute_with_presence_rule_makes_absences_misses(tmp_path: Path) -> None:
    run = reattribute(load_run(run_dir(tmp_path, litellm_log(), meta())), "present:x-litellm-cache-key")
    cache = list(run.requests["cache"].astype(object))
    assert cache[:3] == ["hit"] * 3 and cache[3:8] == ["miss"] * 5
    assert cache[8] is None or cache[8] != cache[8]  # no response, so no verdict (NaN/None)
    summary = analyze_run(tmp_path, cache_detect="present:x-litellm-cache-key")
    det = summary["cache"]["detection"]
    assert det["reattributed"] and det["rule"] == "present:x-litellm-cache-key"
    assert det["requests_with_signal"] == 8 and det["signals"] == {"x-litellm-cache-key": 8}
    assert summary["cache"]["hit_ratio"]["value"] == pytest.approx(3 / 8)


def test_reattribute_with_presence_rule_leaves_error_answers_without_verdict(tmp_path: Path) -> None:
    """A 400 without the key header is neither hit nor miss (as the driver records it)."""
    records = [*litellm_log()[:8], rec(8, ok=False, status=400, e2e=0.01, repeat=False,
                                      error={"kind": "http_400", "message": "bad"})]
    run = reattribute(load_run(run_dir(tmp_path, records, meta())), "present:x-litellm-cache-key")
    cache = list(run.requests["cache"].astype(object))
    assert cache[:3] == ["hit"] * 3 and cache[3:8] == ["miss"] * 5
    assert cache[8] is None or cache[8] != cache[8]


def test_reattribute_with_a_header_value_rule(tmp_path: Path) -> None:
    records = [rec(0, cache_headers={"x-cache": "TCP_HIT"}, cache=None),
               rec(1, cache_headers={"x-cache": "TCP_MISS"}, cache=None),
               rec(2, cache=None)]
    run = reattribute(load_run(run_dir(tmp_path, records, meta())), "header:X-Cache=tcp_hit")
    cache = list(run.requests["cache"].astype(object))
    assert cache[:2] == ["hit", "miss"] and not isinstance(cache[2], str)


def test_no_signal_on_a_repeating_corpus_says_hits_were_probably_missed(tmp_path: Path) -> None:
    records = [rec(i, repeat=i % 2 == 1, e2e=0.1) for i in range(6)]
    det = analyze_run(run_dir(tmp_path, records, meta()))["cache"]["detection"]
    assert det["signal_found"] is None and det["requests_with_signal"] == 0
    assert "3 requests repeat an earlier one" in det["hint"]
    assert "--target-preset" in det["hint"] and "present:NAME" in det["hint"]
    assert "litellm" in det["hint"] and "vllm" not in det["hint"]


def test_none_rule_gives_no_hint(tmp_path: Path) -> None:
    records = [rec(i, repeat=True, e2e=0.1) for i in range(2)]
    det = analyze_run(run_dir(tmp_path, records, meta("none")))["cache"]["detection"]
    assert det["why"].startswith("cache detection was off") and "hint" not in det


def test_json_verdicts_are_counted_as_the_json_field(tmp_path: Path) -> None:
    records = [rec(0, cache="hit"), rec(1, cache="miss", cache_headers={"x-cache": "MISS"})]
    det = analyze_run(run_dir(tmp_path, records, meta()))["cache"]["detection"]
    assert det["signals"] == {"json:cached": 1, "x-cache": 1}


def test_a_run_without_recorded_headers_still_counts_but_cannot_say_which(tmp_path: Path) -> None:
    det = analyze_run(run_dir(tmp_path, [rec(0, cache="hit"), rec(1, cache="miss")]))["cache"]["detection"]
    assert det["requests_with_signal"] == 2 and det["signal_found"] is None
    assert "recorded no cache headers" in det["why"]


@pytest.mark.parametrize("rule, recorded, match", [
    ("json:meta.cached", meta(), "reads the response body"),
    ("present:x-my-hit", meta(), "'x-my-hit' was not recorded by this run \\(its records keep "
                                 "x-litellm-cache-key"),
    ("header:", meta(), "is not a cache rule|needs a header name"),
    ("auto", None, "recorded no cache headers"),
])
def test_reattribution_refuses_what_it_cannot_derive(tmp_path: Path, rule: str,
                                                     recorded: RunMeta | None, match: str) -> None:
    run = load_run(run_dir(tmp_path, [rec(0)], recorded))
    with pytest.raises(AnalysisError, match=match):
        reattribute(run, rule)


def test_a_header_the_run_named_is_reattributable(tmp_path: Path) -> None:
    records = [rec(0, cache_headers={"x-my-hit": "1"}), rec(1)]
    run = reattribute(load_run(run_dir(tmp_path, records, meta("present:x-my-hit"))), "present:X-My-Hit")
    assert list(run.requests["cache"].astype(object)) == ["hit", "miss"]


def test_the_report_line_names_the_signal_or_the_hint() -> None:
    from suite.analyze.outputs.rows import detection_fact

    found = {"rule": "auto", "reattributed": False, "requests_with_signal": 1200,
             "signal_found": "helicone-cache", "preset": "helicone", "signals": {"helicone-cache": 1200}}
    assert detection_fact(found) == "helicone-cache (helicone preset) on 1,200 requests; rule auto"
    none = {"rule": "auto", "reattributed": True, "requests_with_signal": 0, "signal_found": None,
            "preset": None, "signals": {}, "why": "no response carried a signal", "hint": "hits were..."}
    line = detection_fact(none)
    assert "re-attributed" in line and line.endswith("hits were...")


def test_cli_analyze_cache_detect_reattributes_and_refuses_in_one_line(tmp_path: Path) -> None:
    import orjson
    from click.testing import CliRunner

    from suite.cli import cli

    folder = run_dir(tmp_path, litellm_log(), meta())
    got = CliRunner().invoke(cli, ["analyze", str(folder), "--cache-detect", "present:x-litellm-cache-key"])
    assert got.exit_code == 0, got.output
    det = orjson.loads((folder / "summary.json").read_bytes())["cache"]["detection"]
    assert det["reattributed"] and det["requests_with_signal"] == 8
    bad = CliRunner().invoke(cli, ["analyze", str(folder), "--cache-detect", "present:x-nope"])
    assert bad.exit_code == 6 and "'x-nope' was not recorded by this run" in bad.output
