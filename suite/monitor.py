"""Target monitoring: scrape the target's Prometheus ``/metrics`` every N seconds during a run.

One JSON line per scrape in ``reports/<run>/target_metrics.jsonl``::

    {"t": 1732771200.5, "ok": true, "error": null, "values": {"mock_in_flight_requests": 3.0, ...}}

A failed scrape is a line with ``ok: false``, the error and no values — a gap the analyzer shows as
missing, never filled in (the original framework's monitor invented numbers when its source was
down; this one records that it was down). Histogram buckets are skipped (their ``_sum`` and
``_count`` are kept): reports come from per-request records, these series are for context.

    with monitor_target("http://127.0.0.1:8000", interval_s=2.0, out=path) as mon:
        ...run the load...
    print(mon.note)   # what was monitored, or why not
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families

METRICS_PATH = "/metrics"
AUTO_INTERVAL_S = 2.0
TIMEOUT_S = 2.0
MONITOR_FILE = "target_metrics.jsonl"


def series_key(name: str, labels: dict[str, str]) -> str:
    """``name{a="x",b="y"}`` with labels sorted (one stable key per series)."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text exposition → ``{series_key: value}`` (buckets and created stamps dropped)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_bucket", "_created")):
                continue
            out[series_key(sample.name, sample.labels)] = float(sample.value)
    return out


REFUSED = "the target's /metrics refused the run's credentials"


def scrape(url: str, timeout_s: float = TIMEOUT_S,
           headers: Mapping[str, str] | None = None) -> dict[str, float]:
    """One scrape with the run's auth ``headers`` (a gateway may guard /metrics); raises OSError /
    ValueError with what went wrong — a 401 or 403 as ``PermissionError`` saying so."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # noqa: S310 (the target)
            body = resp.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (401, 403):
            raise PermissionError(f"HTTP {exc.code}: {REFUSED} (check --api-key-env / "
                                  f"--api-key-header, or --monitor-interval 0)") from None
        raise
    return parse_metrics(body)


def sample(url: str, clock: Callable[[], float] = time.time,
           fetch: Callable[[str], dict[str, float]] = scrape) -> dict[str, Any]:
    """One line of the series: values, or ok false with the error."""
    t = clock()
    try:
        return {"t": t, "ok": True, "error": None, "values": fetch(url)}
    except PermissionError as exc:
        return {"t": t, "ok": False, "error": str(exc), "values": {}}
    except (OSError, ValueError) as exc:
        return {"t": t, "ok": False, "error": f"{type(exc).__name__}: {exc}", "values": {}}


class TargetMonitor:
    """A daemon thread appending one sample per interval to ``path`` until ``stop()``."""

    def __init__(self, url: str, interval_s: float, path: Path,
                 fetch: Callable[[str], dict[str, float]] = scrape) -> None:
        self.url, self.interval_s, self.path, self.fetch = url, interval_s, path, fetch
        self.samples = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="target-monitor", daemon=True)

    def start(self) -> TargetMonitor:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        with self.path.open("ab") as fh:
            while True:
                line = sample(self.url, fetch=self.fetch)
                fh.write(orjson.dumps(line) + b"\n")
                fh.flush()
                self.samples += 1
                self.failures += not line["ok"]
                if self._stop.wait(self.interval_s):
                    return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + TIMEOUT_S + 1)


class Monitoring:
    """What ``monitor_target`` did: the monitor (or None) and a sentence saying so."""

    def __init__(self, monitor: TargetMonitor | None, note: str) -> None:
        self.monitor, self.note = monitor, note

    def save_to(self, run_dir: Path) -> Path | None:
        """Move the series into the run folder (the folder is known only once the run has started)."""
        if self.monitor is None or not self.monitor.path.exists():
            return None
        dest = Path(run_dir) / MONITOR_FILE
        os.replace(self.monitor.path, dest)
        return dest


Fetch = Callable[[str], dict[str, float]]


def plain_reason(exc: BaseException) -> str:
    """``connection refused``, not ``URLError: <urlopen error [Errno 111] Connection refused>``:
    the note is one line printed before the run's own error about the same target, so it must
    read as a side remark, not as the failure."""
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    text = " ".join(str(reason).split()) or type(reason).__name__
    return text if isinstance(reason, OSError | str | ValueError) else f"{type(reason).__name__}: {text}"


def resolve_interval(url: str, interval_s: float | None, fetch: Fetch = scrape) -> tuple[float | None, str]:
    """``None`` = auto: 2 s when the target answers /metrics in Prometheus format, else off."""
    if interval_s is not None:
        if interval_s <= 0:
            return None, "target monitoring off (--monitor-interval 0)"
        return interval_s, f"monitoring {url} every {interval_s:g} s"
    try:
        values = fetch(url)
    except PermissionError as exc:
        return None, f"target monitoring off: {url}: {exc}"
    except urllib.error.HTTPError as exc:
        exc.close()
        return None, f"target monitoring off: {url} answered HTTP {exc.code}"
    except ValueError as exc:
        return None, f"target monitoring off: {url} is not Prometheus text ({plain_reason(exc)})"
    except OSError as exc:
        return None, f"target monitoring off: {url} did not answer ({plain_reason(exc)})"
    if not values:
        return None, f"target monitoring off: {url} exposes no Prometheus samples"
    return AUTO_INTERVAL_S, f"monitoring {url} every {AUTO_INTERVAL_S:g} s (auto: the target has /metrics)"


@contextlib.contextmanager
def monitor_target(target: str, interval_s: float | None, out: Path, fetch: Fetch | None = None,
                   headers: Mapping[str, str] | None = None) -> Iterator[Monitoring]:
    """Scrape ``<target>/metrics`` into ``out`` while the block runs; ``interval_s`` None = auto.
    ``headers``: the run's auth headers (``Target.auth_headers()``), sent with every scrape."""
    url = target.rstrip("/") + METRICS_PATH
    if fetch is None:
        fetch = functools.partial(scrape, headers=headers)
    interval, note = resolve_interval(url, interval_s, fetch)
    if interval is None:
        yield Monitoring(None, note)
        return
    monitor = TargetMonitor(url, interval, out, fetch).start()
    try:
        yield Monitoring(monitor, note)
    finally:
        monitor.stop()
