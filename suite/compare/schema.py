"""The shapes of compare.json (schema ``llmsuite.compare/1``) as TypedDicts.

Why: the comparison dict is read by the HTML page, the terminal tables, the CSV writer, the chart
and ``llmsuite swap``; typed, a renamed field is a type-checker error rather than a ``KeyError``.
Plain dicts at run time: the JSON written is exactly what ``summarize.build`` assembles.
docs/summary-schema.md describes every field.
"""

from __future__ import annotations

from typing import Any, TypedDict


class _MetricRowRequired(TypedDict):
    metric: str
    stat: str | None
    unit: str
    a: float | None
    b: float | None
    n_a: int | None
    n_b: int | None
    delta: float | None
    delta_ci: list[float] | None
    ratio: float | None
    ratio_ci: list[float] | None
    a_ci: list[float] | None
    b_ci: list[float] | None
    significant: bool | None
    better: str | None
    p: float | None
    p_holm: float | None


class MetricRow(_MetricRowRequired, total=False):
    """One metric and statistic of A and B: values, B − A and B / A with CIs, the raw and the
    Holm-adjusted p-value, significance after correction; ``why`` when missing."""

    why: str
    ratio_why: str
    primary: bool


class Group(TypedDict):
    group: str
    metrics: list[MetricRow]


class _ComparisonRequired(TypedDict):
    a: str
    b: str
    groups: list[Group]
    paired: dict[str, Any]
    headlines: list[str]


class Comparison(_ComparisonRequired, total=False):
    """Run B against the baseline A: every request, then each shared model; paired deltas; which
    requests latency was read from (``population``) and how significance was decided (``tests``)."""

    note: str
    population: dict[str, Any]
    tests: dict[str, Any]


class Bootstrap(TypedDict):
    n_boot: int
    conf: float
    seed: int
    method: str


class _ResultRequired(TypedDict):
    schema: str
    generator: dict[str, str]
    bootstrap: Bootstrap
    baseline: str
    runs: list[dict[str, Any]]
    comparisons: list[Comparison]
    definitions: dict[str, str]


class CompareResult(_ResultRequired, total=False):
    """compare.json; ``slo`` only when the comparison was asked to check an SLO."""

    slo: dict[str, Any]
    population: dict[str, Any]
    tests: dict[str, Any]
