"""``RunSamples.repeat`` from the request log and ``concat`` of a model measured in segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suite.compare import Boot, compare_samples
from suite.compare.read.samples import concat, corpus_identity, load_samples
from suite.errors import AnalysisError
from tests.unit.compare.fakes import samples
from tests.unit.compare.outputs.test_files import record, write_run


def test_repeat_is_read_from_the_log_and_unknown_where_missing(tmp_path: Path) -> None:
    recs = [dict(record(i, "gpt-4o", 1.0, 0.5), repeat=i % 2 == 1) for i in range(4)]
    recs[3].pop("repeat")
    run = load_samples(write_run(tmp_path / "r", recs))
    assert run.repeat[:3].tolist() == [0.0, 1.0, 0.0]
    assert np.isnan(run.repeat[3])
    assert np.isnan(samples("x", np.ones(3)).repeat).all()  # built without it: unknown, not "first seen"
    assert run.subset(np.array([False, True, False, False])).repeat.tolist() == [1.0]


def test_concat_sums_the_segment_windows() -> None:
    a1 = samples("a1", np.ones(10), ids=[f"a{i}" for i in range(10)], seconds=5.0, repeat=np.zeros(10))
    a2 = samples("a2", np.full(30, 2.0), ids=[f"b{i}" for i in range(30)], seconds=15.0, repeat=np.ones(30))
    joined = concat([a1, a2], "gpt-4o")
    assert joined.label == "gpt-4o"
    assert joined.seconds == 20.0  # not first start → last end, which would span the other model's blocks
    assert joined.ids.size == 40 and joined.values["e2e"][-1] == 2.0
    assert joined.repeat.sum() == 30
    assert [s["window_s"] for s in joined.meta["segments"]] == [5.0, 15.0]
    assert corpus_identity(joined)[0] == "c0ffee"  # every segment replayed the same corpus
    b = samples("B", np.ones(40), ids=list(joined.ids), seconds=40.0)
    rows = compare_samples([joined, b], Boot(n_boot=200))["comparisons"][0]["groups"][0]["metrics"]
    rps = next(r for r in rows if r["metric"] == "requests_per_s")
    assert (rps["a"], rps["b"]) == (2.0, 1.0)


def test_concat_of_different_corpora_gets_a_joint_identity() -> None:
    one, two = samples("1", np.ones(3), sha="aaa"), samples("2", np.ones(3), sha="bbb")
    joined = concat([one, two], "m")
    assert corpus_identity(joined)[0] not in (None, "aaa", "bbb")
    assert corpus_identity(concat([two, one], "m"))[0] == corpus_identity(joined)[0]
    assert corpus_identity(concat([one, samples("3", np.ones(3), sha=None)], "m"))[0] is None
    with pytest.raises(AnalysisError, match="no segment"):
        concat([], "m")
