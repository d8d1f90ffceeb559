"""What the users of one driver process share: its share of the corpus, its log, its run.json.

Free of Locust so its logic is testable without gevent; the locustfile creates one per process
(standalone, or each Locust worker once the master has told it its share) and calls ``record`` for
every request sent. Files: a standalone process writes ``requests.jsonl`` and ``run.json``; worker
``i`` of a distributed run writes ``requests.w<i>.jsonl`` and ``run.w<i>.json`` (the master keeps
``run.json``; the runner merges the counts afterwards).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from suite.driver.control.config import DriverConfig
from suite.driver.control.loadopts import load_summary
from suite.driver.control.meta import cache_headers_meta, versions, write_run_meta
from suite.driver.control.schedule import LagStats, lag_warning, offsets
from suite.driver.exchange.measure import Measured
from suite.driver.exchange.record import build_record, worker_name
from suite.driver.inlocust.abort import ConnectStreak, ErrorWindow, aborted
from suite.driver.inlocust.backoff import ConnectBackoff, RetryAfterPause
from suite.driver.inlocust.feeder import CorpusFeeder, select
from suite.driver.inlocust.sink import BatchWriter, SentJournal
from suite.records import CorpusRequest, RequestRecord, RunMeta, file_sha256, read_corpus
from suite.tokens import encoding_for

# ids a shipping worker reports of its requests in flight (the count is always exact): enough for
# the master to name them in the partial mark should the worker vanish (suite.driver.control.collect)
IN_FLIGHT_REPORTED = 1000


def shard_paths(config: DriverConfig, index: int | None) -> tuple[Path, Path]:
    """(request log, run meta) of a standalone process (``index`` None) or of worker ``index``."""
    if index is None:
        return config.out, config.run_meta
    return (config.out.with_name(f"requests.w{index}.jsonl"),
            config.run_meta.with_name(f"run.w{index}.json"))


def new_meta(config: DriverConfig, target: str, corpus_size: int) -> RunMeta:
    return RunMeta(run_id=config.run_id, target=target, corpus=str(config.corpus),
                   corpus_sha256=file_sha256(config.corpus), users=0,
                   duration_s=config.duration_s or 0.0, started=time.time(),
                   requests_in_corpus=corpus_size, versions=versions(),
                   extra={"load": load_summary(config.load),
                          "request": config.request.describe(config.api_key),  # secrets scrubbed
                          "cache_headers": cache_headers_meta(config.request.cache_detect,
                                                             config.request.served())})


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


class DriverState:
    """One process's share of a run. ``assign`` must run before users start."""

    def __init__(self, config: DriverConfig, host: str, *, sends: bool = True) -> None:
        """``sends=False`` (a distributed run's master): no corpus in memory, no BPE files."""
        self.config = config
        self.load = config.load
        self.target = host.rstrip("/")
        self.corpus = read_corpus(config.corpus) if sends else []
        for model in {r.model for r in self.corpus}:
            encoding_for(model)  # load BPE now: a first load mid-run would stall every greenlet
        self.worker = worker_name()
        self.index: int | None = None
        self.feeder = CorpusFeeder([])
        self.due: list[float] = []  # open loop: epoch at which each request of the share is due
        self.writer: BatchWriter | None = None
        self.journal: SentJournal | None = None  # a distributed worker's sent ids (see sink)
        self.meta = new_meta(config, self.target, len(self.corpus) if sends else _count_lines(config.corpus))
        self.meta_path = config.run_meta
        self.t0 = time.time()  # schedule and warm-up origin
        self.lag = LagStats(self.load.lag_warn_ms)
        self.errors = (ErrorWindow(self.load.abort_error_ratio, self.load.abort_window_s,
                                   self.load.abort_min_requests)
                       if self.load.abort_error_ratio is not None else None)
        self.metrics: Any = None  # suite.driver.inlocust.exporter.DriverMetrics when --prometheus-port
        self.users_started = 0
        self.schedule_started = False
        self.backoff = ConnectBackoff()
        self.connects = ConnectStreak(self.load.abort_connect_errors)
        self.retry = RetryAfterPause()  # --retry-after honour (closed loop)
        self.abort_reason: str | None = None
        # a distributed run's master: share index of each worker (Locust client id), those done
        # (finished their share, or lost), and those lost (suite.driver.inlocust.distributed)
        self.shares: dict[str, int] = {}
        self.done_workers: set[int] = set()
        self.lost_workers: set[int] = set()
        self.shipping: Any = None  # the master's suite.driver.inlocust.shiplink.Hub

    def assign(self, index: int | None, count: int, t0: float | None = None) -> None:
        """Take share ``index`` of ``count`` (None: the whole corpus, standalone) and open its log.
        Once per process: a test restarted from the web UI continues the same share and log."""
        if self.writer is not None:
            return
        load = self.load
        positions = select(self.corpus, index=index or 0, count=count, max_requests=load.max_requests,
                           by_session=load.affinity)
        share = [self.corpus[p] for p in positions]
        self.index = index
        self.feeder = CorpusFeeder(share, affinity=load.affinity)
        self.t0 = t0 if t0 is not None else time.time()
        if load.mode == "open":
            cut = self.corpus[:load.max_requests] if load.max_requests else self.corpus
            due = offsets(cut, load.rate, load.arrival, load.seed)
            self.due = [self.t0 + due[p] for p in positions]
        out, self.meta_path = shard_paths(self.config, index)
        # with the columnar mirror (requests[.wN].arrows) of the run's cache-header allow-list
        self.writer = BatchWriter(out, headers=self.meta.extra["cache_headers"]["allowlist"])
        if index is not None:
            self.journal = SentJournal(out.with_name(f"sent.w{index}.ids"))
        self.meta.extra.update(shard={"index": index, "count": count, "requests": len(share)},
                               worker=self.worker, t0=self.t0)

    def next_user(self) -> int:
        self.users_started += 1
        return self.users_started - 1

    def sending(self, req: CorpusRequest) -> None:
        """Right before ``req`` is sent: a worker notes it in its journal (it may die mid-request)."""
        if self.journal is not None:
            self.journal.note(req.id)

    def record(self, req: CorpusRequest, m: Measured, *, user: int, t_start: float,
               scheduled: float | None = None) -> RequestRecord:
        """Write the one record of a sent request (Rule 1); returns it for live statistics."""
        if self.writer is None:
            raise RuntimeError("record() before assign(): the process has no request log yet")
        rec = build_record(req, m, target=self.target, worker=self.worker, user=user, t_start=t_start,
                           scheduled=scheduled)
        # only --warmup marks warm-up: a send before t0 (none should be) is not warm-up
        rec.warmup = self.load.warmup_s > 0 and t_start < self.t0 + self.load.warmup_s
        self.writer.write(rec)
        if self.journal is not None:
            self.journal.answered(req.id)
        if scheduled is not None:
            self.lag.add(t_start - scheduled)
        if self.metrics is not None:
            self.metrics.observe(rec)
            self.metrics.set_in_flight(self.feeder.in_flight - 1)
        if self.errors is not None and self.abort_reason is None and not rec.warmup:
            self.abort_reason = self.errors.add(t_start + (m.e2e or 0.0), rec.ok)
        if self.abort_reason is None:
            err = rec.error or {}
            self.abort_reason = self.connects.add(err.get("kind"), err.get("message", ""))
        return rec

    def mark_aborted(self, reason: str, at: float | None = None) -> None:
        self.meta.extra.setdefault("aborted", aborted(reason, at or time.time()))

    def write_meta(self, *, final: bool) -> None:
        if final:
            self.meta.ended = time.time()
        extra = self.meta.extra
        extra.update(sent=self.feeder.sent, records=self.writer.count if self.writer else 0,
                     in_flight=self.feeder.in_flight, corpus_exhausted=self.feeder.exhausted,
                     final=final)
        if self.journal is not None and "shipping" in extra:  # its journal file stays on its host
            extra["in_flight_ids"] = self.journal.in_flight(IN_FLIGHT_REPORTED)
        if self.load.retry_after == "honour":
            extra["retry_after"] = self.retry.summary()
        if self.load.mode == "open":
            summary = self.lag.summary()
            extra["open_loop"] = summary
            warning = lag_warning(summary)
            if warning:
                extra["warnings"] = [warning]
        write_run_meta(self.meta_path, self.meta)

    def close(self) -> None:
        """At process exit: flush the log, and finalise run.json if Locust never reached test stop
        (a distributed worker stopped by a signal) so the runner can still check Rule 1."""
        if self.writer is not None:
            self.writer.close()
            if self.journal is not None:  # every request it sent is recorded: nothing to name
                self.journal.close(remove=True)
            if not self.meta.extra.get("final"):
                self.meta.extra["ended_by"] = "process exit before test stop"
                self.write_meta(final=True)
