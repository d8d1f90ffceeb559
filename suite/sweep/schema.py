"""The top-level shape of sweep.json (schema ``llmsuite.sweep/1``) as a TypedDict.

Why: sweep.json is read by the terminal tables, the CSV/HTML writers and the chart; its steps are
rows whose columns depend on the sweep's kind (``rows.py`` builds them), so they stay plain dicts.
docs/summary-schema.md describes every field.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class _SweepRequired(TypedDict):
    schema: str
    kind: Literal["cache", "load", "semantic"]
    levels: list[Any]
    settings: dict[str, Any]
    bootstrap: dict[str, Any]
    target: str | None
    seeds: str
    steps: list[dict[str, Any]]


class SweepResult(_SweepRequired, total=False):
    """A cache sweep adds ``baseline``; a load sweep adds ``level_key``, ``corpus`` and ``knee``. A salted
    sweep (a real target, or ``--salt``) adds ``salt``; a real target also ``fresh_probe`` (is a
    never-seen request a miss?) and ``warnings`` (suite.sweep.fresh, suite.sweep.rows.excess_hits)."""

    baseline: dict[str, Any]
    level_key: Literal["users", "rate"]
    corpus: str | None
    knee: dict[str, Any]
    salt: dict[str, Any]
    fresh_probe: dict[str, Any]
    warnings: list[str]
    operating_point: dict[str, Any]  # a semantic sweep (suite.sweep.semantic): the threshold to run at
    before_step: str | None
