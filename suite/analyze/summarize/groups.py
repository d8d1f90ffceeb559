"""Per-group metrics (one model, or the whole run): latency distributions, throughput, compatibility
views and open-loop lateness — all from per-request values.

``add_derived`` first adds per-request columns (TPOT, mean ITL, latency from the scheduled time), so
a group is just a slice of rows; pooled ITL gaps are picked from the run's flat gap array by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from suite.analyze.read.gaps import Gaps
from suite.analyze.schema import Compat, Dist, GroupBlock, LatencyBlocks, OpenLoopBlock, ThroughputBlock
from suite.analyze.summarize.metrics import column, dist, dist_block, flags, value
from suite.analyze.summarize.rowpool import describe_parts, describe_rows
from suite.analyze.summarize.select import MIN_SIZE
from suite.analyze.summarize.stats import ratio

ITL_WHY = "no inter-token gaps recorded (non-streaming or single-chunk replies)"
NO_WINDOW = "the measured window has zero length (a single request without a measured e2e)"
CLOSED_LOOP = "closed-loop run (no scheduled send times)"


def add_derived(frame: pd.DataFrame, gaps: Gaps) -> pd.DataFrame:
    """``frame`` with per-request derived values beside its columns; NaN wherever an input was not
    measured (never a default). A new frame sharing ``frame``'s columns: assigning each array
    would copy it (pandas's copy-on-write), ~0.2 GB more at the peak at 10M records. A closed-loop
    run's three schedule columns are one all-NaN array, shared."""
    e2e, ttft, out = column(frame, "e2e"), column(frame, "ttft"), column(frame, "completion_tokens")
    derived: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where not divided: the same values
        derived["tpot"] = np.divide(e2e - ttft, out - 1, out=np.full(out.size, np.nan), where=out > 1)
        derived["e2e_per_token"] = np.divide(e2e, out, out=np.full(out.size, np.nan), where=out > 0)
    derived["itl_mean"] = gaps.per_request_mean()
    derived["gaps"] = gaps.counts
    scheduled = column(frame, "scheduled")
    if np.isnan(scheduled).all():  # closed loop: nothing was scheduled, nothing is late
        derived.update(dict.fromkeys(("lateness", "e2e_from_scheduled", "ttft_from_scheduled"), scheduled))
    else:
        lateness = column(frame, "t_start") - scheduled
        derived.update(lateness=lateness, e2e_from_scheduled=lateness + e2e,
                       ttft_from_scheduled=lateness + ttft)
    kept = frame.drop(columns=[c for c in derived if c in frame.columns])  # a second analysis: fresh values
    return pd.concat([kept, pd.DataFrame(derived, index=frame.index, copy=False)], axis=1)


def row_mask(frame: pd.DataFrame, n_rows: int, local: np.ndarray) -> np.ndarray:
    """A mask over all rows of the run from a mask over this group's rows (its index is positions)."""
    full = np.zeros(n_rows, dtype=bool)
    full[frame.index.to_numpy()[local]] = True
    return full


def ttft_why(frame: pd.DataFrame) -> str:
    stream = flags(frame, "stream")
    if not stream.any():
        return "no streaming requests (TTFT is measured on streaming replies only)"
    if not (stream & frame["ok"].to_numpy()).any():
        return "no successful streaming requests"
    return "no TTFT recorded on successful streaming requests"


def ok_rows(frame: pd.DataFrame, n_rows: int) -> np.ndarray:
    """This group's successful requests as a mask over all rows of the run."""
    return row_mask(frame, n_rows, frame["ok"].to_numpy())


def _itl_dist(gaps: Gaps, rows: np.ndarray) -> Dist:
    if int(gaps.counts[rows].sum()) >= MIN_SIZE:  # millions of gaps: described where they lie
        n, points = describe_rows(gaps, rows)
        return dist_block(n, points, ITL_WHY)
    itl = gaps.pooled(rows)
    return dist(itl, ITL_WHY, scratch=not gaps.holds(itl))


def itl_dist(frame: pd.DataFrame, gaps: Gaps, n_rows: int) -> Dist:
    """Pooled ITL (every gap of every successful request once) of one group."""
    return _itl_dist(gaps, ok_rows(frame, n_rows))


def pooled_itl_blocks(gaps: Gaps, run_rows: np.ndarray,
                      part_rows: dict[str, np.ndarray]) -> tuple[Dist, dict[str, Dist]]:
    """Pooled-ITL distributions of the whole run and of each part (its models), from row masks:
    numpy only (no pandas), so it may run in a thread beside the other sections. Each is read by
    selection (``describe``), not sorted: on 16M gaps, two parts and the run selected cost ~2.4x
    less than sorting the parts once and merging their order statistics. A part of millions of
    gaps is not copied out at all (``rowpool.describe_rows``); when every part is such a part
    and together they are the run's rows, the run is described from the parts' own passes
    (``rowpool.describe_parts``)."""
    counts = gaps.counts
    large = len(part_rows) > 1 and all(int(counts[rows].sum()) >= MIN_SIZE for rows in part_rows.values())
    if large and _partition_of(run_rows, list(part_rows.values())):
        run, parts = describe_parts(gaps, part_rows)
        return (dist_block(*run, ITL_WHY),
                {name: dist_block(*got, ITL_WHY) for name, got in parts.items()})
    blocks = {name: _itl_dist(gaps, rows) for name, rows in part_rows.items()}
    return _itl_dist(gaps, run_rows), blocks


def _partition_of(whole: np.ndarray, parts: list[np.ndarray]) -> bool:
    """Whether the masks ``parts`` are disjoint and together select exactly the rows of ``whole``."""
    return (sum(int(np.count_nonzero(p)) for p in parts) == int(np.count_nonzero(whole))
            and bool(np.array_equal(np.logical_or.reduce(parts), whole)))


def latency_block(frame: pd.DataFrame, gaps: Gaps, n_rows: int,
                  itl: Dist | None = None) -> LatencyBlocks:
    """TTFT, E2E, TPOT and ITL (pooled gaps and per-request mean) over the successful requests;
    ``itl`` when it was computed already (``pooled_itl_blocks``). Every masked column is a fresh copy, so
    ``dist`` may sort it in place (``scratch``)."""
    ok = frame["ok"].to_numpy()
    streamed = ok & flags(frame, "stream")
    return {
        "ttft": dist(column(frame, "ttft")[streamed], ttft_why(frame), scratch=True),
        "e2e": dist(column(frame, "e2e")[ok], "no successful requests", scratch=True),
        "tpot": dist(column(frame, "tpot")[streamed],
                     "no successful streaming request with more than one completion token", scratch=True),
        "itl": itl_dist(frame, gaps, n_rows) if itl is None else itl,
        "itl_mean": dist(column(frame, "itl_mean")[ok], "no request recorded inter-token gaps", scratch=True),
    }


def compat_block(frame: pd.DataFrame, latency: LatencyBlocks) -> Compat:
    """The same requests under other tools' formulas (``definitions``: compat.vllm, compat.guidellm)."""
    ok = frame["ok"].to_numpy()
    streamed = ok & flags(frame, "stream")
    guidellm_tpot = dist(column(frame, "e2e_per_token")[streamed],
                         "no successful streaming request with a completion token count", scratch=True)
    return {
        "vllm": {"tpot": latency["tpot"], "itl": latency["itl"]},
        "guidellm": {"tpot": guidellm_tpot, "itl": latency["tpot"]},
    }


def throughput_block(frame: pd.DataFrame, seconds: float) -> ThroughputBlock:
    """Output tokens/s and requests/s over the run's measured window."""
    ok = frame["ok"].to_numpy()
    tokens = column(frame, "completion_tokens")[ok]
    counted = tokens[np.isfinite(tokens)]
    out: ThroughputBlock = {
        "output_tokens": int(counted.sum()),
        "ok_without_token_count": int(ok.sum() - counted.size),
        "output_tokens_per_s": value(ratio(counted.sum(), seconds) if counted.size else None,
                                     NO_WINDOW if counted.size else "no completion token counts recorded",
                                     "tokens/s"),
        "requests_per_s": value(ratio(len(frame), seconds), NO_WINDOW, "requests/s"),
        "ok_requests_per_s": value(ratio(int(ok.sum()), seconds), NO_WINDOW, "requests/s"),
    }
    if out["ok_without_token_count"]:
        out["note"] = (f"{out['ok_without_token_count']} successful requests reported no completion_tokens "
                       "and are not counted in output_tokens")
    return out


def open_loop_block(frame: pd.DataFrame) -> OpenLoopBlock:
    """Schedule lag, and latency measured from the scheduled send time (coordinated omission
    corrected: a request the driver sent late is charged for the wait)."""
    ok = frame["ok"].to_numpy()
    streamed = ok & flags(frame, "stream")
    return {
        "lateness": dist(column(frame, "lateness"), CLOSED_LOOP),
        "e2e_from_scheduled": dist(column(frame, "e2e_from_scheduled")[ok], CLOSED_LOOP, scratch=True),
        "ttft_from_scheduled": dist(column(frame, "ttft_from_scheduled")[streamed], CLOSED_LOOP,
                                    scratch=True),
    }


def errors_by_kind(frame: pd.DataFrame) -> dict[str, int]:
    """Failed requests per error kind (``(no error recorded)`` when a failure carried none)."""
    failed = frame.loc[~frame["ok"].to_numpy(), "error_kind"].astype(object).fillna("(no error recorded)")
    return {str(k): int(v) for k, v in sorted(failed.value_counts().items())}


def group_block(frame: pd.DataFrame, gaps: Gaps, n_rows: int, seconds: float,
                itl: Dist | None = None) -> GroupBlock:
    """Everything measured for one model (or for all requests together); ``itl`` if known already."""
    ok = int(frame["ok"].sum())
    latency = latency_block(frame, gaps, n_rows, itl)
    return {
        "requests": len(frame),
        "ok": ok,
        "failed": len(frame) - ok,
        "error_ratio": (len(frame) - ok) / len(frame),
        "errors_by_kind": errors_by_kind(frame),
        **latency,
        **throughput_block(frame, seconds),
        **open_loop_block(frame),
        "compat": compat_block(frame, latency),
    }
