"""Live figures of a running load test for the terminal, read from the request log as it grows.

The source is the same one the report uses: the records Locust's processes flush to
``requests*.jsonl`` (at least every 0.1 s, suite.driver.inlocust.sink), tailed by the parent with
no extra channel to Locust. So every live figure is a figure of recorded requests: sent, ok,
failed, TTFT p50/p95 (successful requests, numpy's linear percentile as the analyzer), hit ratio
(of successful requests with a hit/miss signal). Requests in flight are known only where the
driver journals each send before it goes out (a ``--processes`` worker's ``sent.w<i>.ids``);
for a single process they are not counted, and the panel says so instead of guessing.

The end of a run is whichever comes first of the corpus (or ``--max-requests``) and the duration
limit; ``estimate`` says which, when, and how many requests that leaves sent, so a bar never
reads N/2000 while ``-d`` will stop it near 230. Pure arithmetic apart from ``LogTail``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from suite.driver.control.collect import JOURNAL, REQUESTS_GLOB


def percentile(ordered: list[float], q: float) -> float:
    """numpy's default ('linear') percentile of a sorted, non-empty list."""
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Tally:
    """Counts over the records read so far (one line of requests.jsonl at a time)."""

    recorded: int = 0
    ok: int = 0
    hits: int = 0
    misses: int = 0
    ttfts: list[float] = field(default_factory=list)
    first_send: float | None = None  # wall-clock t_start of the earliest record

    def add(self, raw: bytes) -> None:
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return  # check_log reports a broken line after the run; live, it is not a request
        if not isinstance(rec, dict):
            return
        self.recorded += 1
        start = rec.get("t_start")
        if isinstance(start, int | float):
            self.first_send = start if self.first_send is None else min(self.first_send, start)
        if not rec.get("ok"):
            return
        self.ok += 1
        if isinstance(rec.get("ttft"), int | float):
            self.ttfts.append(float(rec["ttft"]))
        if rec.get("cache") == "hit":
            self.hits += 1
        elif rec.get("cache") == "miss":
            self.misses += 1


@dataclass(frozen=True)
class Estimate:
    """When and how a run will end, from its pace so far."""

    expected: int  # requests sent by the end (the corpus bound, or fewer when the duration bites)
    eta_s: float | None  # seconds left; None before the pace is known
    by: str  # "corpus" or "duration"


@dataclass(frozen=True)
class LiveSnapshot:
    recorded: int
    ok: int
    failed: int
    hits: int
    misses: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    sent: int | None  # None: a single process does not count sends apart from records
    elapsed_s: float  # since the first send (before it: since Locust was started)
    total: int  # the corpus bound: corpus size, or --max-requests
    duration_s: float
    sending: bool  # a request has been recorded, so the pace is known
    finished: bool = False
    remote: bool = False  # a multi-host master: the records are written on the workers' hosts
    capped: bool = False  # ``total`` is --max-requests, below the corpus's size

    @property
    def in_flight(self) -> int | None:
        return None if self.sent is None else max(0, self.sent - self.recorded)

    @property
    def hit_ratio(self) -> float | None:
        seen = self.hits + self.misses
        return self.hits / seen if seen else None


def estimate(done: int, total: int, elapsed_s: float, duration_s: float) -> Estimate:
    """The run ends at the corpus's end or the duration limit, whichever comes first (pure)."""
    left_by_time = max(0.0, duration_s - elapsed_s)
    if done >= total:
        return Estimate(total, 0.0, "corpus")
    if done <= 0 or elapsed_s <= 0:
        return Estimate(total, None if left_by_time > 0 else 0.0, "corpus")
    rate = done / elapsed_s
    left_by_corpus = (total - done) / rate
    if left_by_corpus <= left_by_time:
        return Estimate(total, left_by_corpus, "corpus")
    return Estimate(min(total, done + round(rate * left_by_time)), left_by_time, "duration")


def fraction(snap: LiveSnapshot) -> float:
    """How far the run is, 0..1, against the bound that ends it first."""
    if snap.finished:
        return 1.0
    by_corpus = snap.recorded / snap.total if snap.total else 1.0
    timed = (snap.sending or snap.remote) and snap.duration_s > 0
    by_time = snap.elapsed_s / snap.duration_s if timed else 0.0
    return min(1.0, max(by_corpus, by_time))


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def panel_lines(snap: LiveSnapshot) -> list[str]:
    """The panel as plain text lines (pure): progress and time, counts, latency and cache."""
    est = estimate(snap.recorded, snap.total, snap.elapsed_s, snap.duration_s)
    limit = f"duration limit {_clock(snap.duration_s)}"
    if snap.finished:
        timing = f"{_clock(snap.elapsed_s)} elapsed · ended"
    elif not snap.sending:
        timing = f"{_clock(snap.elapsed_s)} starting · ends with the corpus or the {limit}"
    elif snap.duration_s > 0 and snap.elapsed_s >= snap.duration_s and snap.recorded < snap.total:
        timing = (f"{_clock(snap.elapsed_s)} elapsed · {limit} reached: stopping, the requests in "
                  "flight finish or are cancelled")
    elif est.eta_s is None:
        timing = f"{_clock(snap.elapsed_s)} elapsed · {limit}"
    else:
        end = "--max-requests is reached" if snap.capped else "the corpus ends"
        bound = (f"{end} before the {limit}" if est.by == "corpus"
                 else f"the {limit} ends it before the corpus")
        timing = f"{_clock(snap.elapsed_s)} elapsed · ~{_clock(est.eta_s)} left ({bound})"
    if snap.remote:
        return [f"{_clock(snap.elapsed_s)} elapsed · {limit}",
                "the records are written on the workers' hosts: no live figures here (see the web UI "
                "with --web)"]
    cap = "(--max-requests)" if snap.capped else "in the corpus"
    of = f"recorded {snap.recorded:,} of {snap.total:,} {cap}"
    if snap.sending and not snap.finished and est.by == "duration" and snap.elapsed_s < snap.duration_s:
        of += f" · ~{est.expected:,} expected before the duration limit"
    if snap.finished:
        flight = ""
    elif snap.sent is None:
        flight = " · in flight: not counted by a single process"
    else:
        flight = f" · sent {snap.sent:,} · in flight {snap.in_flight:,}"
    share = f" ({snap.failed / snap.recorded:.1%})" if snap.recorded else ""
    if snap.ttft_p50_ms is None:
        ttft = "TTFT — (no successful streamed request yet)"
    else:
        ttft = f"TTFT p50 {_ms(snap.ttft_p50_ms)} · p95 {_ms(snap.ttft_p95_ms)}"
    ratio = snap.hit_ratio
    hit = ("hit ratio — (no hit/miss signal yet)" if ratio is None
           else f"hit ratio {ratio:.2f} ({snap.hits:,} of {snap.hits + snap.misses:,})")
    return [timing, f"{of}{flight}", f"ok {snap.ok:,} · failed {snap.failed:,}{share} · {ttft} · {hit}"]


def plain_line(snap: LiveSnapshot) -> str:
    """One line for a log or a pipe: no bar, no control codes."""
    return "run: " + " | ".join(panel_lines(snap))


class LogTail:
    """Reads the complete new lines of every shard of a run's log (and the workers' send journals)
    each time it is asked, and keeps the tally; ``snapshot`` makes the live figures of it."""

    def __init__(self, run_dir: Path, total: int, duration_s: float, journals: bool = False,
                 remote: bool = False, capped: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.run_dir = run_dir
        self.total = total
        self.duration_s = duration_s
        self.journals = journals  # distributed workers journal their sends (absent ones: none yet)
        self.remote = remote
        self.capped = capped
        self.tally = Tally()
        self._clock = clock
        self._started = clock()
        self._offsets: dict[Path, int] = {}

    def read(self) -> int:
        """Read what was appended since the last call; the number of records so far."""
        for path in self.run_dir.glob(REQUESTS_GLOB):
            offset = self._offsets.get(path, 0)
            try:
                with path.open("rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
            except FileNotFoundError:
                continue
            end = chunk.rfind(b"\n") + 1  # a partial last line is read next time, once complete
            for raw in chunk[:end].splitlines():
                if raw.strip():
                    self.tally.add(raw)
            self._offsets[path] = offset + end
        return self.tally.recorded

    def _sent(self) -> int | None:
        journals = list(self.run_dir.glob(JOURNAL.format(index="*")))
        if not journals:
            return self.tally.recorded if self.journals else None
        sent = 0
        for path in journals:
            try:
                sent += path.read_bytes().count(b"\n")
            except FileNotFoundError:
                return None  # removed after the run: the records are the count
        return max(sent, self.tally.recorded)

    def snapshot(self, finished: bool = False) -> LiveSnapshot:
        t = self.tally
        now = self._clock()
        since = t.first_send if t.first_send is not None else self._started
        ordered = sorted(t.ttfts)
        p50 = percentile(ordered, 0.5) * 1000 if ordered else None
        p95 = percentile(ordered, 0.95) * 1000 if ordered else None
        return LiveSnapshot(recorded=t.recorded, ok=t.ok, failed=t.recorded - t.ok, hits=t.hits,
                            misses=t.misses, ttft_p50_ms=p50, ttft_p95_ms=p95,
                            sent=self._sent(), elapsed_s=max(0.0, now - since),
                            total=self.total, duration_s=self.duration_s,
                            sending=t.first_send is not None, finished=finished, remote=self.remote,
                            capped=self.capped)
