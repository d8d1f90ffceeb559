"""``llmsuite init``: probe a target (``--target URL``) and write target.yaml, a starter scenario.yaml
and slo.yaml; or, with ``--scenario NAME`` alone, copy and explain a domain scenario
(suite.init.scenario). The probe and its reasoning live in suite.init; this layer resolves the key,
prints the table and asks before writing."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from suite.cli.common import PositiveFloat, TargetUrl, console, err_console, run_command
from suite.errors import SpecError, TargetError

KEY_ENVS = ("LLMSUITE_API_KEY", "OPENAI_API_KEY")  # as run reads them (suite.cli.targetopts)
STARTER = "ops-assistant"
EPILOG = """\b
Examples:
  # probe a gateway whose key is in $GATEWAY_KEY; write ./target.yaml, scenario.yaml, slo.yaml
  llmsuite init --target https://llm-gw.example.com --api-key-env GATEWAY_KEY
  # then, unchanged:
  llmsuite synth -s scenario.yaml --n 200 -o corpus.jsonl
  llmsuite run --target-file target.yaml -c corpus.jsonl --slo slo.yaml
  # copy and explain a domain scenario (no target needed)
  llmsuite init --scenario finance --out my-project"""


def key_of(api_key_env: str | None) -> tuple[str | None, str | None]:
    """(the variable's name, the key): the named one (unset is an error), else run's defaults."""
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise SpecError(f"--api-key-env {api_key_env}: the environment variable {api_key_env} is not "
                            f"set (or empty); export {api_key_env}=... or name the one that holds the key.")
        return api_key_env, key
    name = next((n for n in KEY_ENVS if os.environ.get(n)), None)
    return name, os.environ.get(name) if name else None


def table(rows: list[tuple[str, str, str]], url: str) -> Table:
    out = Table(title=f"llmsuite init: what {url} looks like", show_lines=False)
    out.add_column("item", style="bold", no_wrap=True)
    out.add_column("conclusion")
    out.add_column("evidence", style="dim")
    for item, conclusion, evidence in rows:
        out.add_row(escape(item), escape(conclusion), escape(evidence))
    return out


@click.command(name="init", epilog=EPILOG)
@click.option("--target", "-t", type=TargetUrl(), default=None,
              help="Base URL to probe, e.g. http://127.0.0.1:8000 (a trailing /v1 is dropped).")
@click.option("--scenario", "-s", default=None, metavar="NAME",
              help="Alone: copy and explain this domain scenario to OUT/scenario.yaml. With --target: "
              f"the starter scenario's source (default {STARTER}).")
@click.option("--api-key-env", default=None, metavar="NAME",
              help="Environment variable holding the key (default: LLMSUITE_API_KEY, then "
              "OPENAI_API_KEY); target.yaml names it, never the key.")
@click.option("--model", default=None, metavar="NAME",
              help="Model to probe with (default: the first of /v1/models).")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Folder for target.yaml, scenario.yaml and slo.yaml.")
@click.option("--yes", "-y", is_flag=True, help="Write without asking (CI, scripts).")
@click.option("--force", is_flag=True, help="Overwrite existing files in --out.")
@click.option("--timeout", type=PositiveFloat, default=10.0, show_default=True,
              help="Per probe request, in seconds.")
def init(target: str | None, scenario: str | None, api_key_env: str | None, model: str | None,
         out: Path, yes: bool, force: bool, timeout: float) -> None:
    """Probe a target and write target.yaml, a starter scenario.yaml and slo.yaml.

    The probe finds the API kind and path, the models, where the text is, how it streams, whether a
    key is needed and in which header, the cache hit signal (a fresh request sent twice, the answers
    compared) and a health path; every conclusion is printed with its evidence before anything is
    written.
    """
    def go() -> int:
        if target is None:
            if scenario is None:
                raise SpecError("init: give --target URL (probe a target) or --scenario NAME (copy a "
                                "domain scenario), e.g. llmsuite init --target http://127.0.0.1:8000.")
            from suite.init.scenario import copy_scenario

            path = copy_scenario(scenario, out, force)
            console.print(f"wrote {path}")
            return 0
        return probe_and_write(target, scenario or STARTER, api_key_env, model, out, yes, force, timeout)

    run_command(go)


def probe_and_write(url: str, starter: str, api_key_env: str | None, model: str | None, out: Path,
                    yes: bool, force: bool, timeout: float) -> int:
    from suite import api
    from suite.driver.control.target import strip_v1
    from suite.driver.exchange.redact import Redactor
    from suite.init.conclude import conclude
    from suite.init.probe import probe
    from suite.init.write import existing, refuse_overwrite, scenario_yaml, slo_yaml, target_yaml, write_files

    refuse_overwrite(out, force)  # before any request: a refusal should not cost a probe
    base_file = api.resolve_scenario(starter)
    key_env, key = key_of(api_key_env)
    base, notice = strip_v1(url)
    if notice:
        err_console.print(notice, highlight=False)
    console.print(f"probing {base}" + (f" with the key in ${key_env}" if key else " without a key") + " …",
                  highlight=False)
    try:
        observed = probe(base, key, key_env, timeout, model, key_named=api_key_env is not None)
    except TargetError as exc:
        raise TargetError(Redactor([key] if key else []).text(str(exc))) from None
    found = conclude(observed)
    rows = [(f.item, f.conclusion, f.evidence) for f in found.findings]
    console.print(table(rows, base))
    files = {"target.yaml": target_yaml(found),
             "scenario.yaml": scenario_yaml(base_file.read_text(encoding="utf-8"), base_file.stem, found),
             "slo.yaml": slo_yaml(found)}
    if not yes:
        replacing = " (overwriting " + ", ".join(p.name for p in existing(out)) + ")" if existing(out) else ""
        try:
            if not click.confirm(f"Write {', '.join(files)} to {out}{replacing}?", default=True):
                console.print("nothing written.")
                return 1
        except click.Abort:
            err_console.print("nothing written: no answer to the question; add --yes to write without "
                              "asking.")
            return 1
    written = write_files(out, files, force)
    console.print("wrote " + ", ".join(str(p) for p in written), highlight=False)
    env = f"{key_env}=... " if "api_key_env" in found.settings else ""
    console.print("next:\n"
                  f"  llmsuite synth -s {out / 'scenario.yaml'} --n 200 -o {out / 'corpus.jsonl'}\n"
                  f"  {env}llmsuite run --target-file {out / 'target.yaml'} -c {out / 'corpus.jsonl'} "
                  f"--slo {out / 'slo.yaml'}", highlight=False, soft_wrap=True)
    return 0
