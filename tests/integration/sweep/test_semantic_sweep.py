"""``llmsuite sweep semantic`` end to end on the bundled mock (``--cache-mode semantic``, a fresh
process per threshold, fast profiles), a known-answer test: at each threshold, the false hits the
analysis counts equal the answers the mock's own timing log says it served for a request of another
paraphrase group — judged here from the corpus, without the analyzer's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from suite import api
from suite.cli import cli
from tests.integration.sweep.test_run import PROFILES


def groups(corpus: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """id → root of its variant_of / repeat_of chain; key → ids."""
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    parent = {r["id"]: r.get("variant_of") or r.get("repeat_of") for r in rows}

    def root(i: str) -> str:
        while parent.get(i):
            i = parent[i]
        return i

    by_key: dict[str, set[str]] = {}
    for r in rows:
        by_key.setdefault(r["key"], set()).add(r["id"])
    return {i: root(i) for i in parent}, by_key


def served_wrongly(log: Path, group: dict[str, str], by_key: dict[str, set[str]]) -> tuple[int, int]:
    """(hits the mock logged, of them answers from another group)."""
    lines: list[dict[str, Any]] = [json.loads(x) for x in log.read_text().splitlines()]
    hits = [x for x in lines if x["cache"] == "hit" and x["request_id"] in group]
    wrong = [x for x in hits if group[x["request_id"]] not in {group[i] for i in by_key[x["served_key"]]}]
    return len(hits), len(wrong)


def test_semantic_sweep_counts_what_the_mock_served_wrongly(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    api.synthesize("ops-assistant", corpus, n=40, seed=3, repeat_ratio=0.1, models={"gpt-4o": 1.0},
                   overrides={"max_tokens": {"choices": [8]}, "near_duplicate_ratio": 0.3,
                              "hard_negative_ratio": 0.3})
    (tmp_path / "profiles.yaml").write_text(PROFILES)
    out = tmp_path / "sweep"
    res = CliRunner().invoke(cli, ["sweep", "semantic", "--thresholds", "0.8,0.98", "-c", str(corpus),
                                   "-u", "4", "-d", "60", "-o", str(out),
                                   "--profiles", str(tmp_path / "profiles.yaml"), "--n-boot", "200"])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "sweep.json").read_text())
    assert result["kind"] == "semantic" and [s["threshold"] for s in result["steps"]] == [0.8, 0.98]
    group, by_key = groups(corpus)
    for step in result["steps"]:
        hits, wrong = served_wrongly(out / f"mock_timing-{step['threshold']:g}.jsonl", group, by_key)
        assert step["hits"] == hits
        assert step["false_hits"] == wrong
    low, high = result["steps"]
    assert low["false_hits"] >= 1 and low["paraphrase_hits"] >= 1  # the low threshold admits both
    assert high["false_hits"] <= low["false_hits"] and high["hit_ratio"]["value"] <= low["hit_ratio"]["value"]
    assert "operating_point" in result and "threshold" in result["operating_point"]
    for name in ("sweep.csv", "sweep.png", "sweep.html"):
        assert (out / name).stat().st_size > 0
