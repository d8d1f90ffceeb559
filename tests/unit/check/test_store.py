"""The baseline store: a saved baseline is a whole copy found again only by the same preset, target
and corpus; the newest wins; nothing is overwritten or half-written."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from suite.check.store import BASELINE_FILE, Identity, find_latest, identity_of, save_baseline
from suite.errors import AnalysisError, SpecError


def _run(root: Path, name: str, url: str = "http://127.0.0.1:9000", sha: str | None = "aa" * 32) -> Path:
    run = root / "reports" / name
    run.mkdir(parents=True)
    meta = {"run_id": name, "corpus_sha256": sha, "target": url,
            "extra": {"target": {"url": url + "/", "api_key": "<redacted>"}}}
    (run / "run.json").write_text(json.dumps(meta))
    (run / "summary.json").write_text("{}")
    (run / "requests.jsonl").write_text('{"id": "r1"}\n')
    (run / "requests.w1.jsonl").write_text('{"id": "r2"}\n')
    (run / "requests.w1.arrows").write_bytes(b"")  # the columnar mirror of a shard travels with it
    (run / "report.html").write_text("<html>")
    return run


def _at(minute: int) -> datetime:
    return datetime(2026, 1, 2, 3, minute, tzinfo=timezone.utc)


def test_identity_comes_from_run_json(tmp_path: Path) -> None:
    run = _run(tmp_path, "r1")
    assert identity_of(run, "smoke") == Identity("smoke", "http://127.0.0.1:9000", "aa" * 32)
    assert Identity("smoke", None, None).problem() == "run.json has no target URL and no corpus sha256"
    with pytest.raises(AnalysisError, match="no readable run.json"):
        identity_of(tmp_path, "smoke")


def test_save_copies_the_log_and_metadata_not_the_page(tmp_path: Path) -> None:
    run = _run(tmp_path, "r1")
    store = tmp_path / "baselines"
    saved = save_baseline(run, store, identity_of(run, "smoke"), now=_at(1))
    assert saved == store / "smoke" / "r1"
    assert sorted(p.name for p in saved.iterdir()) == [
        BASELINE_FILE, "requests.jsonl", "requests.w1.arrows", "requests.w1.jsonl", "run.json",
        "summary.json"]
    record = json.loads((saved / BASELINE_FILE).read_text())
    assert record["preset"] == "smoke" and record["target"] == "http://127.0.0.1:9000"
    assert record["source"] == str(run) and record["saved_at"].startswith("2026-01-02T03:01:00")
    with pytest.raises(SpecError, match="never overwritten"):
        save_baseline(run, store, identity_of(run, "smoke"))
    assert not list((store / "smoke").glob(".*"))  # no partial copy left behind


def test_a_run_without_a_log_cannot_be_a_baseline(tmp_path: Path) -> None:
    run = _run(tmp_path, "r1")
    for shard in run.glob("requests*.jsonl"):
        shard.unlink()
    with pytest.raises(AnalysisError, match="no request log"):
        save_baseline(run, tmp_path / "b", identity_of(run, "smoke"))


def test_latest_is_the_newest_of_the_same_preset_target_and_corpus(tmp_path: Path) -> None:
    store = tmp_path / "baselines"
    for name, minute, kw in (("old", 1, {}), ("new", 5, {}), ("other-corpus", 9, {"sha": "bb" * 32}),
                             ("other-target", 9, {"url": "http://10.0.0.1:9000"})):
        run = _run(tmp_path, name, **kw)
        save_baseline(run, store, identity_of(run, "smoke"), now=_at(minute))
    load = _run(tmp_path, "load-run")
    save_baseline(load, store, identity_of(load, "load"), now=_at(30))
    me = Identity("smoke", "http://127.0.0.1:9000", "aa" * 32)
    found, why = find_latest(store, me)
    assert found == store / "smoke" / "new" and "03:05:00" in why
    found, why = find_latest(store, Identity("smoke", "http://127.0.0.1:9000", "cc" * 32))
    assert found is None and "no baseline yet for this target" in why and "the 4 under" in why
    found, why = find_latest(store, Identity("stress", "http://127.0.0.1:9000", "aa" * 32))
    assert found is None and why.startswith("no baseline yet: nothing saved under")
    found, why = find_latest(store, Identity("smoke", None, "aa" * 32))
    assert found is None and "no target URL" in why


def test_an_unreadable_or_foreign_marker_is_not_a_baseline(tmp_path: Path) -> None:
    store = tmp_path / "baselines"
    (store / "smoke" / "junk").mkdir(parents=True)
    (store / "smoke" / "junk" / BASELINE_FILE).write_text("{not json")
    (store / "smoke" / "other").mkdir()
    (store / "smoke" / "other" / BASELINE_FILE).write_text(json.dumps(
        {"schema": "something/1", "target": "http://127.0.0.1:9000", "corpus_sha256": "aa" * 32}))
    found, _ = find_latest(store, Identity("smoke", "http://127.0.0.1:9000", "aa" * 32))
    assert found is None
