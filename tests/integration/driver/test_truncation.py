"""A run its limit stops before the corpus is exhausted says so: real Locust, the real mock on loopback.

- ``-d 2`` on a corpus a slow model cannot finish in 2 s: the terminal's ``truncated:`` line,
  summary.json's ``run.coverage`` and report.html's banner name the requests never sent;
- ``--max-requests`` names itself as the stop.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from suite.records import write_jsonl
from suite.services import stop_pid
from tests.integration.conftest import MockServer, launch_mock_server
from tests.integration.driver.test_locust_run import corpus_line

pytestmark = pytest.mark.integration

SLOW = {"ttft_base_s": 0.4, "ttft_jitter_s": 0.0, "tokens_per_s": float("inf"),
        "output_tokens": {"median": 4, "spread": 0.0}, "encoding": "o200k_base"}
N = 200  # 2 users at ~0.4 s a request send ~10 in 2 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    profiles = tmp_path_factory.mktemp("profiles") / "models.yaml"
    profiles.write_text(yaml.safe_dump({"models": {"slow": SLOW}}))
    started = launch_mock_server(tmp_path_factory.mktemp("mock"), cache="none", profiles=profiles)
    try:
        yield started
    finally:
        started.stop()


def _run_cli(args: list[str], cwd: Path) -> tuple[int, str]:
    write_jsonl(cwd / "c.jsonl", [corpus_line(i, "slow", f"q {i}", None, max_tokens=4) for i in range(N)])
    llmsuite = Path(sys.executable).with_name("llmsuite")
    proc = subprocess.Popen([str(llmsuite), "run", "-c", "c.jsonl", "--run-id", "r", "--out", "runs",
                             "-u", "2", "--monitor-interval", "0", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=90)
    finally:
        stop_pid(proc)
    return proc.returncode or 0, out.decode()


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_a_duration_cut_names_the_unsent_requests(tmp_path: Path, server: MockServer) -> None:
    code, text = _run_cli(["-t", server.url, "-d", "2"], tmp_path)
    assert code == 0, text
    summary = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    cov = summary["run"]["coverage"]
    sent = summary["totals"]["sent"]
    assert 0 < sent < N
    assert cov == {"corpus_requests": N, "sent": sent, "not_sent": N - sent, "stopped_by": "duration",
                   "note": f"stopped by the duration limit (2 s) after {sent} of {N} corpus requests "
                           f"({N - sent} not sent)"}
    flat = re.sub(r"\s+", " ", text)  # rich may wrap a long line
    assert f"truncated: {cov['note']}" in flat
    assert summary["headlines"][0].startswith(f"the run was {cov['note']}")
    banner = f"<li class=warn><b>TRUNCATED run:</b> {cov['note']};"
    assert banner in (tmp_path / "runs" / "r" / "report.html").read_text()


@pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")
def test_max_requests_names_itself(tmp_path: Path, server: MockServer) -> None:
    code, text = _run_cli(["-t", server.url, "-d", "30", "--max-requests", "4", "--no-analyze"], tmp_path)
    assert code == 0, text
    assert (f"truncated: stopped by --max-requests 4 after 4 of {N} corpus requests ({N - 4} not sent)"
            in re.sub(r"\s+", " ", text))
