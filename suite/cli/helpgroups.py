"""``--help`` a human can scan: the long commands (run has ~60 options) list their options under
headed sections and end with real command lines to copy (issue 15, item 4).

Sections are assigned by option name in ``SECTIONS`` rather than at each ``click.option`` so that the
option groups shared between commands (suite.cli.targetopts, common, compare) stay untouched and a
shared option lands in the same section everywhere. An option missing from ``SECTIONS`` lands in
"Other"; a unit test fails when anything but ``--help`` does, so a new option must be given a home.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

OTHER = "Other"
_COL_MAX = 30  # click's own: a longer option puts its help on the next line

# Section → option names (click's parameter name, e.g. "api_key_env"), in display order of sections.
_BY_SECTION: dict[str, tuple[str, ...]] = {
    "Target": (
        "target", "target_file", "target_preset", "target_kind", "target_path", "engine_template",
        "text_field", "response_id_field", "stream_end", "header", "api_key", "api_key_env",
        "api_key_header", "request_id_header", "no_request_id", "health_path", "health_method",
        "profiles", "models_list",
    ),
    "Load": (
        "corpus", "scenario", "n", "models", "max_tokens", "users", "users_list", "rates",
        "spawn_rate", "duration", "think_time", "affinity", "preset", "open_loop", "rate", "arrival",
        "seed", "max_concurrency", "lag_warn", "max_requests", "warmup", "order", "processes",
        "master", "expect_workers", "worker", "master_host", "master_port",
    ),
    "Faults and limits": (
        "timeout", "ttft_timeout", "retry_after", "max_error_ratio", "abort_connect_errors",
        "abort_error_ratio", "abort_window", "abort_min_requests", "abort_health_failures",
        "health_interval",
    ),
    "Cache": ("cache", "cache_detect", "served_key_header", "similarity_header", "ratios", "salt", "coalesce",
              "thresholds", "min_precision", "before_step"),
    "Content checks": ("require_field", "forbid", "forbid_regex", "min_length", "token_check_sample"),
    "Analysis": ("slo", "primary", "population", "n_boot", "conf", "boot_seed", "labels",
                 "baseline", "min_effect", "min_error_delta"),
    "Output": (
        "out", "run_id", "no_analyze", "save_baseline", "baselines", "monitor_interval", "prometheus_port",
        "web", "web_port", "web_keep",
    ),
}
SECTIONS: dict[str, str] = {name: section for section, names in _BY_SECTION.items() for name in names}
ORDER: tuple[str, ...] = (*_BY_SECTION, OTHER)

# (what it does, the command line): copied from the README and docs/cli.md, so they run as shown.
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "run": (
        ("10 closed-loop users for at most 60 s",
         "llmsuite run -c corpora/ops.jsonl -t http://127.0.0.1:8000"),
        ("open loop at 20 requests/s for at most 5 minutes",
         "llmsuite run -c corpora/ops.jsonl -t http://127.0.0.1:8000 --open-loop --rate 20 -d 5m"),
        ("a spike preset, 10 s warm-up, checked against an SLO (exit 7 when it fails)",
         "llmsuite run -c corpora/ops.jsonl -t http://127.0.0.1:8000 --preset spike --warmup 10s "
         "--slo multi-tenant"),
    ),
    "swap": (
        ("two models on the bundled mock, ABBA order",
         "llmsuite swap --models gpt-4o,gpt-5-mini --corpus corpora/ops.jsonl -u 8"),
        ("against a real gateway, interleaved, primary metric TTFT",
         "llmsuite swap --models gpt-4o,gpt-5-mini -c corpora/ops.jsonl -t http://127.0.0.1:8000 "
         "--order interleave --primary ttft.p50"),
    ),
    "sweep cache": (
        ("hit ratio and gains on the bundled mock with its Redis cache",
         "llmsuite sweep cache --ratios 0,0.25,0.5,0.75,0.9 --n 200 -u 8"),
        ("against a gateway whose cache is configured in target.yaml",
         "llmsuite sweep cache --ratios 0,0.5,0.9 --target-file target.yaml"),
    ),
    "sweep semantic": (
        ("precision and hit ratio of the bundled mock's semantic cache at five thresholds",
         "llmsuite sweep semantic --thresholds 0.80,0.85,0.90,0.95,0.98 -c corpora/ops.jsonl"),
        ("a gateway whose threshold a script sets before each step",
         "llmsuite sweep semantic --thresholds 0.85,0.9,0.95 -c corpora/ops.jsonl -t http://127.0.0.1:8000 "
         "--before-step './set-threshold.sh {threshold}' --served-key-header x-gw-served"),
    ),
    "check": (
        ("the nightly smoke preset against the newest saved baseline; exit 9 on a regression",
         "llmsuite check --preset smoke --target-file target.yaml -c corpus.jsonl --save-baseline"),
        ("a short check against one run folder, ignoring changes under 20 %",
         "llmsuite check --preset load -t http://127.0.0.1:8000 --scenario finance --n 200 -d 60s "
         "--baseline reports/20260101-020000-abc123 --min-effect 0.2"),
    ),
    "sweep load": (
        ("closed loop: where does the SLO break?",
         "llmsuite sweep load --users 1,5,10,50 --slo multi-tenant"),
        ("open loop, replaying one corpus at every rate",
         "llmsuite sweep load --rates 1,5,10 -c corpora/ops.jsonl -t http://127.0.0.1:8000"),
    ),
}


def section_of(param: click.Parameter) -> str:
    """The section an option is listed under; unknown options go to "Other" (and fail a test)."""
    return SECTIONS.get(param.name or "", OTHER)


class GroupedCommand(click.Command):
    """A click command whose help lists options under headed sections and ends with examples;
    each option's own line is click's usual formatting."""

    def __init__(self, *args: Any, examples: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)

    def sections(self, ctx: click.Context) -> dict[str, list[tuple[str, str]]]:
        """Section → help records, in ``ORDER``; empty sections are left out."""
        grouped: dict[str, list[tuple[str, str]]] = {name: [] for name in ORDER}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                grouped[section_of(param)].append(record)
        return {name: rows for name, rows in grouped.items() if rows}

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections = self.sections(ctx)
        # one help column for the whole page, as click's flat list has, not one per section
        width = min(max((len(term) for rows in sections.values() for term, _ in rows), default=0), _COL_MAX)
        for name, rows in sections.items():
            with formatter.section(name):
                formatter.write_dl([(term.ljust(width) if text else term, text) for term, text in rows],
                                   col_max=_COL_MAX)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if not self.examples:
            return
        with formatter.section("Examples"):
            for i, (what, line) in enumerate(self.examples):
                if i:
                    formatter.write("\n")
                # written as is, never re-wrapped: a command line must stay copyable
                formatter.write(f"{'':>{formatter.current_indent}}# {what}\n")
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n")
