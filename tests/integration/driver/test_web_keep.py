"""``llmsuite run --web --web-keep``: the run is recorded and analyzed, then Locust's web UI stays up
until Ctrl-C, which ends the command with the run's own exit code (0) and Locust stopped by PID.

Real CLI process, real Locust, the bundled mock with fast profiles; loopback only; every wait bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from suite.records import write_jsonl
from suite.services import free_port
from tests.integration.conftest import MockServer, launch_mock_server
from tests.integration.driver.test_locust_run import corpus_line

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")]

ROOT = Path(__file__).resolve().parents[3]
FAST = {"ttft_base_s": 0.0, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
WAIT_S = 90.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MockServer]:
    profiles = tmp_path / "models.yaml"
    profiles.write_text(yaml.safe_dump({"models": {"quick": FAST}}))
    started = launch_mock_server(tmp_path / "mock", cache="memory", profiles=profiles)
    try:
        yield started
    finally:
        started.stop()


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_web_keep_keeps_the_ui_after_the_written_run_until_ctrl_c(tmp_path: Path, server: MockServer) -> None:
    corpus = tmp_path / "c.jsonl"
    write_jsonl(corpus, [corpus_line(i, "quick", f"keep question {i}", None, max_tokens=4)
                         for i in range(12)])
    web = free_port()
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "suite.cli", "run", "-c", str(corpus), "-t", server.url, "-u", "2", "-d", "30",
         "--web", "--web-port", str(web), "--web-keep", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT_S
        report = None
        while time.monotonic() < deadline and proc.poll() is None:
            report = next(out.glob("*/report.html"), None)
            if report is not None and (report.parent / "summary.json").exists():
                break
            time.sleep(0.25)
        assert report is not None and proc.poll() is None, "the run never wrote its report, or exited"
        ui = f"http://127.0.0.1:{web}/"
        time.sleep(1.0)  # the report came before the wait: the UI must still be up after it
        assert _answers(ui), "the web UI is gone although --web-keep was given"
        meta = orjson.loads((report.parent / "run.json").read_bytes())
        assert meta["extra"]["final"] and meta["extra"]["sent"] == meta["extra"]["records"] == 12
        locust_pid = int(str(meta["extra"]["worker"]).rpartition(":")[2])
        assert _alive(locust_pid)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    text = stdout.decode()
    assert proc.returncode == 0, text + stderr.decode()
    assert f"web UI still up at http://127.0.0.1:{web}" in text and "press Ctrl-C to stop" in text
    assert text.index("report: ") < text.index("web UI still up")  # written before the wait
    assert "web UI stopped" in text and "Interrupted" not in stderr.decode()
    assert not _answers(ui)
    deadline = time.monotonic() + 10
    while _alive(locust_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(locust_pid)
