"""Running ``llmsuite`` against the test gateway as a user would: a subprocess, the key in an
environment variable named by ``--api-key-env``, JSON outputs read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
KEY_ENV = "GW_TEST_KEY"  # deliberately neither LLMSUITE_API_KEY nor OPENAI_API_KEY


def llmsuite(*args: str, key: str | None = "gw-test-key", timeout: float = 120,
             cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the key in ``KEY_ENV`` only (the default key variables are removed, so a
    command that ignores --api-key-env goes without a key)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LLMSUITE_API_KEY", "OPENAI_API_KEY")}
    if key is not None:
        env[KEY_ENV] = key
    return subprocess.run([sys.executable, "-m", "suite.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def records(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of a run folder, all shards."""
    return [rec for shard in sorted(run_dir.glob("requests*.jsonl")) for rec in read_jsonl(shard)]


def find_keys(tree: Any, fragment: str, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, value) whose key contains ``fragment``: the exact names of fields that
    are being built right now are not fixed yet, their meaning is."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            here = f"{path}.{k}" if path else str(k)
            if fragment in str(k):
                yield here, v
            yield from find_keys(v, fragment, here)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from find_keys(v, fragment, f"{path}[{i}]")


def value(field: Any) -> Any:
    """A summary Value ({"value": ...}) or a bare number → the number (None when not computed)."""
    return field.get("value") if isinstance(field, dict) else field


def synth_corpus(path: Path, n: int, repeat_ratio: float, models: dict[str, int] | None = None,
                 seed: int = 5) -> Path:
    """A tiny ops-assistant corpus answered in 8 tokens (test setup only; the gateway never
    imports the suite)."""
    from suite import api

    return api.synthesize("ops-assistant", path, n=n, seed=seed, repeat_ratio=repeat_ratio,
                          models=models or {"gpt-4o": 1},
                          overrides={"max_tokens": {"choices": [8]}}).corpus


def marker_word(corpus: Path, most: float = 0.25) -> str:
    """A word of the corpus's user messages found in as many requests as possible, but at most
    ``most`` of them: the gateway answers those 400, the rest succeed."""
    rows = read_jsonl(corpus)
    counts: dict[str, int] = {}
    for row in rows:
        user = " ".join(m["content"] for m in row["messages"] if m["role"] == "user")
        for word in set(user.split()):
            counts[word] = counts.get(word, 0) + 1
    fitting = [(c, w) for w, c in counts.items() if c <= most * len(rows) and len(w) > 3]
    return max(fitting)[1]


def salt_of(result: dict[str, Any]) -> str | None:
    """The salt a sweep.json / compare.json recorded (a bare string or ``{"value": ...}``)."""
    for _, found in find_keys(result, "salt"):
        salt = found.get("value") if isinstance(found, dict) else found
        if isinstance(salt, str) and salt:
            return salt
    return None
