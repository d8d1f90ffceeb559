"""The CI recipes of docs/ci.md run as written: both YAML files are parsed, the shell of their llmsuite
steps is executed with bash the way GitHub Actions and GitLab CI run it, against the bundled mock on
loopback standing in for the target behind the secrets.

What is emulated, and nothing more: GitHub's ``${{ secrets.X }}`` / ``${{ vars.X }}`` /
``${{ github.* }}`` / ``${{ inputs.* }}`` in ``env:`` (an expression this file does not know fails the
test), ``$GITHUB_ENV``, ``if: always()`` and a failed step skipping the ones after it; GitLab's job
``variables``, ``script`` in one shell and ``after_script`` in another. Steps that install, check
out, cache or upload are skipped by name, and the test asserts exactly which. Users and duration
come from ``LLMSUITE_USERS`` / ``LLMSUITE_DURATION``, which the recipes read with the schedule's
values as defaults, so a run here lasts seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.driver.control.shapes import PRESETS
from suite.init.scenario import copy_scenario
from tests.integration.conftest import MockServer

REPO = Path(__file__).resolve().parents[3]
GITHUB = REPO / "corpora" / "ci" / "github-actions.yml"
GITLAB = REPO / "corpora" / "ci" / "gitlab-ci.yml"
KEY = "ci-SENTINEL-9f2e"
SHORT = {"LLMSUITE_USERS": "2", "LLMSUITE_DURATION": "4s"}
# steps that need GitHub's machinery or the network, not the suite: skipped, and asserted to be these
GITHUB_SKIPPED = {"Checkout": "uses", "Set up Python": "uses", "Install the suite": "pip install",
                  "Restore reports and baselines": "uses", "Save reports and baselines": "uses",
                  "Upload reports": "uses"}
STEP_TIMEOUT_S = 240
PROFILE = {"ttft_jitter_s": 0.005, "tps_jitter": 0.1, "output_tokens": {"median": 24, "spread": 0.2}}


def recipe(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    return doc


def github_job() -> dict[str, Any]:
    return recipe(GITHUB)["jobs"]["llmsuite"]


def github_triggers() -> dict[str, Any]:
    doc = recipe(GITHUB)
    return doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on:` key as True


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without anything a recipe reads, plus the suite on PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LLMSUITE_", "GITHUB_", "CI_")) and k != "OPENAI_API_KEY"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def bash(script: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The shell both CI systems use for these steps: bash, -e, -o pipefail."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
                          env=dict(env), capture_output=True, text=True, timeout=STEP_TIMEOUT_S, check=False)


_EXPR = re.compile(r"^\$\{\{\s*([\w.\-]+)\s*\}\}$")


def resolve(value: Any, context: Mapping[str, str]) -> str:
    """A GitHub ``env:`` value: a literal, or one ``${{ name }}`` this test knows the value of."""
    text = str(value)
    match = _EXPR.match(text)
    if match is None:
        assert "${{" not in text, f"an expression this test cannot emulate: {text}"
        return text
    name = match.group(1)
    if name not in context:
        pytest.fail(f"the GitHub recipe reads {name}, which this test does not emulate: add it")
    return context[name]


@dataclass
class StepRun:
    name: str
    code: int | None  # None: not run (an earlier step failed and this one has no `if: always()`)
    output: str


def run_github(workdir: Path, context: Mapping[str, str], only: str | None = None) -> list[StepRun]:
    """The job's steps in order, as a runner would; skipped steps are left out of the result."""
    job = github_job()
    github_env = workdir / ".github_env"
    github_env.write_text("", encoding="utf-8")
    env = clean_env({k: resolve(v, context) for k, v in job.get("env", {}).items()})
    env["GITHUB_ENV"] = str(github_env)
    runs: list[StepRun] = []
    failed = False
    for step in job["steps"]:
        name = step["name"]
        if name in GITHUB_SKIPPED or (only is not None and name != only):
            continue
        if failed and "always()" not in str(step.get("if", "")):
            runs.append(StepRun(name, None, ""))
            continue
        step_env = {**env, **{k: resolve(v, context) for k, v in step.get("env", {}).items()}}
        done = bash(step["run"], workdir, step_env)
        runs.append(StepRun(name, done.returncode, done.stdout + done.stderr))
        failed = failed or done.returncode != 0
        for line in github_env.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            env[key] = value
    return runs


def gitlab_job() -> dict[str, Any]:
    return recipe(GITLAB)["llmsuite"]


def run_gitlab(workdir: Path, variables: Mapping[str, str]) -> tuple[StepRun, StepRun]:
    """``script`` in one shell (it stops at the first failure), then ``after_script`` in another,
    whatever ``script`` did; ``before_script`` (the install) is skipped."""
    job = gitlab_job()
    env = clean_env({**{k: str(v) for k, v in job.get("variables", {}).items()}, **variables})
    script = bash("\n".join(job["script"]), workdir, env)
    after = bash("\n".join(job["after_script"]), workdir, env)
    return (StepRun("script", script.returncode, script.stdout + script.stderr),
            StepRun("after_script", after.returncode, after.stdout + after.stderr))


def project(root: Path, server: MockServer, slo: str = "error_ratio < 0.5") -> Path:
    """What a project repository holds after `llmsuite init`: target, scenario and SLO files."""
    workdir = root / "project"
    copy_scenario("ops-assistant", workdir)
    target = f"url: {server.url}\napi_key_env: LLMSUITE_API_KEY\n"
    (workdir / "target.yaml").write_text(target, encoding="utf-8")
    (workdir / "slo.yaml").write_text(f"name: ci-test\nchecks: [{json.dumps(slo)}]\n", encoding="utf-8")
    return workdir


def profiles(root: Path, slowdown: float) -> Path:
    """The scenario's two models, fast enough for a few dozen requests in seconds; ``slowdown``
    multiplies every time."""
    model = {**PROFILE, "ttft_base_s": 0.04 * slowdown, "tokens_per_s": 800 / slowdown}
    path = root / f"profiles-{slowdown:g}.yaml"
    path.write_text(yaml.safe_dump({"models": {"gpt-4o": model, "gpt-5-mini": model}}), encoding="utf-8")
    return path


def github_context(server: MockServer, event: str = "workflow_dispatch", cron: str = "",
                   plan: str = "", check_args: str = "") -> dict[str, str]:
    return {"secrets.LLMSUITE_TARGET_URL": server.url, "secrets.LLMSUITE_API_KEY": KEY,
            "vars.LLMSUITE_USERS": SHORT["LLMSUITE_USERS"],
            "vars.LLMSUITE_DURATION": SHORT["LLMSUITE_DURATION"], "vars.LLMSUITE_CHECK_ARGS": check_args,
            "github.event_name": event, "github.event.schedule": cron, "inputs.plan": plan}


def history_runs(workdir: Path) -> list[dict[str, Any]]:
    doc = json.loads((workdir / "reports" / "history" / "history.json").read_text(encoding="utf-8"))
    assert (workdir / "reports" / "history" / "history.html").is_file()
    return [run for group in doc["groups"] for run in group["runs"]]


def saved_baselines(workdir: Path, preset: str = "smoke") -> list[Path]:
    folder = workdir / "reports" / "baselines" / preset
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def check_json(run_output: str) -> dict[str, Any]:
    match = re.search(r"check: (\S+check\.json)", run_output)
    assert match, run_output[-3000:]
    return json.loads(Path(match.group(1)).read_text(encoding="utf-8"))


def mock(factory: Callable[..., MockServer], root: Path, slowdown: float = 1.0,
         port: int | None = None) -> MockServer:
    """No response cache (a replayed corpus would be answered from it and look faster); ``port``
    keeps a restarted target at the same URL, so its baseline is still its own."""
    same = ["--port", str(port)] if port is not None else []
    return factory(cache="none", profiles=profiles(root, slowdown), extra_args=["--api-key", KEY, *same])


# ---- what runs, what is skipped -------------------------------------------------------------------

def test_only_install_checkout_cache_and_upload_steps_are_skipped() -> None:
    steps = github_job()["steps"]
    skipped = {s["name"] for s in steps if s["name"] in GITHUB_SKIPPED}
    assert skipped == set(GITHUB_SKIPPED)
    for step in steps:
        if step["name"] in GITHUB_SKIPPED:
            kind = GITHUB_SKIPPED[step["name"]]
            assert ("uses" in step) if kind == "uses" else kind in step["run"], step
        else:
            assert "uses" not in step and step["run"].strip(), step  # everything else is shell, run here
            assert step.get("if", "always()") == "always()" and "shell" not in step, step  # as emulated
    executed = [s["name"] for s in steps if s["name"] not in GITHUB_SKIPPED]
    assert executed == ["Pick the plan", "Check against the baseline", "History"]
    job = gitlab_job()
    assert all("pip install" in line or line == "llmsuite tokenizer" for line in job["before_script"])
    assert any("llmsuite check" in line for line in job["script"])
    assert job["after_script"] == ["llmsuite history reports/"]
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["paths"] == ["reports/"]


def test_the_schedule_is_the_presets() -> None:
    """Each recipe's per-preset users and duration are the preset's own (shapes.PRESETS)."""
    row = re.compile(r"^\s*(\w+)\) users=(\d+); duration=(\d+)m; n=(\d+) ;;$", re.M)
    [github] = [s["run"] for s in github_job()["steps"] if s["name"] == "Check against the baseline"]
    for text in (github, "\n".join(gitlab_job()["script"])):
        rows = {m.group(1): (int(m.group(2)), 60 * int(m.group(3))) for m in row.finditer(text)}
        assert rows == {name: (PRESETS[name].peak_users, PRESETS[name].duration_s)
                        for name in ("smoke", "load", "stress")}
        assert '-u "${LLMSUITE_USERS:-$users}" -d "${LLMSUITE_DURATION:-$duration}"' in text


def test_the_github_plan_follows_the_trigger(tmp_path: Path) -> None:
    crons = [c["cron"] for c in github_triggers()["schedule"]]
    cases = [("schedule", crons[0], "", "smoke"), ("schedule", crons[1], "", "load"),
             ("schedule", crons[2], "", "stress"), ("release", "", "", "validation"),
             ("workflow_dispatch", "", "validation", "validation"), ("workflow_dispatch", "", "", "smoke")]
    assert "release" in github_triggers() and "workflow_dispatch" in github_triggers()
    for event, cron, chosen, plan in cases:
        context = {"github.event_name": event, "github.event.schedule": cron, "inputs.plan": chosen,
                   "secrets.LLMSUITE_TARGET_URL": "", "secrets.LLMSUITE_API_KEY": "",
                   "vars.LLMSUITE_USERS": "", "vars.LLMSUITE_DURATION": "", "vars.LLMSUITE_CHECK_ARGS": ""}
        [step] = run_github(tmp_path, context, only="Pick the plan")
        assert step.code == 0, step.output
        assert (tmp_path / ".github_env").read_text(encoding="utf-8") == f"LLMSUITE_PLAN={plan}\n", event
    context["github.event_name"], context["github.event.schedule"] = "schedule", "1 2 3 4 5"
    [step] = run_github(tmp_path, context, only="Pick the plan")
    assert step.code == 2 and "no plan for the schedule '1 2 3 4 5'" in step.output


# ---- the recipes against a target ---------------------------------------------------------------

def test_github_daily_smoke_saves_then_compares_with_its_baseline(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer]) -> None:
    server = mock(mock_server_factory, tmp_path)
    workdir = project(tmp_path, server)
    cron = github_triggers()["schedule"][0]["cron"]
    # an unchanged target on a busy test host drifts a little between runs (docs/cli.md, check):
    # the recipe's extra-options variable widens the margin, and check.json shows it arrived
    context = github_context(server, "schedule", cron, check_args="--min-effect 0.5")

    first = run_github(workdir, context)
    assert [(s.name, s.code) for s in first] == [("Pick the plan", 0), ("Check against the baseline", 0),
                                                 ("History", 0)], first[1].output[-3000:]
    assert "no baseline yet" in first[1].output
    assert len(saved_baselines(workdir)) == 1

    second = run_github(workdir, context)
    assert [s.code for s in second] == [0, 0, 0], second[1].output[-3000:]
    record = check_json(second[1].output)
    assert record["compared"] and not record["regressed"] and record["exit_code"] == 0
    assert record["thresholds"]["min_effect"] == 0.5 and record["paired"]["paired"]
    assert len(saved_baselines(workdir)) == 2  # a passing run is promoted: the next one compares with it
    assert len(history_runs(workdir)) == 2
    assert KEY not in "".join(s.output for s in first + second)  # the key stays in the environment


def test_github_failed_slo_fails_the_job_and_still_writes_the_history(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer]) -> None:
    server = mock(mock_server_factory, tmp_path)
    workdir = project(tmp_path, server, slo="ttft.p95 < 1ms")
    steps = run_github(workdir, github_context(server, plan="smoke"))
    assert [(s.name, s.code) for s in steps] == [("Pick the plan", 0), ("Check against the baseline", 7),
                                                 ("History", 0)], steps[1].output[-3000:]
    assert "::error::smoke: the SLO failed (exit 7)" in steps[1].output
    assert saved_baselines(workdir) == []  # a failing run is never promoted
    [run] = history_runs(workdir)
    assert run["slo"]["passed"] is False


def test_gitlab_schedule_catches_a_regression(
        tmp_path: Path, mock_server_factory: Callable[..., MockServer]) -> None:
    fast = mock(mock_server_factory, tmp_path)
    workdir = project(tmp_path, fast)
    secrets = {"LLMSUITE_TARGET_URL": fast.url, "LLMSUITE_API_KEY": KEY, "LLMSUITE_PLAN": "smoke", **SHORT}

    script, after = run_gitlab(workdir, secrets)
    assert (script.code, after.code) == (0, 0), script.output[-3000:]
    assert len(saved_baselines(workdir)) == 1

    fast.stop()
    slow = mock(mock_server_factory, tmp_path, slowdown=3.0, port=fast.port)  # the same target, 3x slower
    assert slow.url == fast.url
    script, after = run_gitlab(workdir, secrets)
    assert script.code == 9, script.output[-3000:]
    assert "smoke: a primary metric regressed against the baseline (exit 9)" in script.output
    assert after.code == 0, after.output
    record = check_json(script.output)
    assert record["regressed"] and record["exit_code"] == 9
    assert len(saved_baselines(workdir)) == 1  # the regressed run did not replace the baseline
    runs = history_runs(workdir)
    assert len(runs) == 2


# ---- the shell's own logic, with a stand-in llmsuite that records its arguments ---------------------

def fake_llmsuite(root: Path, codes: Mapping[str, int],
                  extra: Mapping[str, str]) -> tuple[dict[str, str], Path]:
    """A clean environment whose ``llmsuite`` appends its argv to calls.jsonl and exits with
    ``codes[preset]``."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    calls = root / "calls.jsonl"
    script = (f"#!{sys.executable}\nimport json, sys\nargs = sys.argv[1:]\n"
              f"open({str(calls)!r}, 'a').write(json.dumps(args) + '\\n')\n"
              "preset = args[args.index('--preset') + 1] if '--preset' in args else ''\n"
              f"sys.exit({dict(codes)!r}.get(preset, 0))\n")
    (bin_dir / "llmsuite").write_text(script, encoding="utf-8")
    (bin_dir / "llmsuite").chmod(0o755)
    env = clean_env(extra)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env, calls


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


@pytest.mark.parametrize("recipe_name", ["github", "gitlab"])
def test_validation_runs_every_preset_at_its_schedule_and_promotes_nothing(
        recipe_name: str, tmp_path: Path) -> None:
    target = {"LLMSUITE_TARGET_URL": "http://127.0.0.1:9", "LLMSUITE_API_KEY": KEY}
    env, calls = fake_llmsuite(tmp_path, {"load": 9}, {**target, "LLMSUITE_PLAN": "validation"})
    if recipe_name == "github":
        [text] = [s["run"] for s in github_job()["steps"] if s["name"] == "Check against the baseline"]
        done = bash(text, tmp_path, env)
        assert "::error::load: a primary metric regressed against the baseline (exit 9)" in done.stdout
    else:
        done = bash("\n".join(gitlab_job()["script"]), tmp_path, env)
        assert "load: a primary metric regressed against the baseline (exit 9)" in done.stdout
    assert done.returncode == 9, done.stdout + done.stderr  # stress still ran after load regressed
    runs = [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]
    assert [option(a, "--preset") for a in runs] == ["smoke", "load", "stress"]
    for args in runs:
        preset = PRESETS[str(option(args, "--preset"))]
        assert option(args, "-u") == str(preset.peak_users)  # no override: the schedule's own
        assert option(args, "-d") == f"{preset.duration_s / 60:g}m"
        assert "--save-baseline" not in args  # a release candidate is compared, never promoted
        assert option(args, "--baseline") == "latest" and option(args, "--api-key-env") == "LLMSUITE_API_KEY"
        assert option(args, "-t") == "http://127.0.0.1:9" and KEY not in args


def test_gitlab_refuses_an_unknown_plan(tmp_path: Path) -> None:
    env, calls = fake_llmsuite(tmp_path, {}, {"LLMSUITE_PLAN": "nightly"})
    done = bash("\n".join(gitlab_job()["script"]), tmp_path, env)
    assert done.returncode == 2
    assert "LLMSUITE_PLAN=nightly: use smoke, load, stress or validation" in done.stdout
    assert not calls.exists()
