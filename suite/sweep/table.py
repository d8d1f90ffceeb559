"""Rich terminal tables of a sweep (rendered from the sweep dict only): one row per step."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from suite.analyze.outputs.fmt import number, percent, seconds, times


def cache_sweep_table(result: dict[str, Any]) -> Table:
    """One row per ratio: theoretical and observed hit ratio, measured gain, its bound, per-hit speedup."""
    table = Table(title="cache sweep", title_justify="left")
    for name in ("ratio", "theoretical hit", "observed hit", "in flight", "failed", "E2E gain (CI)",
                 "bound 1/(1−h)", "per-hit speedup"):
        table.add_column(name, justify="right")
    for s in result["steps"]:
        gain, ci = s["e2e_gain"]["value"], s["e2e_gain"]["ci"]
        gain_text = times(gain) + ("" if ci is None else f" ({ci[0]:.2f}–{ci[1]:.2f})")
        flight = (s.get("in_flight_share") or {}).get("value")
        table.add_row(f"{s['repeat_ratio']:g}", percent(s["theoretical_hit_ratio"]),
                      percent(s["hit_ratio"]["value"]), percent(flight), number(s.get("failed"), 0),
                      gain_text, times(s["gain_bound_observed"]), times(s["per_hit_speedup"]["value"]))
    return table


def load_sweep_table(result: dict[str, Any]) -> Table:
    """One row per load level: latency, throughput, errors and the SLO verdict; the knee flagged."""
    key, knee = result["level_key"], result["knee"]["level"]
    table = Table(title=f"load sweep ({'closed loop' if key == 'users' else 'open loop, requests/s'})",
                  title_justify="left")
    for name in (key, "E2E p50", "E2E p95", "TTFT p95", "requests/s", "tokens/s", "errors", "SLO"):
        table.add_column(name, justify="right")
    for s in result["steps"]:
        verdict = "—" if s.get("slo") is None else ("pass" if s["slo"]["passed"] else "[bold red]FAIL[/]")
        mark = " ◀ knee" if knee is not None and s[key] == knee else ""
        table.add_row(f"{s[key]:g}{mark}", seconds(s["e2e_p50"]), seconds(s["e2e_p95"]),
                      seconds(s["ttft_p95"]), number(s["requests_per_s"]), number(s["output_tokens_per_s"]),
                      percent(s["error_ratio"]), verdict)
    return table


def fresh_lines(result: dict[str, Any]) -> list[str]:
    """Rich-markup lines after the table: the salt and how to reproduce it, the fresh-request probe's
    verdict, then every warning (printed last, so a person reads them under the numbers they doubt)."""
    from rich.markup import escape

    salt, probe = result.get("salt"), result.get("fresh_probe")
    lines = []
    if salt:
        lines.append(escape(f"salt: {salt['value']} ({salt['source']}; reproduce with {salt['reproduce']})"))
    if probe:
        lines.append(escape(f"fresh-request probe: {probe['cache'] or 'no verdict'}"
                            + (f" — {probe['why']}" if probe.get("why") else "")))
    lines += [f"[bold red]WARNING:[/] {escape(line)}" for line in result.get("warnings", [])]
    return lines
