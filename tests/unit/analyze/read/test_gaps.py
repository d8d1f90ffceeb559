"""Gaps left in the reader's buffers (one segment per record batch, rows left out skipped by mask)
give what one flat array of the kept rows' gaps gives: counts, pools, per-request means, pieces."""

from __future__ import annotations

import numpy as np
import pytest

from suite.analyze.read import gaps as gaps_module
from suite.analyze.read.gaps import Gaps, Segment


def _segmented(seed: int = 5) -> tuple[Gaps, Gaps]:
    """The same gaps twice: in five segments whose warm-up rows keep their gaps in place, and as
    one flat array of the kept rows only (what the analyzer held before)."""
    rng = np.random.default_rng(seed)
    segments, flat_values, flat_counts = [], [], []
    for rows in (7, 1, 0, 12, 30):
        counts = rng.integers(0, 5, rows)
        values = rng.random(int(counts.sum()))
        values[rng.random(values.size) < 0.05] = np.nan
        kept = rng.random(rows) < 0.8
        segments.append(Segment(values, counts, None if kept.all() else kept))
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for i in np.flatnonzero(kept):
            flat_values.append(values[offsets[i]:offsets[i + 1]])
            flat_counts.append(counts[i])
    flat = Gaps(np.concatenate(flat_values), np.concatenate([[0], np.cumsum(flat_counts)]))
    return Gaps.of(segments), flat


def test_segments_with_rows_left_out_equal_the_flat_gaps_of_the_kept_rows() -> None:
    held, flat = _segmented()
    assert held.rows == flat.rows == len(flat.counts)
    assert held.counts.tolist() == flat.counts.tolist()
    assert np.array_equal(held.values, flat.values, equal_nan=True)
    assert np.array_equal(held.per_request_mean(), flat.per_request_mean(), equal_nan=True)
    rng = np.random.default_rng(1)
    for _ in range(5):
        rows = rng.random(held.rows) < 0.5
        assert held.pooled(rows).tolist() == flat.pooled(rows).tolist()
        assert np.array_equal(np.concatenate(list(held.pieces(rows))),
                              flat.values[np.repeat(rows, flat.counts)], equal_nan=True)


@pytest.mark.parametrize("step", [1, 2, 5])
def test_tally_counts_sums_and_samples_each_part_s_finite_gaps_where_they_lie(step: int) -> None:
    held, flat = _segmented()
    rng = np.random.default_rng(3)
    label = rng.integers(0, 3, held.rows)
    parts = [label == k for k in range(3)]
    log = np.concatenate([s.values for s in held.segments])  # every gap, rows left out included
    # which analysed row (or -1: a row left out) each gap of the log belongs to
    owners, base = [], 0
    for seg in held.segments:
        kept = np.ones(seg.counts.size, dtype=bool) if seg.kept is None else seg.kept
        local = np.where(kept, np.cumsum(kept) - 1, -1)
        owners.append(np.repeat(np.where(local >= 0, local + base, -1), seg.counts))
        base += seg.rows
    owner = np.concatenate(owners)
    for rows, (n, total, sample) in zip(parts, held.tally(parts, step), strict=True):
        pool = flat.pooled(rows)
        assert n == pool.size and total == pytest.approx(float(pool.sum()), rel=1e-12)
        picks = np.arange(0, log.size, step)
        mine = picks[(owner[picks] >= 0) & np.isfinite(log[picks])]
        mine = mine[rows[owner[mine]]]
        assert sample.tolist() == log[mine].tolist()  # every step-th gap of the log in the part


def test_pieces_are_views_where_every_row_is_selected(monkeypatch) -> None:
    monkeypatch.setattr(gaps_module, "ROWS_AT_A_TIME", 3)  # stretches of 3 rows
    values = np.arange(10.0)
    gaps = Gaps(values, np.array([0, 2, 4, 4, 7, 9, 10]))
    pieces = list(gaps.pieces(None))
    assert [p.tolist() for p in pieces] == [[0, 1, 2, 3], [4, 5, 6, 7, 8, 9]]
    assert all(np.shares_memory(p, values) for p in pieces)
    some = list(gaps.pieces(np.array([True, False, True, True, False, True])))
    assert [p.tolist() for p in some] == [[0, 1], [4, 5, 6, 9]]


def test_a_mapped_mirror_s_pages_are_released_as_the_gaps_are_read(monkeypatch) -> None:
    monkeypatch.setattr(gaps_module, "RELEASE_BYTES", 200)  # a segment is 96 bytes
    calls: list[int] = []
    segments = [Segment(np.ones(12), np.full(4, 3)) for _ in range(4)]
    gaps = Gaps.of(segments, release=lambda: calls.append(1))
    assert sum(p.size for p in gaps.pieces()) == 48
    assert len(calls) == 2  # after the third segment (288 bytes read), and at the end
    calls.clear()
    assert gaps.per_request_mean().tolist() == [1.0] * 16
    assert len(calls) == 2


@pytest.mark.parametrize("rows", [[True, True, False], [True, False, True]])
def test_a_flat_array_is_pooled_without_a_copy_when_only_rows_without_gaps_are_left_out(rows) -> None:
    values = np.array([0.1, 0.3, 0.5])
    gaps = Gaps(values, np.array([0, 2, 2, 3]))
    pooled = gaps.pooled(np.array(rows))
    assert (pooled is values) == (rows == [True, False, True])


def test_a_pool_that_is_a_view_of_a_read_only_segment_is_described_from_a_copy() -> None:
    """One segment selected whole pools as a view of its (read-only, mapped) buffer: describing it
    must neither fail nor reorder the buffer."""
    from suite.analyze.summarize.groups import _itl_dist

    first, second = np.array([0.5, 0.1, 0.3]), np.array([0.9, 0.2])
    for arr in (first, second):
        arr.flags.writeable = False
    gaps = Gaps.of([Segment(first, np.array([2, 1])), Segment(second, np.array([2]))])
    rows = np.array([True, True, False])
    assert gaps.holds(gaps.pooled(rows))
    got = _itl_dist(gaps, rows)
    assert (got["n"], got["p50"], got["max"]) == (3, 0.3, 0.5)
    assert first.tolist() == [0.5, 0.1, 0.3]
