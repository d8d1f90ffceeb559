"""Every inter-token gap of the analysed requests, left in the buffers the reader made.

Why not one array: at 10M records the gaps are 160M float64 (1.3 GB). Copied out of a mapped
mirror (suite.logcolumns), or out of the JSONL reader's table, they were held twice while loading
and the copy for the whole summary, the largest single item of the analyzer's peak. Left in place,
each record batch's gaps are one ``Segment``; a mapped mirror's pages are dropped from the resident
set every ``RELEASE_BYTES`` read (``release``), so reading them never holds them all.

Rows left out of the analysis (warm-up) keep their gaps in the segment and are skipped by mask:
copying a batch without them would be the copy this module avoids. Gaps are always visited in row
order, so a pool gathered from segments is the same array, value for value, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from suite.runtime import all_finite

ROWS_AT_A_TIME = 1 << 18  # log rows visited at a time: ~4M gaps of 16 per request, a few MB of mask
RELEASE_BYTES = 64 << 20  # gaps read between two releases of a mapped mirror's pages


@dataclass(frozen=True)
class Segment:
    """The gaps of consecutive log rows (a record batch): ``values`` in row order, ``counts`` per
    log row, rows left out included; ``kept`` says which log rows are analysed (None: all)."""

    values: np.ndarray
    counts: np.ndarray
    kept: np.ndarray | None = None

    @cached_property
    def offsets(self) -> np.ndarray:
        out = np.zeros(self.counts.size + 1, dtype=np.int64)
        np.cumsum(self.counts, out=out[1:])
        return out

    @cached_property
    def rows(self) -> int:
        """Analysed rows (the frame's rows this segment holds)."""
        return self.counts.size if self.kept is None else int(np.count_nonzero(self.kept))

    def log_rows(self, rows: np.ndarray | None) -> np.ndarray | None:
        """A mask over this segment's analysed rows as a mask over its log rows (None: all kept)."""
        if self.kept is None:
            return rows
        full = np.zeros(self.counts.size, dtype=bool)
        full[self.kept] = True if rows is None else rows
        return full


class Gaps:
    """Row i's gaps (i a row of the frame) are in one segment, in row order across segments."""

    def __init__(self, values: np.ndarray, offsets: np.ndarray) -> None:
        """One flat array: row i's gaps are ``values[offsets[i]:offsets[i + 1]]``."""
        offsets = np.asarray(offsets, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if offsets[0] != 0 or offsets[-1] != values.size:
            values = values[int(offsets[0]):int(offsets[-1])]
        self.segments: list[Segment] = [Segment(values, np.diff(offsets))]
        self.release: Callable[[], None] | None = None

    @classmethod
    def of(cls, segments: Sequence[Segment], release: Callable[[], None] | None = None) -> Gaps:
        """Gaps held in ``segments`` (in row order); ``release`` drops the pages they are mapped from."""
        gaps = cls.__new__(cls)
        gaps.segments = list(segments)
        gaps.release = release
        return gaps

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.segments)

    @cached_property
    def counts(self) -> np.ndarray:
        """Gaps per row; made once (80 MB at 10M records, read by every pool and the frame)."""
        parts = [s.counts if s.kept is None else s.counts[s.kept] for s in self.segments]
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.int64)

    @property
    def whole(self) -> np.ndarray | None:
        """The one array holding every gap of every row, when there is one (no row left out)."""
        if len(self.segments) == 1 and self.segments[0].kept is None:
            return self.segments[0].values
        return None

    @property
    def values(self) -> np.ndarray:
        """Every row's gaps in row order: the array itself when one holds them all, else a copy."""
        whole = self.whole
        return whole if whole is not None else self._gathered(None)

    def holds(self, arr: np.ndarray) -> bool:
        """Whether ``arr`` may share memory with the gaps (a view: the caller must not reorder it;
        a mirror's buffers are read-only anyway)."""
        return any(np.may_share_memory(arr, s.values) for s in self.segments)

    def pieces(self, rows: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """The gaps of the rows selected by ``rows`` (a mask over all rows; None: every row), a few
        hundred thousand rows at a time, in row order, NaN included: views where every row of a
        stretch is selected, else the selected gaps copied."""
        start, read = 0, 0
        for seg in self.segments:
            mask = seg.log_rows(None if rows is None else rows[start:start + seg.rows])
            start += seg.rows
            offsets = seg.offsets
            for a in range(0, seg.counts.size, ROWS_AT_A_TIME):
                b = min(a + ROWS_AT_A_TIME, seg.counts.size)
                values = seg.values[offsets[a]:offsets[b]]
                read += values.nbytes
                if self.release is not None and read >= RELEASE_BYTES:
                    self.release()  # pages read so far leave the resident set (views stay valid)
                    read = 0
                picked = None if mask is None else mask[a:b]
                if picked is None or picked.all():
                    if values.size:
                        yield values
                elif picked.any():
                    yield values[np.repeat(picked, seg.counts[a:b])]
        if self.release is not None and read:
            self.release()

    def _gathered(self, rows: np.ndarray | None) -> np.ndarray:
        parts = list(self.pieces(rows))
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)

    def pooled(self, rows: np.ndarray) -> np.ndarray:
        """The finite gaps of the rows selected by a boolean mask over all rows (each gap once)."""
        rows = np.asarray(rows, dtype=bool)
        whole = self.whole
        # no copy when the rows left out hold no gaps (e.g. only failures, which stream none)
        if whole is not None and (rows.all() or not self.counts[~rows].any()):
            picked = whole
        else:
            picked = self._gathered(rows)
        return picked if all_finite(picked) else picked[np.isfinite(picked)]

    def _visited(self) -> Iterator[Segment]:
        """The segments in row order, each read whole by the caller: a mapped mirror's pages are
        released every ``RELEASE_BYTES`` read and at the end."""
        read = 0
        for seg in self.segments:
            yield seg
            read += seg.values.nbytes
            if self.release is not None and read >= RELEASE_BYTES:
                self.release()
                read = 0
        if self.release is not None and read:
            self.release()

    def per_request_mean(self) -> np.ndarray:
        """Mean gap of each request (NaN where a request has no finite gap)."""
        means = [_segment_means(seg) for seg in self._visited()]
        return means[0] if len(means) == 1 else np.concatenate(means) if means else np.zeros(0)

    def tally(self, parts: Sequence[np.ndarray], step: int) -> list[tuple[int, float, np.ndarray]]:
        """For each of ``parts`` (masks over all rows): how many finite gaps its rows hold, their
        sum, and a sample of them (the gaps at every ``step``-th position of the log that fall in
        the part's rows) — without gathering any part's gaps: each row's gaps are summed where
        they lie (as ``per_request_mean`` sums them), so a part's sum is added up by rows."""
        n = [0] * len(parts)
        total = [0.0] * len(parts)
        sampled: list[list[np.ndarray]] = [[] for _ in parts]
        start, phase = 0, 0
        for seg in self._visited():
            sums, counts = _segment_totals(seg)  # per log row, rows left out included
            kept = seg.kept
            picks = np.arange(phase, seg.values.size, step)
            phase = int(picks[-1]) + step - seg.values.size if picks.size else phase - seg.values.size
            values = seg.values[picks]
            # each pick's row among the analysed ones (-1: a row left out), and whether it counts
            at = np.searchsorted(seg.offsets, picks, side="right") - 1
            if kept is not None:
                at = np.where(kept, np.cumsum(kept) - 1, -1)[at]
            usable = (at >= 0) & np.isfinite(values)
            at, values = at[usable], values[usable]
            for i, rows in enumerate(parts):
                own = rows[start:start + seg.rows]
                mine = seg.log_rows(own)
                n[i] += int(counts[mine].sum())
                total[i] += float(sums[mine].sum())
                if values.size:
                    sampled[i].append(values[own[at]])
            start += seg.rows
        return [(n[i], total[i], np.concatenate(sampled[i]) if sampled[i] else np.zeros(0))
                for i in range(len(parts))]


def _segment_totals(seg: Segment) -> tuple[np.ndarray, np.ndarray]:
    """Each log row's sum of finite gaps and count of them (0 and 0 for a row with none)."""
    counts = seg.counts
    total, n = np.zeros(counts.size), np.zeros(counts.size, dtype=np.int64)
    rows = np.flatnonzero(counts > 0)
    if rows.size:
        # reduceat over the starts of non-empty rows sums exactly each row's own gaps (a row left
        # out of the analysis is summed too: its gaps lie between the others')
        starts = seg.offsets[rows]
        summed = np.add.reduceat(seg.values, starts)
        # a NaN or infinite gap makes its row's sum NaN or infinite: the rows are checked, not
        # the (millions of) gaps, and in the usual case nothing is copied
        if all_finite(summed):
            total[rows], n[rows] = summed, counts[rows]
        else:
            finite = np.isfinite(seg.values)
            total[rows] = np.add.reduceat(np.where(finite, seg.values, 0.0), starts)
            n[rows] = np.add.reduceat(finite.astype(np.int64), starts)
    return total, n


def _segment_means(seg: Segment) -> np.ndarray:
    total, n = _segment_totals(seg)
    out = np.full(n.size, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(total, n, out=out, where=n > 0)
    return out if seg.kept is None else out[seg.kept]
