"""The repetition planner: which requests are fresh, exact repeats or near-duplicates, and of what.

Pure and fast (no text, no tokenizer), so its statistics can be tested at n = 20,000 in milliseconds.

Rules the plan keeps:
- The counts are exact when possible: ``round(repeat_ratio * n)`` repeats,
  ``round(near_duplicate_ratio * n)`` near-duplicates and ``round(hard_negative_ratio * n)`` near
  misses (hard negatives), decided by sequential selection sampling
  (each position is a repeat with probability remaining-repeats / remaining-positions). A position
  where nothing is eligible (the first request, or an empty window) is fresh; a shortfall shows in
  the manifest as achieved < requested, never silently.
- A repeat, near-duplicate or near miss names a *fresh* original (``source``), drawn the same way;
  exact repeats of it keep its key. Near misses and near-duplicates are never originals themselves.
- Popularity: the k-th fresh request gets popularity rank k (popular requests show up early, as in
  real traffic), up to ``catalog_size`` (default: all fresh requests); later fresh requests are
  one-offs. A repeat draws an eligible original with probability ∝ ``popularity.weight(rank)``
  (``uniform`` or ``zipf:s``), so the repeat counts of the originals follow rank^-s.
- Reuse distance: an original is eligible while the *last* occurrence of its key is at most the
  window back (requests, or seconds of the arrival offsets); a repeat refreshes it.
- Scope ``user``: only originals of the same user are eligible; ``across``: any user's.
- Scope ``session``: only originals of the user's *open session* are eligible, and every slot names
  its session (``Slot.session``: the position of the session's first request). A session is one
  user's conversation: it opens at a fresh request of the user when their previous session has had
  all its fresh turns (``turns`` drawn per session from the spec's turns distribution) and takes
  that many fresh requests; the repeats and near-duplicates that come while it is open join it
  (re-sent and rephrased turns of the same conversation). With single-turn traffic (turns = 1) each
  fresh request opens a session, so a session is that question plus the retries and rephrasings
  that follow it before the user asks something new: session-scoped repeats then repeat the
  user's latest question (popularity has a single candidate and shows no Zipf slope).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from suite.synth.repetition import Popularity, ReuseWindow


class TurnCounts(Protocol):
    """Where the fresh turns of each new session come from: a spec's ``ValueSpec``, or an import's
    conversation lengths in file order."""

    def sample(self, rng: random.Random) -> int | float: ...
FRESH, REPEAT, VARIANT, NEAR_MISS = "fresh", "repeat", "variant", "near_miss"


@dataclass(frozen=True)
class PlanConfig:
    """What the planner needs from a spec (``ScenarioSpec.plan_config()``)."""

    n: int
    repeat_ratio: float = 0.0
    near_duplicate_ratio: float = 0.0
    popularity: Popularity = Popularity()
    catalog_size: int | None = None
    reuse_distance: ReuseWindow | None = None
    scope: str = "across"
    users: int = 1
    turns: TurnCounts | None = None  # fresh turns per session (scope session; None: 1)
    hard_negative_ratio: float = 0.0  # near misses: an original's wording with other slot values


class Slot(NamedTuple):
    """One planned request: its kind, the index of its fresh original (or None), its user and, with
    scope ``session``, its session (the position of the session's first request; else None)."""

    kind: str
    source: int | None
    user: int
    session: int | None = None


class WeightedPool:
    """Items with integer weights; draw ∝ weight and remove in O(log n) (a Fenwick tree)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.tree = [0] * (size + 1)
        self.weights = [0] * size
        self.items: list[int] = [-1] * size
        self.total = 0
        self.used = 0

    def add(self, item: int, weight: int) -> int:
        slot = self.used
        self.used += 1
        self.items[slot] = item
        self._update(slot, weight)
        return slot

    def remove(self, slot: int) -> None:
        self._update(slot, -self.weights[slot])

    def _update(self, slot: int, delta: int) -> None:
        self.weights[slot] += delta
        self.total += delta
        i = slot + 1
        while i <= self.size:
            self.tree[i] += delta
            i += i & -i

    def draw(self, rng: random.Random) -> int:
        """An item drawn with probability weight / total (total must be > 0)."""
        target = rng.randrange(self.total)
        pos, step = 0, 1 << self.size.bit_length()
        while step:
            nxt = pos + step
            if nxt <= self.size and self.tree[nxt] <= target:
                pos = nxt
                target -= self.tree[nxt]
            step >>= 1
        return self.items[pos]


class Eligible:
    """The originals a repeat may pick now: per pool (one, or one per user), expiring by window."""

    def __init__(self, cfg: PlanConfig, users: Sequence[int], clock: Sequence[float]) -> None:
        self.cfg = cfg
        self.clock = clock
        self.by_session = cfg.scope == "session"
        self.current: dict[int, int] = {}  # scope session: user -> pool of their open session
        self.starts: list[int] = []  # scope session: pool -> position of the session's first request
        self.turns_left: dict[int, int] = {}  # scope session: user -> fresh turns its session still takes
        sizes = [] if self.by_session else [0] * (cfg.users if cfg.scope == "user" else 1)
        if not self.by_session:
            for u in users:
                sizes[self.pool_of(u)] += 1
        self.pools = [WeightedPool(s) for s in sizes]
        self.where: dict[int, tuple[int, int]] = {}  # original -> (pool, slot)
        self.last: dict[int, int] = {}  # original -> position of the last occurrence of its key
        self.queue: deque[tuple[int, int]] = deque()  # (position, original), in position order

    def pool_of(self, user: int) -> int:
        if self.by_session:
            return self.current.get(user, -1)
        return user if self.cfg.scope == "user" else 0

    def fresh_turn(self, position: int, user: int, rng: random.Random) -> None:
        """Scope session: the user's fresh request at ``position`` is a turn of their open session,
        or opens a new one when the open one has had all its turns."""
        if self.turns_left.get(user, 0) <= 0:
            turns = max(1, int(self.cfg.turns.sample(rng))) if self.cfg.turns is not None else 1
            self.pools.append(WeightedPool(turns))
            self.starts.append(position)
            self.current[user] = len(self.pools) - 1
            self.turns_left[user] = turns
        self.turns_left[user] -= 1

    def session_of(self, user: int) -> int | None:
        """Scope session: the first position of the user's open session (None: other scopes)."""
        return self.starts[self.current[user]] if self.by_session else None

    def add(self, original: int, user: int, weight: int) -> None:
        pool = self.pool_of(user)
        self.where[original] = (pool, self.pools[pool].add(original, weight))
        self.touch(original, original)

    def touch(self, original: int, position: int) -> None:
        self.last[original] = position
        if self.cfg.reuse_distance is not None:
            self.queue.append((position, original))

    def expire(self, position: int) -> None:
        window = self.cfg.reuse_distance
        if window is None:
            return
        now = self.clock[position]
        while self.queue and now - self.clock[self.queue[0][0]] > window.size:
            seen, original = self.queue.popleft()
            if self.last[original] == seen:
                pool, slot = self.where[original]
                self.pools[pool].remove(slot)

    def pool_for(self, user: int) -> WeightedPool:
        pool = self.pool_of(user)
        return self.pools[pool] if pool >= 0 else NO_POOL


NO_POOL = WeightedPool(0)  # a user without an open session (scope session) has nothing to repeat


def assign_users(n: int, users: int, rng: random.Random) -> list[int]:
    if users == 1:
        return [0] * n
    rnd = rng.random  # int(random() * users) is uniform to within users / 2^53
    return [int(rnd() * users) for _ in range(n)]


def catalog_size(cfg: PlanConfig) -> int:
    """How many fresh requests repeats may pick from (the manifest reports it)."""
    fresh = (cfg.n - round(cfg.repeat_ratio * cfg.n) - round(cfg.near_duplicate_ratio * cfg.n)
             - round(cfg.hard_negative_ratio * cfg.n))
    return max(1, min(cfg.catalog_size or fresh, fresh))


def plan(cfg: PlanConfig, rng: random.Random, clock: Sequence[float] | None = None) -> list[Slot]:
    """The plan for ``cfg.n`` requests; ``clock`` (arrival offsets) is needed for a seconds window."""
    users = assign_users(cfg.n, cfg.users, rng)
    clock = clock if clock is not None else range(cfg.n)
    eligible = Eligible(cfg, users, clock)
    size = catalog_size(cfg)
    left = {REPEAT: round(cfg.repeat_ratio * cfg.n), VARIANT: round(cfg.near_duplicate_ratio * cfg.n),
            NEAR_MISS: round(cfg.hard_negative_ratio * cfg.n)}
    out: list[Slot] = []
    n_fresh = 0
    for i, user in enumerate(users):
        eligible.expire(i)
        pool = eligible.pool_for(user)
        kind = _kind(left, cfg.n - i, rng) if pool.total else FRESH
        if kind == FRESH:
            if eligible.by_session:
                eligible.fresh_turn(i, user, rng)
            if n_fresh < size:
                eligible.add(i, user, cfg.popularity.weight(n_fresh + 1))
            n_fresh += 1
            out.append(Slot(FRESH, None, user, eligible.session_of(user)))
            continue
        left[kind] -= 1
        source = pool.draw(rng)
        if kind == REPEAT:
            eligible.touch(source, i)
        out.append(Slot(kind, source, user, eligible.session_of(user)))
    return out


def _kind(left: dict[str, int], remaining: int, rng: random.Random) -> str:
    u = rng.random() * remaining
    if u < left[REPEAT]:
        return REPEAT
    if u < left[REPEAT] + left[VARIANT]:
        return VARIANT
    if u < left[REPEAT] + left[VARIANT] + left[NEAR_MISS]:
        return NEAR_MISS
    return FRESH
