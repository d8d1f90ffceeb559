"""A real multi-host run: a master and two workers as separate processes in separate network
namespaces, each with its own working directory; the workers ship their records to the master
(suite.driver.inlocust.shiplink), and the master's folder must end complete, with its report,
with no copy by hand.

The network: namespace ``<prefix>m`` holds a bridge with 10.77.0.1/24 (the master, and the mock
target it shares the namespace with); ``<prefix>w0`` and ``<prefix>w1`` hold one end of a veth
pair each (10.77.0.2, 10.77.0.3), the other end on the bridge. Every address the driver sends to
(the target, the master) is 10.77.0.1, which exists only inside these namespaces the test made
and deletes: the suite's "traffic to loopback only" rule, kept in spirit — nothing outside this
machine, nor on its real interfaces, can be reached through them. The namespaces carry a
per-run prefix and are deleted by that prefix in a finalizer; processes are stopped by PID.

Where namespaces cannot be made (not root, no ``ip``), the same run uses separate processes and
folders on 127.0.0.1, sharing no file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from suite.records import write_jsonl
from suite.services import free_port
from tests.integration.driver.test_locust_run import corpus_line

pytestmark = pytest.mark.integration

LLMSUITE = str(Path(sys.executable).parent / "llmsuite")
PROFILES = {"models": {"gpt-4o": {"ttft_base_s": 0.02, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
                                "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}}}
N = 60
WAIT_S = 60.0


@dataclass
class Hosts:
    """Where each role runs: a command prefix (``ip netns exec NS``) and the addresses it uses."""

    prefix: str | None  # the namespaces' name prefix, None on loopback
    master_addr: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def wrap(self, role: str) -> list[str]:
        return ["ip", "netns", "exec", f"{self.prefix}{role}"] if self.prefix else []

    def start(self, role: str, args: list[str], cwd: Path) -> subprocess.Popen:
        log = (cwd / "out.log").open("wb")
        proc = subprocess.Popen([*self.wrap(role), *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _make_namespaces(prefix: str) -> None:
    m = f"{prefix}m"
    _ip("netns", "add", m)
    _ip("-n", m, "link", "set", "lo", "up")
    _ip("-n", m, "link", "add", "br0", "type", "bridge")
    _ip("-n", m, "addr", "add", "10.77.0.1/24", "dev", "br0")
    _ip("-n", m, "link", "set", "br0", "up")
    for i in range(2):
        w = f"{prefix}w{i}"
        _ip("netns", "add", w)
        _ip("-n", w, "link", "set", "lo", "up")
        # both ends created inside the namespaces: nothing appears in the host's own namespace
        _ip("link", "add", f"v{i}", "netns", m, "type", "veth", "peer", "name", "eth0", "netns", w)
        _ip("-n", m, "link", "set", f"v{i}", "master", "br0", "up")
        _ip("-n", w, "addr", "add", f"10.77.0.{i + 2}/24", "dev", "eth0")
        _ip("-n", w, "link", "set", "eth0", "up")


def _delete_namespaces(prefix: str) -> None:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(prefix):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    prefix = f"llt{secrets.token_hex(3)}"
    made = False
    if os.geteuid() == 0 and shutil.which("ip"):
        try:
            _make_namespaces(prefix)
            made = True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            _delete_namespaces(prefix)
    got = Hosts(prefix if made else None, "10.77.0.1" if made else "127.0.0.1")
    try:
        yield got
    finally:
        for proc in got.procs:
            _stop(proc)
        if made:
            _delete_namespaces(prefix)


def _wait_listening(proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if "listening on" in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"the mock did not start:\n{log.read_text(errors='replace')}")


def _folder(root: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    """A host's own working directory with its own copy of the corpus: no file is shared."""
    folder = root / name
    folder.mkdir()
    write_jsonl(folder / "c.jsonl", rows)
    return folder


def _lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _loopback_run(tmp_path: Path, hosts: Hosts, rows: list[dict[str, Any]],
                  ) -> tuple[subprocess.Popen, list[subprocess.Popen], Path, list[Path]]:
    """A master and two workers on 127.0.0.1 (separate processes and folders, no namespaces) against
    a mock answering in 0.1 s, started and left running: (master, workers, master's folder, theirs)."""
    hosts.prefix, hosts.master_addr = None, "127.0.0.1"
    mock_dir = _folder(tmp_path, "target", [])
    (mock_dir / "models.yaml").write_text(yaml.safe_dump(
        {"models": {"gpt-4o": {**PROFILES["models"]["gpt-4o"], "ttft_base_s": 0.1}}}))
    port, master_port = free_port(), free_port()
    mock = hosts.start("m", [LLMSUITE, "mock", "--port", str(port), "--cache", "none",
                             "--profiles", "models.yaml"], mock_dir)
    _wait_listening(mock, mock_dir / "out.log")
    common = ["--corpus", "c.jsonl", "--target", f"http://127.0.0.1:{port}", "--users", "4",
              "--spawn-rate", "20", "--duration", "30", "--run-id", "run", "--out", "."]
    master_dir = _folder(tmp_path, "master", rows)
    master = hosts.start("m", [LLMSUITE, "run", *common, "--master", "--expect-workers", "2",
                               "--master-port", str(master_port), "--no-analyze"], master_dir)
    folders = [_folder(tmp_path, f"w{i}", rows) for i in (0, 1)]
    workers = [hosts.start(f"w{i}", [LLMSUITE, "run", *common, "--worker", "--master-port", str(master_port),
                                     "--no-analyze"], folder) for i, folder in enumerate(folders)]
    return master, workers, master_dir, folders


def test_master_and_two_workers_on_separate_hosts_end_with_one_complete_log(tmp_path: Path,
                                                                             hosts: Hosts) -> None:
    rows = [corpus_line(i, "gpt-4o", f"question {i}", None, max_tokens=4) for i in range(N)]
    target_port = 18080 if hosts.prefix else free_port()
    master_port = 15557 if hosts.prefix else free_port()
    mock_dir = _folder(tmp_path, "target", [])
    (mock_dir / "models.yaml").write_text(yaml.safe_dump(PROFILES))
    mock = hosts.start("m", [LLMSUITE, "mock", "--host", hosts.master_addr, "--port", str(target_port),
                             "--cache", "none", "--profiles", "models.yaml"], mock_dir)
    _wait_listening(mock, mock_dir / "out.log")
    target = f"http://{hosts.master_addr}:{target_port}"
    common = ["--corpus", "c.jsonl", "--target", target, "--users", "4", "--spawn-rate", "20",
              "--duration", "30", "--run-id", "run", "--out", "."]
    master_dir = _folder(tmp_path, "master", rows)
    worker_dirs = [_folder(tmp_path, f"w{i}", rows) for i in (0, 1)]
    master = hosts.start("m", [LLMSUITE, "run", *common, "--master", "--expect-workers", "2",
                               "--master-port", str(master_port)], master_dir)
    workers = [hosts.start(f"w{i}", [LLMSUITE, "run", *common, "--worker", "--master-host", hosts.master_addr,
                                     "--master-port", str(master_port), "--no-analyze"], folder)
               for i, folder in enumerate(worker_dirs)]
    for proc in (master, *workers):
        try:
            proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail("the run did not end:\n" + (master_dir / "out.log").read_text(errors="replace"))
    out = (master_dir / "out.log").read_text(errors="replace")
    assert [p.returncode for p in (master, *workers)] == [0, 0, 0], out

    run = master_dir / "run"
    assert f"sent {N}, recorded {N}" in out
    got = [r for i in (0, 1) for r in _lines(run / f"requests.w{i}.jsonl")]
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in rows)  # every record, none twice
    assert {r["target"] for r in got} == {target}
    shards = sorted(p for folder in worker_dirs for p in (folder / "run").glob("requests.w*.jsonl"))
    assert sorted(p.name for p in shards) == ["requests.w0.jsonl", "requests.w1.jsonl"]  # index: the master's
    for shard in shards:  # the master's copy is the worker's local shard, byte for byte
        assert (run / shard.name).read_bytes() == shard.read_bytes()
    meta = orjson.loads((run / "run.json").read_bytes())
    extra = meta["extra"]
    assert extra["sent"] == extra["records"] == N and "partial" not in extra
    assert sorted(w["shard"]["index"] for w in extra["workers"]) == [0, 1]
    assert sum(w["shipped"] for w in extra["workers"]) == N
    assert extra["shipping"]["not_drained"] == []
    assert not any("copy their" in w for w in extra.get("warnings", []))
    summary = orjson.loads((run / "summary.json").read_bytes())
    assert summary["run"]["records"] == N and summary["run"]["workers"] == 2  # analysed at the master
    assert (run / "report.html").exists()


def test_a_worker_that_vanishes_is_named_at_the_master_with_what_it_sent_flushed_and_shipped(
        tmp_path: Path, hosts: Hosts) -> None:
    """Worker 1 is SIGKILLed mid-run: the master's folder keeps what it shipped, and the partial
    mark names it with the counts it last reported. Loopback is enough here (no namespaces)."""
    rows = [corpus_line(i, "gpt-4o", f"question {i}", None, max_tokens=4) for i in range(240)]
    master, workers, master_dir, folders = _loopback_run(tmp_path, hosts, rows)
    shipped, shipped_meta = master_dir / "run" / "requests.w1.jsonl", master_dir / "run" / "run.w1.json"

    def reported() -> bool:
        """10 records shipped, and a meta (shipped every second) that has counted a flush."""
        if not (shipped.exists() and shipped.read_bytes().count(b"\n") >= 10 and shipped_meta.exists()):
            return False
        try:
            return (orjson.loads(shipped_meta.read_bytes())["extra"].get("records") or 0) >= 1
        except orjson.JSONDecodeError:
            return False  # caught mid-write

    deadline = time.monotonic() + WAIT_S
    while not reported():
        assert time.monotonic() < deadline, (master_dir / "out.log").read_text(errors="replace")
        time.sleep(0.1)
    meta = orjson.loads(shipped_meta.read_bytes())  # shipped with the records
    locust_worker = int(str(meta["extra"]["worker"]).rpartition(":")[2])
    os.kill(locust_worker, signal.SIGKILL)
    master.wait(timeout=WAIT_S)
    out = (master_dir / "out.log").read_text(errors="replace")
    assert master.returncode == 0, out

    extra = orjson.loads((master_dir / "run" / "run.json").read_bytes())["extra"]
    (lost,) = extra["partial"]["lost_workers"]
    kept = shipped.read_bytes().splitlines()
    assert lost["index"] == 1 and lost["worker"] == meta["extra"]["worker"]
    assert lost["shipped"] == lost["records"] == len(kept) >= 10
    assert lost["sent"] >= lost["flushed"] >= 1  # as it last reported them
    # with the ids it then had in flight: those named never reached the master
    assert lost["in_flight_unrecorded"] is not None
    assert len(lost["in_flight_ids"]) == min(lost["in_flight_unrecorded"], 20) <= lost["in_flight"]
    assert not set(lost["in_flight_ids"]) & {orjson.loads(line)["id"] for line in kept}
    assert f"worker 1 ({meta['extra']['worker']}) vanished mid-run" in extra["partial"]["reason"]
    total = sum(len((master_dir / "run" / f"requests.w{i}.jsonl").read_bytes().splitlines()) for i in (0, 1))
    assert f"sent {total}, recorded {total}" in out
    for proc in workers:
        proc.wait(timeout=WAIT_S)


def test_a_stopped_master_lets_its_workers_ship_what_they_recorded(tmp_path: Path, hosts: Hosts) -> None:
    """Ctrl-C (SIGINT) at the master's runner mid-run: the run ends through the finish handshake,
    so each worker's last records reach the master's folder (its copies end byte-equal to the
    workers' own shards) instead of staying behind on the worker hosts. Loopback is enough here."""
    rows = [corpus_line(i, "gpt-4o", f"question {i}", None, max_tokens=4) for i in range(240)]
    master, workers, master_dir, folders = _loopback_run(tmp_path, hosts, rows)
    run = master_dir / "run"

    def shipped() -> int:
        return sum(p.read_bytes().count(b"\n") for p in run.glob("requests.w*.jsonl"))

    deadline = time.monotonic() + WAIT_S
    while shipped() < 10:
        assert time.monotonic() < deadline, (master_dir / "out.log").read_text(errors="replace")
        time.sleep(0.1)
    os.kill(master.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends the runner
    master.wait(timeout=WAIT_S)
    for proc in workers:
        proc.wait(timeout=WAIT_S)
    out = (master_dir / "out.log").read_text(errors="replace")
    total = 0
    for i, folder in enumerate(folders):
        (local,) = (folder / "run").glob("requests.w*.jsonl")
        total += len(local.read_bytes().splitlines())
        assert (run / local.name).read_bytes() == local.read_bytes(), f"worker {i} not drained:\n{out}"
    assert 10 <= total < len(rows)  # stopped mid-run, and every record sent reached the master
    assert f"sent {total}, recorded {total}" in out
    assert master.returncode == 130, out
    assert "lets its workers ship" in out
    extra = orjson.loads((run / "run.json").read_bytes())["extra"]
    assert extra["interrupted"]["signal"] == "SIGINT"
    assert extra["shipping"]["not_drained"] == []
