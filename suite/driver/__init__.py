"""The load driver: replays a corpus with Locust and writes one record per request sent.

    result = run_load(Path("corpora/ops.jsonl"), "http://127.0.0.1:8000", Path("reports"),
                      users=10, spawn_rate=5, duration_s=60, load=LoadOptions(mode="open"))
    result.requests_path  # reports/<run id>/requests.jsonl, checked: one record per request sent

Locust gevent-patches whatever process imports it, so a run is two processes, and the package is
split along that boundary:

- ``control/`` runs in the caller's process (the parent): ``runner`` (``run_load``), ``command``
  (the Locust command line, ``Topology``), ``config`` (the environment-variable contract that
  carries a run's settings into the child), ``loadopts`` / ``requestopts`` (validated options),
  ``health`` (is the target up?), ``shapes`` (presets), ``schedule`` (open-loop arrival times and
  lateness), ``meta`` (run.json), ``collect`` (after the run: every shard checked and merged),
  ``runargs`` (run_load's argument checks, the run id).
- ``inlocust/`` runs inside the Locust child, started as ``python -m locust -f
  inlocust/locustfile.py``: ``locustfile`` (the users), ``distributed`` (master/worker messages,
  end of run, aborts, health watch), ``state`` (one process's share, log and run.json),
  ``feeder``, ``sink`` (the batched log writer), ``abort`` (abort rules), ``backoff`` (pausing
  after refused connections), ``exporter`` (Prometheus), ``shipping`` + ``shiplink`` (a worker's
  records shipped to the master, acknowledged). Only ``locustfile`` imports Locust and only it,
  ``distributed`` and ``shiplink`` import gevent; nothing outside ``inlocust/`` imports either.
- ``exchange/`` is one request and its answer, free of Locust and of the two sides: ``send``
  (``Exchange``: POST, read, time), ``sse`` (bytes → events), ``measure`` (events → ``Measured``),
  ``chunkshape`` (parse-free reads of repeated chunks), ``targets`` + ``engine_template`` +
  ``fieldpath`` (target kinds and bodies), ``cachedetect``, ``checks`` (content checks),
  ``redact``, ``record`` (``Measured`` + who/when → one ``RequestRecord`` line; log checks).

Imports point one way: ``inlocust`` → ``control`` → ``exchange`` (and ``inlocust`` →
``exchange``); importing this package imports neither Locust nor gevent.
"""

from suite.driver.control.command import Topology
from suite.driver.control.loadopts import LoadOptions
from suite.driver.control.runner import RunResult, run_load

__all__ = ["LoadOptions", "RunResult", "Topology", "run_load"]
