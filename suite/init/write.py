"""The three files ``init`` writes, as text (pure), and the one place they are written (refusing to
overwrite without ``force``).

- target.yaml: the ``--target-file`` format (suite.cli.targetopts), each value with the reason it was
  chosen as a comment; a key is never written, only the variable that holds it (``api_key_env``);
- scenario.yaml: a scenario of corpora/scenarios/ with the target's models and streaming, its
  comments kept (they explain every knob);
- slo.yaml: a starting SLO (the ``--slo FILE`` format), loose on purpose: the probe measured one-word
  answers, not the workload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from suite.errors import SpecError
from suite.init.answer import ms
from suite.init.conclude import Conclusion
from suite.init.scenario import explained_scenario

FILES = ("target.yaml", "scenario.yaml", "slo.yaml")
ENGINE_MODEL = "engine"  # the corpus's model name for an engine that names none
_MODELS_BLOCK = re.compile(r"^models:[ \t]*\n(?:[ \t]+.*\n|[ \t]*\n)*", re.MULTILINE)
_STREAM_LINE = re.compile(r"^stream:.*$", re.MULTILINE)


def _line(key: str, value: Any, why: str | None) -> str:
    text = yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, width=1000).strip()
    return f"{text}  # {why}" if why else text


def target_yaml(c: Conclusion, when: datetime | None = None) -> str:
    when = when or datetime.now(timezone.utc)
    head = [f"# target.yaml — written by `llmsuite init` from probing {c.settings['url']} "
            f"({when:%Y-%m-%d %H:%M} UTC).",
            "# Use: llmsuite run --target-file target.yaml -c corpus.jsonl",
            "# (every key: docs/cli.md, \"The target\"; edit freely, options typed on the command line win).",
            "# No key is written here: api_key_env names the environment variable that holds it."]
    return "\n".join([*head, *(_line(k, v, c.comments.get(k)) for k, v in c.settings.items())]) + "\n"


def _models_block(models: list[str]) -> str:
    chosen = models[:2] or [ENGINE_MODEL]
    weight = round(1 / len(chosen), 3)
    return "models:\n" + "".join(f"  {yaml.safe_dump(m, width=1000).splitlines()[0]}: {weight:g}\n"
                                 for m in chosen)


def scenario_yaml(base: str, base_name: str, c: Conclusion) -> str:
    """``base`` (a scenario's YAML text) with the target's models and streaming, comments kept."""
    block = _models_block(c.models)
    text = _MODELS_BLOCK.sub(lambda _: block, base, count=1) if _MODELS_BLOCK.search(base) \
        else base.rstrip("\n") + "\n" + block
    stream = f"stream: {'true' if c.stream else 'false'}"
    text = _STREAM_LINE.sub(stream, text, count=1) if _STREAM_LINE.search(text) else text + stream + "\n"
    listed = (f"the target's model list ({', '.join(c.models[:2])})" if c.models
              else f"'{ENGINE_MODEL}': the target lists no models")
    head = (f"# scenario.yaml — starter written by `llmsuite init` for {c.settings['url']}, from the\n"
            f"# {base_name} scenario: models from {listed};\n"
            f"# stream: {str(c.stream).lower()} "
            f"({'the target streams SSE' if c.stream else 'the target answers whole'}).\n"
            f"# Edit the prompts, slots and knobs below, then build a corpus:\n"
            f"#   llmsuite synth -s scenario.yaml --n 200 -o corpus.jsonl\n#\n")
    # the knob-by-knob header of `init --scenario`, in place of the bundled file's own opening comments
    return head + explained_scenario(text, base_name)


def slo_yaml(c: Conclusion) -> str:
    host = urlsplit(str(c.settings["url"])).hostname or "target"
    checks = ["e2e.p95 < 5s", "e2e.p99 < 8s", *(["ttft.p95 < 1s"] if c.stream else []), "error_ratio < 0.01"]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", host) + "-starter"
    return (f"# slo.yaml — a starting SLO written by `llmsuite init` (the multi-tenant profile's E2E"
            f"{', plus TTFT' if c.stream else ''}).\n"
            f"# The probe's fresh one-word answer took {ms(c.probe_s)}; real answers take longer, so set\n"
            f"# these to what your users need. Use: llmsuite run ... --slo slo.yaml (exit 7 on failure).\n"
            f"# Checks: METRIC.STAT OP VALUE (docs/cli.md, \"SLO profiles\").\n"
            + yaml.safe_dump({"name": name, "checks": checks, "request_limits": {"e2e": 5.0}},
                             sort_keys=False, width=1000))


def existing(out: Path, names: tuple[str, ...] = FILES) -> list[Path]:
    return [out / n for n in names if (out / n).exists()]


def refuse_overwrite(out: Path, force: bool) -> None:
    found = existing(out)
    if found and not force:
        raise SpecError(f"{', '.join(str(p) for p in found)} already exist(s); add --force to overwrite "
                        f"or write elsewhere with --out DIR.")


def write_files(out: Path, files: Mapping[str, str], force: bool) -> list[Path]:
    refuse_overwrite(out, force)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
            written.append(out / name)
    except OSError as exc:
        raise SpecError(f"--out {out}: cannot write there ({exc.strerror or exc}).") from None
    return written
