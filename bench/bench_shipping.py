"""Shipping records to the master (suite.driver.inlocust.shiplink): does it keep up, and what
does it cost the driver?

Each phase is a multi-host run on this host: ``run --master`` and two ``run --worker`` as
separate runs, each with its own folder (so the workers ship: their shard is not the master's
file), against the bundled mock's ``instant`` model, non-streamed, so the driver is the
bottleneck. Phases alternate shipping on / off (``LLMSUITE_SHIP=0``: the workers only write
locally) for ``--rounds``; figures are medians over rounds.

- records shipped per second per worker against the same run writing locally: records over the
  span from the worker's first send to the last write of its shard — at the master (shipped)
  or on the worker (local). The ratio is 1.0 when the master's copy is complete as soon as the
  local shard is, < 1 by the time the last batches took to arrive after the end of the run;
- the driver's requests/s (every record of both workers, first send to last answer), shipping
  on vs off.

Traffic goes only to 127.0.0.1; every process started is stopped by PID.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from suite.driver import Topology, run_load
from suite.services import free_port, start_mock_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_driver_scaling import corpus  # noqa: E402  (the same n distinct instant requests)


def _records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def phase(target: str, workdir: Path, ship: bool, users: int, seconds: float, name: str) -> dict[str, Any]:
    path = workdir / f"{name}.jsonl"
    corpus(path, int(8_000 * seconds))
    os.environ["LLMSUITE_SHIP"] = "1" if ship else "0"
    port, results, errors = free_port(), {}, []

    def go(role: str, topo: Topology) -> None:
        try:
            results[role] = run_load(path, target, workdir / "runs", users=users, spawn_rate=users * 10,
                                     duration_s=seconds, stop_timeout_s=5, run_id=f"{name}-{role}",
                                     topology=topo)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{role}: {exc}")

    roles = {"m": Topology(role="master", expect_workers=2, master_port=port, master_bind_host="127.0.0.1"),
             "w0": Topology(role="worker", master_port=port), "w1": Topology(role="worker", master_port=port)}
    threads = [threading.Thread(target=go, args=item, daemon=True) for item in roles.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    if errors or set(results) != set(roles):
        raise SystemExit(f"phase {name} failed: {errors}")
    master_dir = results["m"].run_dir
    out: dict[str, Any] = {"ship": ship, "workers": []}
    every = []
    for role in ("w0", "w1"):
        (local,) = results[role].log_files  # its shard index is the master's choice, not its name
        recs = _records(local)
        every += recs
        start = min(r["t_start"] for r in recs)
        row = {"records": len(recs), "local_per_s": len(recs) / (local.stat().st_mtime - start)}
        shipped = master_dir / local.name
        if ship:
            assert shipped.read_bytes() == local.read_bytes(), f"{local.name}: the master's copy differs"
            row["shipped_per_s"] = len(recs) / (shipped.stat().st_mtime - start)
        out["workers"].append(row)
    start = min(r["t_start"] for r in every)
    span = max(r["t_start"] + (r["e2e"] or 0.0) for r in every) - start
    out["req_per_s"] = len(every) / span
    out["requests"] = len(every)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short phases, one round")
    ap.add_argument("--users", type=int, default=16, help="closed-loop users in each phase")
    args = ap.parse_args()
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 3)
    runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="bench-shipping-") as tmp:
        workdir = Path(tmp)
        server = start_mock_server(["--profiles", str(ROOT / "corpora/profiles/models.yaml"),
                                    "--cache", "none"], workdir / f"mock-{time.monotonic_ns()}.log")
        try:
            for r in range(rounds):
                for ship in (True, False):
                    runs[ship].append(phase(server.url, workdir, ship, args.users, seconds,
                                            f"{'ship' if ship else 'local'}-r{r}"))
        finally:
            server.stop()
            os.environ.pop("LLMSUITE_SHIP", None)
    print(f"cores: {os.cpu_count()}; users: {args.users}; {seconds:.0f} s per phase; {rounds} round(s); "
          "medians")
    for i in (0, 1):
        local = statistics.median(run["workers"][i]["local_per_s"] for run in runs[True])
        shipped = statistics.median(run["workers"][i]["shipped_per_s"] for run in runs[True])
        print(f"worker {i}: written locally {local:8.0f} records/s, shipped to the master {shipped:8.0f} "
              f"records/s: ratio {shipped / local:.3f} (target >= 0.9)")
    on = statistics.median(run["req_per_s"] for run in runs[True])
    off = statistics.median(run["req_per_s"] for run in runs[False])
    each = {ship: ", ".join(f"{run['req_per_s']:.0f}" for run in runs[ship]) for ship in runs}
    print(f"driver: shipping on {on:8.0f} req/s, off {off:8.0f} req/s: ratio {on / off:.3f} "
          f"(rounds on: {each[True]}; off: {each[False]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
