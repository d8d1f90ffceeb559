"""``llmsuite init --scenario NAME``: a bundled domain scenario copied for editing, with a header
that explains every knob it sets in plain words and says what to edit first.

Why a header and not a pointer to the docs: the file is what a new user has open when they adapt
the traffic to their product, and a knob explained next to its value is a knob they dare to change.
The bundled file's own opening comments (a ``synth`` line naming the bundled copy) are replaced by
the header; comments inside the body stay. The copy must still synthesize unchanged (tested).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from suite.api import SCENARIO_DIRS
from suite.errors import SpecError

WIDTH = 100
# Every top-level key of a scenario spec (suite.synth.spec REQUIRED + DEFAULTS), in plain words.
# A test keeps this complete: a new spec key without an explanation fails it.
KNOBS: dict[str, str] = {
    "version": "format version of this file; leave it at 1.",
    "domain": "a short name for this traffic; it is written into the corpus manifest and reports.",
    "description": "one sentence saying what this traffic is, for whoever reads the reports.",
    "seed": "the random seed. The same file and seed always give the same corpus, byte for byte, "
            "so two runs can be compared request by request; change it for a different draw.",
    "n": "how many requests the corpus has (synth --n overrides it). A run ends when the corpus is "
         "used up, so size it for the longest run you plan (e.g. 10 users for 5 minutes at ~2 s per "
         "answer is ~1,500 requests).",
    "locale": "the language and region the slot values (names, companies, dates) are drawn in.",
    "locales": "a mix of languages, locale: share; each intent then needs templates_<locale>.",
    "repeat_ratio": "share of requests that repeat an earlier one word for word: what an exact "
                    "response cache can hit. 0 = every request is new; 0.3 = 30 % repeats. Set it "
                    "to what your logs show.",
    "near_duplicate_ratio": "share of requests that paraphrase an earlier one (same meaning, other "
                            "words): what only a semantic cache can hit.",
    "popularity": "how repeats pick the request they repeat: uniform (all alike) or zipf:S (a few "
                  "questions asked very often; a larger S is more skewed).",
    "catalog_size": "how many distinct originals repeats may pick from (default: all of them).",
    "reuse_distance": "how far back a repeat may reach: {requests: 500} or {seconds: 60}.",
    "scope": "where repeats happen: across (any user repeats anyone), user (people repeat "
             "themselves) or session (within one conversation).",
    "users": "how many simulated users (tenants) the requests are spread over; with scope: user "
             "it decides how often a repeat can happen.",
    "shared_prefix": "share of requests that start with the shared system prompt and few-shot "
                     "examples (what a prefix cache can reuse); 1.0 = all of them.",
    "hard_negative_ratio": "share of requests that copy an earlier one's wording with one value "
                           "changed (an id, amount, date, name): another question, which a semantic "
                           "cache must NOT answer from the earlier one.",
    "system_prompts": "a pool of system prompts instead of one: {count: K, tokens: N, popularity: "
                      "uniform or zipf:S}, one per conversation (what a prefix cache can reuse).",
    "documents": "a pool of retrieved documents put before the question: {count: D, tokens: M, "
                 "probability: P, popularity: uniform or zipf:S} (RAG prefix reuse).",
    "models": "the model names to send, model: share of requests. Use the names your target "
              "serves (GET /v1/models lists them) or every request fails.",
    "max_tokens": "the max_tokens each request asks for: one number, or choices: [...] drawn per "
                  "request. It caps the answer length.",
    "expected_output_tokens": "how long you expect the answers to be (median / p90, or a number), "
                              "capped by max_tokens. It is recorded per request in the corpus for "
                              "corpus stats, not sent: max_tokens is what limits a real answer.",
    "input_tokens": "how long the prompts are: median / p90 tokens, padded with retrieved context "
                    "(context: logs, table, document). Long inputs are where prefix caching pays.",
    "temperature": "the sampling temperature each request asks for (0 = deterministic).",
    "stream": "true: answers come streamed (SSE), so time to first token is measured; false: one "
              "JSON answer per request.",
    "arrival": "how fast requests come when a run is open loop: process (closed, constant, poisson, "
               "gamma, ramp, step, diurnal) and rate in requests/s. A closed-loop run (-u users) "
               "ignores it.",
    "system_prompt": "the system message every request starts with. Paste your product's real one: "
                     "its length decides the prompt tokens and what a prefix cache can reuse.",
    "few_shot": "example question/answer pairs placed after the system prompt in every request.",
    "turns": "how many user turns a conversation has (1 = single questions).",
    "reply_tokens": "with turns > 1: how long the assistant replies carried in the history are.",
    "cache_model": "extra theoretical hit ratios in the manifest, e.g. {capacity: [100, 1000], "
                   "ttl: [60]}.",
    "slots": "the values the {placeholders} in the templates take, drawn per request: choices "
             "(a list), faker (a Faker provider such as name or company), pattern (# = digit, "
             "? = letter), number ([min, max], decimals, prefix, suffix), date ([start, end], "
             "format). Put your real product names, IDs and amounts here.",
    "intents": "the kinds of question users ask: each has a name, a weight (how often, relative to "
               "the others) and templates, the user messages with {slot} placeholders.",
}
EDIT_FIRST = (
    ("intents -> templates", "replace the questions with the ones your users really ask "
     "(copy a few dozen from your logs; keep {slot} where a value varies)."),
    ("slots", "fill the slot lists with your real values: product names, error codes, amounts."),
    ("models", "the model names your target serves, with the share of traffic each gets."),
    ("repetition", "repeat_ratio (and near_duplicate_ratio, popularity) as your logs show them: "
     "they decide what a cache can hit."),
    ("lengths", "system_prompt, max_tokens, expected_output_tokens (and input_tokens for long "
     "context): they decide tokens, cost and latency."),
)


def known_scenarios() -> list[str]:
    """The bundled scenario names (corpora/scenarios/NAME.yaml)."""
    return sorted({p.stem for d in SCENARIO_DIRS if d.is_dir() for p in d.glob("*.yaml")})


def find_scenario(name: str) -> Path:
    """The bundled file called ``name``; an unknown name lists the known ones."""
    for folder in SCENARIO_DIRS:
        candidate = folder / f"{name}.yaml"
        if "/" not in name and candidate.is_file():
            return candidate
    known = ", ".join(known_scenarios()) or "none (corpora/scenarios/ is missing)"
    raise SpecError(f"--scenario {name!r}: no such scenario; known: {known}.")


def copy_scenario(name: str, out: Path, force: bool = False) -> Path:
    """``out/scenario.yaml``: the bundled scenario ``name`` with its explaining header. An existing
    file is kept unless ``force`` (it may hold the user's edits)."""
    source = find_scenario(name)
    target = Path(out) / "scenario.yaml"
    if target.exists() and not force:
        raise SpecError(f"{target} exists (it may hold your edits); pass --force to overwrite it, or "
                        "--out another folder.")
    text = explained_scenario(source.read_text(encoding="utf-8"), name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def explained_scenario(text: str, name: str, target: Path | str = "scenario.yaml") -> str:
    """The header, then ``text`` without its opening comment block; the YAML data is unchanged."""
    spec = yaml.safe_load(text)
    if not isinstance(spec, Mapping):
        raise SpecError(f"scenario {name!r} is not a YAML mapping; the bundled file is damaged.")
    return header(spec, name, str(target)) + "\n" + _body(text)


def header(spec: Mapping[str, Any], name: str, target: str) -> str:
    """Comment lines only (each starts with ``#``), so YAML reads the file's data unchanged."""
    lines = [
        *_wrapped(f"Your traffic scenario, copied from the bundled {name!r} scenario by `llmsuite init "
                  f"--scenario {name}`. It describes the requests a test sends: what users ask, to "
                  "which models, how long the answers are, how often people repeat themselves.", ""),
        "",
        "Build a corpus from it, then run it against your target:",
        f"  llmsuite synth --scenario {target} -o corpus.jsonl",
        "  llmsuite corpus stats corpus.jsonl         # check repetition and lengths came out right",
        "  llmsuite run --target-file target.yaml -c corpus.jsonl -u 5 -d 1m",
        "",
        "What to edit first:",
    ]
    for i, (what, why) in enumerate(EDIT_FIRST, 1):
        lines += _wrapped(f"{i}. {what}: {why}", "   ")
    lines += ["", "What each setting in this file means (here = its value in this file):"]
    for key, value in spec.items():
        explanation = KNOBS.get(str(key), "see docs/cli.md (llmsuite synth).")
        lines += _wrapped(f"{key} (here {_shown(str(key), value)}): {explanation}", "    ")
    unset = [k for k in KNOBS if k not in spec]
    if unset:
        lines += ["", *_wrapped("Not set here, so at their defaults (add them to change them; "
                                f"explained in docs/cli.md): {', '.join(unset)}.", "")]
    lines += ["", *_wrapped("Same file + same seed = the same corpus, so runs before and after a "
                            "change compare request by request.", ""), ""]
    return "\n".join(f"# {line}".rstrip() for line in lines) + "\n"


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH - 2, subsequent_indent=indent, break_on_hyphens=False)


def _shown(key: str, value: Any) -> str:
    """A value in a few words: a long prompt or list is summarized, not repeated."""
    if key == "intents" and isinstance(value, list):
        templates = sum(len(i.get("templates", [])) for i in value if isinstance(i, Mapping))
        return f"{len(value)} intents, {templates} templates"
    if key == "slots" and isinstance(value, Mapping):
        return f"{len(value)}: {', '.join(map(str, value))}"
    if key in ("models", "locales") and isinstance(value, Mapping):
        total = sum(v for v in value.values() if isinstance(v, int | float)) or 1
        return ", ".join(f"{k} {v / total:.0%}" if isinstance(v, int | float) else str(k)
                         for k, v in value.items())
    if isinstance(value, str) and len(value) > 40:
        return f"{len(value)} characters"
    if isinstance(value, list) and key == "few_shot":
        return f"{len(value)} examples"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body(text: str) -> str:
    """``text`` from its first non-comment line on (the opening comments described the bundled copy)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), 0)
    return "".join(lines[start:])
