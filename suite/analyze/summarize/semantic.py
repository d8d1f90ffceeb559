"""Were the cache's hits the right answers? Every hit judged against the corpus's ground truth.

A semantic cache answers a *similar* prompt with a stored answer; its failure is the false hit (the
answer to "order 1234" served for "order 5678"). The corpus knows which prompts are paraphrases
(``variant_of``), exact repeats (``repeat_of``) and hard negatives (``near_miss_of``); the target
names the entry it served (a served-key header, suite.cachesignal.ServedRule). Pure: rows and truth
in, counts out (the section that reads the run and the corpus is ``semanticsection``).

Classes of a successful hit:

- ``exact``: the served key is the request's own key;
- ``paraphrase``: the served entry belongs to the request's paraphrase group (the root of its
  ``variant_of`` / ``repeat_of`` chain) — a correct semantic hit;
- ``false``: any other entry — a wrong answer served (``false_near_miss``: of those, the ones whose
  request is a ``near_miss_of`` the served one's group);
- ``unjudged``: the hit carried no served key; ``unattributed``: its key belongs to no request of
  the corpus nor to any answer of the run (an entry from elsewhere: neither right nor wrong here).

A *missed opportunity* is a miss on a request whose group already had an answer: a successful
request of the same group that had finished (``t_start + e2e``) before this one was sent — an
``exact`` one when that answer had the same key, else a ``paraphrase`` (semantic) one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Z95 = 1.959963984540054  # two-sided 95 %
CLASSES = ("exact", "paraphrase", "false", "false_near_miss", "unjudged", "unattributed")


@dataclass(frozen=True)
class Truth:
    """The corpus's ground truth, by request id."""

    key: Mapping[str, str]
    group: Mapping[str, str]  # id → root id of its variant_of / repeat_of chain
    near_miss_of: Mapping[str, str]  # id → the id it must NOT be answered by
    ids_by_key: Mapping[str, frozenset[str]]


def truth_from_rows(rows: Sequence[Mapping[str, object]]) -> Truth:
    """``Truth`` from corpus lines (``id``, ``key``, ``repeat_of``, ``variant_of``, ``near_miss_of``);
    a chain that loops or names an unknown id ends where it breaks (its last known id is the root)."""
    parent: dict[str, str | None] = {}
    key: dict[str, str] = {}
    near: dict[str, str] = {}
    for row in rows:
        rid = str(row["id"])
        key[rid] = str(row.get("key") or "")
        up = row.get("variant_of") or row.get("repeat_of")
        parent[rid] = str(up) if up else None
        if row.get("near_miss_of"):
            near[rid] = str(row["near_miss_of"])
    group: dict[str, str] = {}
    for rid in parent:
        group[rid] = _root(rid, parent, group)
    ids_by_key: dict[str, set[str]] = {}
    for rid, k in key.items():
        ids_by_key.setdefault(k, set()).add(rid)
    return Truth(key, group, near, {k: frozenset(v) for k, v in ids_by_key.items()})


def _root(rid: str, parent: Mapping[str, str | None], known: Mapping[str, str]) -> str:
    seen: set[str] = set()
    node = rid
    while True:
        if node in known:
            return known[node]
        up = parent.get(node)
        if up is None or up not in parent or up in seen:
            return node
        seen.add(node)
        node = up


@dataclass(frozen=True)
class Row:
    """One measured request as the classifier needs it (successful requests with a verdict)."""

    id: str
    cache: str  # "hit" / "miss"
    t_start: float
    finish: float  # t_start + e2e
    served: str | None  # the served-key header's value (a miss: the target's key for the request)


@dataclass
class Judged:
    """Counts per class, and which rows fell in each (positions in the input)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    positions: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in CLASSES})
    opportunities: dict[str, int] = field(default_factory=lambda: {
        "exact": 0, "paraphrase": 0, "missed_exact": 0, "missed_paraphrase": 0,
        "paraphrase_hit_on_opportunity": 0})

    def add(self, cls: str, pos: int) -> None:
        self.counts[cls] += 1
        self.positions[cls].append(pos)


def learned_keys(rows: Sequence[Row], truth: Truth) -> dict[str, set[str]]:
    """Target key → corpus ids: the corpus's own keys, plus what each miss's served-key header
    said the target calls that request (a gateway may key requests its own way)."""
    out: dict[str, set[str]] = {k: set(v) for k, v in truth.ids_by_key.items()}
    for row in rows:
        if row.cache == "miss" and row.served and row.id in truth.key:
            out.setdefault(row.served, set()).add(row.id)
    return out


def judge_hit(row: Row, truth: Truth, by_key: Mapping[str, set[str]]) -> str:
    """The class of one hit (see module docstring)."""
    if not row.served:
        return "unjudged"
    own = truth.key.get(row.id)
    ids = by_key.get(row.served, set())
    if row.served == own or any(truth.key.get(i) == own for i in ids):
        return "exact"
    groups = {truth.group.get(i, i) for i in ids}
    if not groups:
        return "unattributed"
    if truth.group.get(row.id, row.id) in groups:
        return "paraphrase"
    near = truth.near_miss_of.get(row.id)
    if near is not None and (near in ids or truth.group.get(near, near) in groups):
        return "false_near_miss"
    return "false"


def classify(rows: Sequence[Row], truth: Truth, served_known: bool = True) -> Judged:
    """Every hit's class and every request's opportunity, in send order. ``served_known=False``:
    the target exposes no served key, so hits are all ``unjudged`` (opportunities still count)."""
    by_key = learned_keys(rows, truth) if served_known else {}
    out = Judged()
    answered: dict[str, dict[str, float]] = {}  # group → key → earliest finish of a successful answer
    for pos in sorted(range(len(rows)), key=lambda i: rows[i].t_start):
        row = rows[pos]
        group, own = truth.group.get(row.id, row.id), truth.key.get(row.id, "")
        earlier = answered.setdefault(group, {})
        exact_opp = earlier.get(own, math.inf) <= row.t_start
        para_opp = not exact_opp and any(f <= row.t_start for k, f in earlier.items() if k != own)
        _opportunity(out, row, exact_opp, para_opp)
        if row.cache == "hit":
            cls = judge_hit(row, truth, by_key) if served_known else "unjudged"
            out.add(cls, pos)
            if cls == "false_near_miss":
                out.counts["false"] += 1  # a near-miss false hit is a false hit too
            if cls == "paraphrase" and para_opp:
                out.opportunities["paraphrase_hit_on_opportunity"] += 1
        if math.isfinite(row.finish):
            earlier[own] = min(earlier.get(own, math.inf), row.finish)
    return out


def _opportunity(out: Judged, row: Row, exact_opp: bool, para_opp: bool) -> None:
    kind = "exact" if exact_opp else "paraphrase" if para_opp else None
    if kind is None:
        return
    out.opportunities[kind] += 1
    if row.cache == "miss":
        out.opportunities[f"missed_{kind}"] += 1


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (good at 0 and 1, where the normal one collapses);
    None for n = 0."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # the interval holds p: at k = n, float rounding can leave centre + half a hair below 1
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def proportion(successes: int, n: int, why: str) -> dict[str, object]:
    """``{"value", "unit": "ratio", "ci": [lo, hi], "k", "n"}`` (Wilson 95 %), or value None and why."""
    interval = wilson(successes, n)
    if interval is None:
        return {"value": None, "why": why, "k": successes, "n": n}
    return {"value": successes / n, "unit": "ratio", "ci": [interval[0], interval[1]],
            "k": successes, "n": n}
