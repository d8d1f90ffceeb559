"""Golden outputs: fixed inputs in, byte-identical files out, for every file contract a refactor could break.

Why: a no-behaviour-change refactor (modules moving around) must leave every output file exactly as
it was. This test replays fixed inputs through the public entry points and compares each produced
file with the copy captured from the code *before* the refactor, byte for byte:

* ``synth``: two scenarios with fixed seeds and knobs -> corpus ``.jsonl`` + ``.manifest.json``;
* ``analyze``: recorded run folders (``tests/golden/runs/``, real short runs against the bundled
  mock) -> ``summary.json``, ``per_model.csv``, ``requests.csv`` (run B with its injected faults also
  ``report.html``), with and without ``--slo`` (a passing and a failing verdict, exit codes 0 and 7);
* ``compare``: run A (gpt-4o) vs run B (a gpt-5-mini model-override copy of the same corpus) ->
  ``compare.json``, ``compare.csv``, ``compare.html``;
* ``sweep``: ``sweep_cache`` / ``sweep_load`` assembled from recorded step runs (``run_step`` and
  ``sweep_target`` are replaced by functions that load the stored runs instead of sending traffic)
  -> ``sweep.json``, ``sweep.csv``.

Pure: no sockets, no servers. The run folders are copied into a temporary directory first.

Normalization (the only differences tolerated), applied to the produced bytes before comparing:

* absolute locations: the temporary copy of ``tests/golden/runs`` -> ``@GOLDEN_RUNS@``, any other
  temporary working directory -> ``@WORK@``, the repository root the ``suite`` package is imported
  from (``corpora/profiles/models.yaml`` appears in sweep settings) -> ``@REPO@``;
* third-party library versions recorded by the *current* process in a ``"generator"`` block
  (``numpy``/``pandas``/``pyarrow`` in summary.json, ``faker``/``tiktoken`` in corpus manifests)
  -> ``@VERSION@``: they change with ``pip install -U`` and not with our code. The suite's own
  ``version`` is not normalized.

Recorded inputs hold ``@GOLDEN_RUNS@`` where the recording had an absolute path (run.json's
``corpus``, a model-override manifest's ``derived_from.corpus``); the copy substitutes the real
temporary path, so the code reads what a real run folder holds.

Regenerate the expected files (only from an unchanged checkout: they are the reference)::

    LLMSUITE_REGEN_GOLDEN=1 python -m pytest tests/unit/test_golden.py -q -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

# ------------------------------------------------------------------------------------------------------
# MODULE PATHS. Every suite module this test imports or patches is named in this block and nowhere
# else. Whoever moves one of these modules updates THIS block (the objects keep their names and
# signatures; if they do not, the refactor changed behaviour and the golden set says so).
import suite  # only to find the repository root the package is imported from (normalized to @REPO@)
from suite import api  # api.analyze: the fake sweep step analyzes a stored run
from suite.cli import cli  # the `llmsuite` click group
from suite.compare.read.samples import load_samples  # a run folder -> RunSamples, as run_step returns it
from suite.compare.summarize.deltas import Boot  # bootstrap settings of a sweep (seeded: deterministic CIs)
from suite.sweep import run as sweep_module  # sweep_cache/_load, StepPlan, Target; run_step, sweep_target
from suite.sweep.files import write_sweep  # sweep.json / .csv / .png / .html writer

# ------------------------------------------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
RUNS = GOLDEN / "runs"
EXPECTED = GOLDEN / "expected"
REGEN = os.environ.get("LLMSUITE_REGEN_GOLDEN") == "1"
RUNS_TOKEN = "@GOLDEN_RUNS@"
REPO_ROOT = Path(suite.__file__).resolve().parent.parent
GENERATOR_BLOCK = re.compile(r'"generator": \{[^{}]*\}')
LIBRARY_VERSION = re.compile(r'"(numpy|pandas|pyarrow|faker|tiktoken)": "[^"]*"')


@dataclass(frozen=True)
class Work:
    """Where one producer ran: its temporary directory, the folder its outputs are in, and the copy of
    the recorded runs it used (if any)."""

    root: Path
    out: Path
    runs: Path | None = None

    def normalize(self, data: bytes) -> bytes:
        """The produced bytes with absolute locations and library versions replaced (module docstring)."""
        text = data.decode("utf-8")
        places = [(str(self.runs), RUNS_TOKEN)] if self.runs else []
        places += [(str(self.root), "@WORK@"), (str(REPO_ROOT), "@REPO@")]
        for path, token in sorted(places, key=lambda p: -len(p[0])):
            text = text.replace(path, token)
        text = GENERATOR_BLOCK.sub(lambda m: LIBRARY_VERSION.sub(r'"\1": "@VERSION@"', m.group(0)), text)
        return text.encode("utf-8")


def copy_runs(root: Path) -> Path:
    """``tests/golden/runs`` copied under ``root``, ``@GOLDEN_RUNS@`` replaced by the copy's path."""
    runs = root / "runs"
    shutil.copytree(RUNS, runs)
    for path in runs.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        if RUNS_TOKEN in text:
            path.write_text(text.replace(RUNS_TOKEN, str(runs)), encoding="utf-8")
    return runs


def invoke(args: list[str], expect_exit: int = 0) -> None:
    """Run ``llmsuite ARGS`` in-process; the exit code is part of the contract too."""
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == expect_exit, f"llmsuite {' '.join(args)} exited {result.exit_code}:\n" \
                                            f"{result.output}"


# --- producers: each makes a set of files in its own working directory ----------------------------------


def synth_ops(root: Path) -> Work:
    """Exact repeats on the long-system-prompt scenario: same spec + seed must give the same bytes."""
    invoke(["synth", "-s", "ops-assistant", "--n", "120", "--seed", "7", "--repeat-ratio", "0.3",
            "-o", str(root / "ops.jsonl")])
    return Work(root, root)


def synth_finance(root: Path) -> Work:
    """Paraphrases, zipf popularity, per-user scope, gamma arrivals and a model mix given on the CLI."""
    invoke(["synth", "-s", "finance", "--n", "80", "--seed", "3", "--near-duplicate-ratio", "0.2",
            "--models", "gpt-4o,gpt-5-mini", "-o", str(root / "finance.jsonl")])
    return Work(root, root)


def analyzer(run: str, *options: str, expect_exit: int = 0) -> Callable[[Path], Work]:
    """``llmsuite analyze [OPTIONS] RUN`` on a fresh copy of the recorded runs; outputs in the run folder."""

    def produce(root: Path) -> Work:
        runs = copy_runs(root)
        invoke(["analyze", *options, str(runs / run)], expect_exit)
        return Work(root, runs / run, runs)

    return produce


def compare_a_b(root: Path) -> Work:
    """A model swap (same source corpus: paired per-request deltas), B with failed requests."""
    runs = copy_runs(root)
    out = root / "compare"
    invoke(["compare", str(runs / "run-a"), str(runs / "run-b"), "-o", str(out)])
    return Work(root, out, runs)


@contextlib.contextmanager
def stored_steps(folder: Path, expect: dict[str, dict[str, Any]]) -> Iterator[None]:
    """``suite.sweep`` sends no traffic: its target is a placeholder and each step returns the run
    recorded in ``folder/<run_id>`` (samples, manifest, summary exactly as ``run_step`` builds them),
    after checking the step asks for what that run was recorded with."""

    @contextlib.contextmanager
    def no_target(plan: Any, ui: Any) -> Iterator[Any]:
        yield sweep_module.Target("http://127.0.0.1:9", None)  # never contacted

    def run_step(plan: Any, target: Any, run_id: str, i: int, *, repeat_ratio: float | None = None,
                 users: int | None = None, rate: float | None = None,
                 corpus: Path | None = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        got = {"i": i, "seed": plan.seed_for(i), "repeat_ratio": repeat_ratio, "users": users, "rate": rate,
               "corpus": corpus}
        assert got == expect[run_id], f"step {run_id}: asked {got}, recorded {expect[run_id]}"
        run_dir = folder / run_id
        manifest: dict[str, Any] = {}
        if corpus is None:  # run_step synthesized the step's corpus: its manifest comes back too
            manifest = json.loads((run_dir / "corpus.manifest.json").read_bytes())
        summary = api.analyze(run_dir, slo=plan.slo).summary
        return load_samples(run_dir, run_id), manifest, summary

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep_module, "sweep_target", no_target)
        mp.setattr(sweep_module, "run_step", run_step)
        yield


def sweep_cache(root: Path) -> Work:
    """The steps were recorded as ``sweep cache`` on the mock records them: one finance corpus per ratio
    (n 80, seed 5, gpt-4o:1,gpt-5-mini:1, max_tokens 8/16), 8 users, the cache flushed before each."""
    runs = copy_runs(root)
    out = root / "sweep-cache"
    plan = sweep_module.StepPlan(out=out, scenario="finance", n=80, users=8, seed=5,
                                 models={"gpt-4o": 1.0, "gpt-5-mini": 1.0}, max_tokens=(8, 16),
                                 cache="memory", slo="multi-tenant", boot=Boot())
    common = {"seed": 5, "users": None, "rate": None, "corpus": None}
    expect = {"ratio-0": {"i": 0, "repeat_ratio": 0.0, **common},
              "ratio-0.5": {"i": 1, "repeat_ratio": 0.5, **common}}
    with stored_steps(runs / "sweep-cache", expect):
        result = sweep_module.sweep_cache(plan, [0.5, 0.0])
    write_sweep(out, result)
    return Work(root, out, runs)


def sweep_load(root: Path) -> Work:
    """One non-streaming finance corpus replayed at 2 and 8 users (closed loop), as ``sweep load -c``
    does; checked against the ``high-frequency`` SLO, which both levels fail (the knee is the first)."""
    runs = copy_runs(root)
    out = root / "sweep-load"
    corpus = runs / "sweep-load" / "corpus.jsonl"
    plan = sweep_module.StepPlan(out=out, scenario="finance", n=80, users=1, seed=9, cache="none",
                                 slo="high-frequency", boot=Boot())
    common = {"seed": 9, "repeat_ratio": None, "rate": None, "corpus": corpus}
    expect = {"users-2": {"i": 0, "users": 2, **common}, "users-8": {"i": 1, "users": 8, **common}}
    with stored_steps(runs / "sweep-load", expect):
        result = sweep_module.sweep_load(plan, users=[8, 2], corpus=corpus)
    write_sweep(out, result)
    return Work(root, out, runs)


ANALYZED = ("summary.json", "per_model.csv", "requests.csv")
SWEEP_FILES = ("sweep.json", "sweep.csv")
# producer -> (how, the files it makes that are golden). Every file below is byte-deterministic; left
# out only to keep tests/golden small: the PNG charts on their own (report.html / compare.html embed
# theirs, so they are still compared), the other runs' report.html (run B's shows the whole renderer,
# errors table included) and sweep.html (~100 kB each, mostly its PNG).
PRODUCERS: dict[str, tuple[Callable[[Path], Work], tuple[str, ...]]] = {
    "synth-ops-assistant": (synth_ops, ("ops.jsonl", "ops.manifest.json")),
    "synth-finance": (synth_finance, ("finance.jsonl", "finance.manifest.json")),
    "analyze-run-a": (analyzer("run-a"), ANALYZED),
    "analyze-run-b": (analyzer("run-b"), (*ANALYZED, "report.html")),
    "analyze-run-a-slo-multi-tenant": (analyzer("run-a", "--slo", "multi-tenant"), ("summary.json",
                                                                                    "per_model.csv")),
    "analyze-run-b-slo-high-frequency": (analyzer("run-b", "--slo", "high-frequency", expect_exit=7),
                                         ("summary.json", "per_model.csv")),
    "compare-run-a-run-b": (compare_a_b, ("compare.json", "compare.csv", "compare.html")),
    "sweep-cache": (sweep_cache, SWEEP_FILES),
    "sweep-load": (sweep_load, SWEEP_FILES),
}
CASES = [f"{producer}/{name}" for producer, (_, names) in PRODUCERS.items() for name in names]


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Work]:
    """Each producer runs once per module, however many of its files are checked."""
    done: dict[str, Work] = {}

    def get(producer: str) -> Work:
        if producer not in done:
            done[producer] = PRODUCERS[producer][0](tmp_path_factory.mktemp(producer).resolve())
        return done[producer]

    return get


def first_difference(expected: bytes, actual: bytes, context: int = 3, limit: int = 60) -> str:
    """A unified diff around the first differing lines (long lines cut), to see what changed."""
    def lines(data: bytes) -> list[str]:
        return [line[:400] + (" ..." if len(line) > 400 else "")
                for line in data.decode("utf-8", "replace").splitlines()]

    diff = list(difflib.unified_diff(lines(expected), lines(actual), "expected", "actual", n=context,
                                     lineterm=""))
    more = f"\n... ({len(diff) - limit} more diff lines)" if len(diff) > limit else ""
    return "\n".join(diff[:limit]) + more if diff else "(same lines; line endings or final newline differ)"


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, produced: Callable[[str], Work]) -> None:
    producer, name = case.split("/")
    work = produced(producer)
    actual = work.normalize((work.out / name).read_bytes())
    expected_path = EXPECTED / producer / name
    if REGEN:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_bytes(actual)
        return
    assert expected_path.exists(), f"{expected_path} missing: generate it with LLMSUITE_REGEN_GOLDEN=1 " \
                                   "from an unchanged checkout"
    expected = expected_path.read_bytes()
    if actual != expected:
        pytest.fail(f"{case} differs from {expected_path.relative_to(GOLDEN.parent)}:\n"
                    f"{first_difference(expected, actual)}", pytrace=False)


def test_no_stray_expected_files() -> None:
    """Every expected file is checked by a case (a renamed case must not leave a stale file behind)."""
    on_disk = sorted(str(p.relative_to(EXPECTED)) for p in EXPECTED.rglob("*") if p.is_file())
    assert on_disk == sorted(CASES)
