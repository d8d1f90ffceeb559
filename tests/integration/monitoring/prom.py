"""A private Prometheus for the monitoring test: Debian's binary (scripts/ensure-prometheus.sh),
started on a free loopback port with a config and storage in the test's temp folder, stopped by
PID. Never the system service. Its HTTP API is read with the environment's proxies ignored."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.services import free_port, stop_pid

NO_PROMETHEUS = ("needs Debian's prometheus, not found: scripts/ensure-prometheus.sh installs it when "
                 "run as root (`make test` does), or apt-get install -y prometheus")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def find_prometheus() -> str | None:
    return shutil.which("prometheus") or next(
        (p for p in ("/usr/bin/prometheus",) if Path(p).is_file()), None)


@dataclass
class Prometheus:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        stop_pid(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/<path>; the ``data`` of a success, else AssertionError with Prometheus's words."""
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        with _OPENER.open(f"{self.url}/api/v1/{path}?{query}", timeout=5) as resp:
            body = json.loads(resp.read())
        assert body.get("status") == "success", body
        return body["data"]

    def instant(self, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
        """An instant query's vector: labels → value."""
        data = self.api("query", query=expr)
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in data["result"]}

    def ranged(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return list(self.api("query_range", query=expr, start=start, end=end, step=step)["result"])


def start_prometheus(binary: str, config: Path, folder: Path, timeout: float = 15.0) -> Prometheus:
    """Start it and wait for /-/ready; raise with its log if it never gets there."""
    port = free_port()
    log_path = folder / "prometheus.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    prom = Prometheus(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with _OPENER.open(f"{prom.url}/-/ready", timeout=1) as resp:
                if resp.status == 200:
                    return prom
        except OSError:
            pass
        time.sleep(0.1)
    prom.stop()
    raise AssertionError(f"prometheus never became ready (exit {proc.returncode}):\n{prom.log()}")
