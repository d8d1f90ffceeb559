"""Which requests a comparison's latency rows are drawn from.

Why: a model headline over every request mixes hits and misses — two models served identically by
the backend read "16× sooner" when only their hit ratios differ. ``"miss"`` compares what the models
themselves did: per run, the requests the target signalled as cache misses; a run whose target gave
no cache signal at all uses its first-seen requests (not marked a repeat by the corpus) instead,
since those cannot have been served from an exact-match cache warmed by this run. The rule used and
the requests kept are reported per run.

Error ratio, hit ratio and throughput always come from every request of the run (a failed request
has no cache signal; a hit ratio of misses only is 0 by construction; throughput is the run's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suite.compare.read.samples import RunSamples
from suite.errors import SpecError

POPULATIONS = ("all", "miss")
RULES = {
    "all": "every request",
    "signalled-miss": "requests the target signalled as cache misses",
    "first-seen": "requests the corpus did not mark as repeats (the target gave no cache signal)",
    "unrestricted": "every request: no cache signal and no repeat marks to tell misses by",
}
ALL_REQUEST_ROWS = ("error_ratio", "hit_ratio", "output_tokens_per_s", "requests_per_s")


def check_population(population: str) -> str:
    if population not in POPULATIONS:
        raise SpecError(f"--population {population!r}: use one of {', '.join(POPULATIONS)} (miss = cache "
                        "misses only, or first-seen requests when the target gives no cache signal).")
    return population


def restrict(run: RunSamples, population: str) -> tuple[RunSamples, dict[str, Any]]:
    """The run's requests of ``population`` and what was done: rule, requests kept of how many."""
    check_population(population)
    total = int(run.ids.size)
    if population == "all":
        return run, {"rule": "all", "requests": total, "of": total}
    if np.isfinite(run.hit).any():
        rule, mask = "signalled-miss", run.hit == 0
    elif np.isfinite(run.repeat).any():
        rule, mask = "first-seen", run.repeat == 0
    else:
        return run, {"rule": "unrestricted", "requests": total, "of": total,
                     "why": "no request carried a cache signal and the log has no repeat marks: misses "
                            "cannot be told apart, every request is kept"}
    info: dict[str, Any] = {"rule": rule, "requests": int(mask.sum()), "of": total}
    if not mask.any():
        info["why"] = f"no request left under rule {rule}: latency rows of this run are empty"
    return run.subset(mask), info


def population_section(population: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """compare.json's ``population`` block: the choice, each run's rule and counts (``label`` first),
    and the rows that ignore it."""
    return {"population": population, "runs": runs,
            "rules": {k: RULES[k] for k in sorted({r["rule"] for r in runs})},
            "all_requests_rows": list(ALL_REQUEST_ROWS) if population != "all" else [],
            "note": ("latency rows and paired deltas use each run's population; error ratio, hit ratio "
                     "and throughput always use every request") if population != "all" else
                    "every request of every run"}


def describe_population(section: dict[str, Any] | None) -> str:
    """Words for headlines: "cache misses", "first-seen requests", or "all requests"."""
    if not section or section.get("population") == "all":
        return "all requests"
    rules = {r["rule"] for r in section["runs"]}
    if rules == {"signalled-miss"}:
        return "cache misses"
    if rules == {"first-seen"}:
        return "first-seen requests"
    if "unrestricted" in rules:
        return "all requests (misses could not be told apart in every run)"
    return "cache misses (first-seen requests where the target gave no cache signal)"
