"""report.html answer first: provenance banner, answers, lead charts, then closed folds; the banner
says what the target was; "not measured" is split into expected and really missing."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from suite import api
from suite.analyze import analyze_and_write
from suite.analyze.summarize.unmeasured import RunShape, classify, is_expected
from suite.records import RunMeta
from tests.unit.analyze.logs import cache_log, rec, run_dir

CLOSED_LOOP = "closed-loop run (no scheduled send times)"


def _meta(target: dict[str, Any] | None = None) -> RunMeta:
    extra = {"target": target} if target is not None else {}
    return RunMeta(run_id="r1", target="http://127.0.0.1:9", corpus="/data/finance/corpus.jsonl",
                   corpus_sha256="x", users=4, duration_s=30.0, started=1000.0, requests_in_corpus=12,
                   extra=extra)


def _page(tmp_path: Path, meta: RunMeta | None = None) -> str:
    analyze_and_write(run_dir(tmp_path, cache_log(), meta))
    return (tmp_path / "report.html").read_text(encoding="utf-8")


def _banner(page: str) -> str:
    return page[page.index('<ul class="prov">'):page.index("</header>")]


def test_answers_then_charts_then_closed_folds(tmp_path: Path) -> None:
    page = _page(tmp_path)
    answers, charts = page.index('<ul class="answers">'), page.index('<section class="charts">')
    first_fold = page.index("<details>")
    assert page.index('<ul class="prov">') < answers < charts < first_fold
    lead = page[charts:first_fold]
    # latency per model, cache hits vs misses, throughput; the speedup chart and the histogram fold away
    assert re.findall(r"<figcaption>([^<]*)</figcaption>", lead) == [
        "Latency CDF per model (TTFT, E2E)", "End-to-end latency of cache hits vs misses",
        "Throughput over time"]
    assert page.count("data:image/png;base64,") == 5  # no chart lost, two are in folds
    assert "<details open" not in page
    for title in ("Latency and throughput per model", "Cache", "Tokens and cost", "Run metadata",
                  "Metric definitions"):
        assert f"<summary>{title}" in page


def test_one_cache_table_with_each_speedup_once(tmp_path: Path) -> None:
    page = _page(tmp_path)
    for header in ("E2E p50 speedup (95 % CI)", "TTFT p95 speedup (95 % CI)", "hit E2E p95", "miss TTFT p50"):
        assert page.count(f"<td>{header}</td>") == 1


def test_paths_only_in_run_metadata(tmp_path: Path) -> None:
    page = _page(tmp_path, _meta())
    assert "corpus.jsonl, 12 requests" in _banner(page)
    assert "/data/finance" not in _banner(page)
    slowest = page[page.index("<summary>Slowest"):page.index("<summary>Target monitoring")]
    # the reason prompts are missing is said once, not in every row
    assert slowest.count("corpus /data/finance/corpus.jsonl not found") == 1
    assert "/data/finance/corpus.jsonl" in page[page.index("<summary>Run metadata"):]


def test_banner_names_the_bundled_mock(tmp_path: Path) -> None:
    mock = {"url": "http://127.0.0.1:9", "preset": None,
            "bundled_mock": {"profiles": ["gpt-4o", "gpt-5-mini"], "cache": "redis", "seed": 7}}
    banner = _banner(_page(tmp_path, _meta(mock)))
    assert ("<li class=warn><b>target:</b> bundled mock server (simulated models; profiles: gpt-4o, "
            "gpt-5-mini)</li>") in banner
    assert "<b>cache backend:</b> redis (the mock&#x27;s)" in banner
    assert "mock seed 7" in banner


def test_banner_for_a_real_target_and_for_an_unrecorded_one(tmp_path: Path) -> None:
    real = _banner(_page(tmp_path / "real", _meta({"url": "https://gw.example/v1", "preset": "litellm"})))
    assert "<b>target:</b> https://gw.example/v1, gateway preset litellm</li>" in real
    assert "bundled mock" not in real
    assert "the target&#x27;s own" in real
    unknown = _banner(_page(tmp_path / "old", _meta()))
    assert "http://127.0.0.1:9 (not recorded whether it was the bundled mock)" in unknown
    assert "backend not recorded" in unknown
    bare = _banner(_page(tmp_path / "bare"))  # no run.json: said, as a warn fact
    assert "<li class=warn><b>run.json:</b>" in bare


def test_missing_items_are_grouped(tmp_path: Path) -> None:
    summary, _ = analyze_and_write(run_dir(tmp_path, cache_log()))
    by_path = {m["path"]: m for m in summary["missing"]}
    assert by_path["overall.lateness"] == {"path": "overall.lateness", "why": CLOSED_LOOP, "expected": True}
    assert by_path["cache.model_comparison"]["expected"] is True
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    real, normal = page.index("<h3>Really missing</h3>"), page.index("<h3>Expected for this kind of run</h3>")
    # one line per reason, naming every value it left unmeasured
    line = f"<li>{CLOSED_LOOP} — overall.lateness, overall.e2e_from_scheduled, overall.ttft_from_scheduled, "
    assert real < normal < page.index(line)
    assert page.count(CLOSED_LOOP) == 1
    counts = re.search(r"Not measured \((\d+) really missing, (\d+) expected", page)
    assert counts is not None
    assert int(counts[1]) == sum(not m["expected"] for m in summary["missing"])
    assert int(counts[2]) == sum(m["expected"] for m in summary["missing"])


@pytest.mark.parametrize(("why", "streamed", "expected"), [
    (CLOSED_LOOP, True, True),
    ("one model in this run: nothing to compare", True, True),
    ("no successful streaming requests in this run", False, True),
    ("no successful streaming requests in this run", True, False),  # they streamed and all failed
    ("no record carries the corpus request's key (logs written before ...)", False, False),
    ("'x' is not in the price table p.yaml; add it there", False, False),
])
def test_expected_depends_on_the_kind_of_run(why: str, streamed: bool, expected: bool) -> None:
    assert is_expected(why, RunShape(streamed=streamed)) is expected
    assert classify([("a.b", why)], RunShape(streamed=streamed)) == [
        {"path": "a.b", "why": why, "expected": expected}]


def test_failed_streaming_requests_leave_ttft_really_missing(tmp_path: Path) -> None:
    records = [rec(1, stream=True, ok=False, status=500, error={"kind": "http_5xx", "message": "x"}),
               rec(2, e2e=0.2)]
    summary, _ = analyze_and_write(run_dir(tmp_path, records))
    ttft = [m for m in summary["missing"] if m["path"] == "overall.ttft"]
    assert ttft and ttft[0]["expected"] is False


def test_bundled_mock_meta_reads_the_mocks_health(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(body: bytes) -> Any:
        return lambda url, timeout: io.BytesIO(body)

    monkeypatch.setattr(api.urllib.request, "urlopen", answer(
        b'{"status": "ok", "models": ["gpt-4o"], "cache": "memory", "seed": 7}'))
    assert api.bundled_mock_meta("http://127.0.0.1:9") == {"profiles": ["gpt-4o"], "cache": "memory",
                                                           "seed": 7}
    monkeypatch.setattr(api.urllib.request, "urlopen", answer(b"not json"))
    assert api.bundled_mock_meta("http://127.0.0.1:9") == {"profiles": None, "cache": None, "seed": None}


def test_banner_says_which_log_was_read_and_why_a_mirror_was_passed_over() -> None:
    from suite.analyze.outputs.provenance import sent_facts

    totals = {"sent": 3, "ok": 3, "failed": 0}
    read = {"format": "arrow-ipc", "files": ["/r/requests.arrows"]}
    facts = {f.label: f for f in sent_facts({"run": {"meta": {}, "log_source": read}, "totals": totals})}
    assert facts["read from"].value == "columnar (Arrow IPC)" and not facts["read from"].warn
    skipped = {"format": "jsonl", "files": ["/r/requests.jsonl"], "notes": ["requests.arrows: cut short"]}
    facts = {f.label: f for f in sent_facts({"run": {"meta": {}, "log_source": skipped}, "totals": totals})}
    assert facts["read from"].value == "JSONL (requests.arrows: cut short)" and facts["read from"].warn
    assert "read from" not in {f.label for f in sent_facts({"run": {"meta": {}}, "totals": totals})}
