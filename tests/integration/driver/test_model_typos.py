"""A mistyped model fails fast: every model a command will use is probed before any load, and an
unknown one exits 4 with the target's own message on one line (issue 15, item 5).

``llmsuite run`` with a corpus model the target lacks is covered in test_faults.py; here swap and
both sweeps, each on the bundled mock it starts itself (loopback), with ``gpt-4o-mni`` for
``gpt-4o-mini``. No request log may exist afterwards: the probe stopped them before Locust.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[3]
SYNTH = ["--n", "12", "-u", "2", "-d", "10"]
COMMANDS = {
    "swap": ["swap", "--models", "gpt-4o,gpt-4o-mni", "--corpus", "{corpus}", "-u", "2", "-d", "10"],
    "sweep load": ["sweep", "load", "--users", "1,2", "--models", "gpt-4o,gpt-4o-mni", *SYNTH],
    "sweep cache": ["sweep", "cache", "--ratios", "0,0.5", "--models", "gpt-4o,gpt-4o-mni", *SYNTH],
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "c.jsonl"
    proc = subprocess.run([sys.executable, "-m", "suite.cli", "synth", "--n", "12", "--seed", "3",
                           "--out", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_mistyped_model_exits_4_before_any_load(command: str, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [a.replace("{corpus}", str(corpus)) for a in COMMANDS[command]]
    proc = subprocess.run([sys.executable, "-m", "suite.cli", *args, "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "gpt-4o-mni" in line]
    assert len(lines) == 1, proc.stderr  # one line, not wrapped, no traceback
    assert lines[0].startswith("Error: ") and "The model 'gpt-4o-mni' does not exist" in lines[0], lines
    assert "Traceback" not in proc.stderr
    assert not list(out.rglob("requests*.jsonl")), "load was sent before the typo was caught"
