"""Statistics of a corpus, from its requests alone (the manifest's "achieved" side and ``corpus stats``).

Pure functions over ``CorpusRequest`` lists; nothing here knows the spec.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from suite.records import CorpusRequest
from suite.synth.outputlen import achieved as expected_output
from suite.synth.prefixshare import expected_cache
from suite.synth.similarity import pair_similarities, spread

MIN_FIT_COUNT = 5  # ranks whose count is below this are Poisson noise, left out of the slope fit
MIN_FIT_POINTS = 3


def user_of(request: CorpusRequest) -> str:
    """The user a request belongs to: the ``uNNNN`` head of its session id (``u0003-s000012``)."""
    return request.session.split("-", 1)[0]


def repeat_counts(requests: Sequence[CorpusRequest]) -> list[int]:
    """How often each original is repeated exactly, most repeated first (the popularity curve)."""
    counts = Counter(r.repeat_of for r in requests if r.repeat_of is not None)
    return sorted(counts.values(), reverse=True)


def zipf_slope(counts: Sequence[int]) -> float | None:
    """−slope of log(count) against log(rank) over the ranks with count >= 5 (None: too few points)."""
    head = [c for c in counts if c >= MIN_FIT_COUNT]
    if len(head) < MIN_FIT_POINTS:
        return None
    ranks = np.arange(1, len(head) + 1, dtype=float)
    slope = np.polyfit(np.log(ranks), np.log(np.asarray(head, dtype=float)), 1)[0]
    return round(float(-slope), 4)


def reuse_distances(requests: Sequence[CorpusRequest], unit: str = "requests") -> list[float]:
    """For each exact repeat: how far back the previous occurrence of its key is (requests or seconds)."""
    last: dict[str, int] = {}
    out: list[float] = []
    for i, r in enumerate(requests):
        prev = last.get(r.key)
        if prev is not None and r.repeat_of is not None:
            before = requests[prev]
            if unit == "requests":
                out.append(float(i - prev))
            else:
                out.append(round(float(r.t or 0.0) - float(before.t or 0.0), 6))
        last[r.key] = i
    return out


def distribution(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=float)
    return {"p50": float(np.percentile(arr, 50)), "p90": float(np.percentile(arr, 90)),
            "max": float(arr.max())}


def same_user_share(requests: Sequence[CorpusRequest]) -> float | None:
    """Share of exact repeats whose original was sent by the same user."""
    by_id = {r.id: r for r in requests}
    repeats = [r for r in requests if r.repeat_of is not None]
    if not repeats:
        return None
    return sum(user_of(r) == user_of(by_id[r.repeat_of]) for r in repeats if r.repeat_of) / len(repeats)


def same_session_share(requests: Sequence[CorpusRequest]) -> float | None:
    """Share of exact repeats whose original belongs to the same conversation session."""
    by_id = {r.id: r for r in requests}
    repeats = [r for r in requests if r.repeat_of is not None]
    if not repeats:
        return None
    return sum(r.session == by_id[r.repeat_of].session for r in repeats if r.repeat_of) / len(repeats)


def arrival_rate(requests: Sequence[CorpusRequest]) -> float | None:
    """Achieved mean rate in requests/s ((n − 1) / time span); None for closed-loop corpora."""
    times = [r.t for r in requests if r.t is not None]
    if len(times) < 2 or times[-1] == times[0]:
        return None
    return round((len(times) - 1) / (max(times) - min(times)), 6)


def gap_cv(requests: Sequence[CorpusRequest]) -> float | None:
    """Coefficient of variation of inter-arrival gaps (1 for Poisson, < 1 smoother, > 1 burstier)."""
    times = np.asarray([r.t for r in requests if r.t is not None], dtype=float)
    if len(times) < 3:
        return None
    gaps = np.diff(np.sort(times))
    return round(float(gaps.std() / gaps.mean()), 4) if gaps.mean() > 0 else None


def similarity(requests: Sequence[CorpusRequest], field: str) -> dict[str, Any] | None:
    """The lexical-similarity spread of the pairs ``field`` names (None: no such pair)."""
    got = spread(pair_similarities(requests, field))
    return got if got["pairs"] else None


def prefix_cache(requests: Sequence[CorpusRequest]) -> dict[str, Any]:
    """The expected prefix-cache share, overall and per model (tokenizes the whole corpus)."""
    got = expected_cache(requests)
    return {"expected_cached_share": got["expected_cached_share"],
            "expected_cached_share_per_model": {m: v["expected_cached_share"]
                                                for m, v in got["per_model"].items()}}


def summary(requests: Sequence[CorpusRequest], with_prefix_cache: bool = False) -> dict[str, Any]:
    """The headline numbers of a corpus (what ``llmsuite corpus stats`` prints); the expected
    prefix-cache share only when asked (it tokenizes every prompt)."""
    n = len(requests)
    counts = repeat_counts(requests)
    tokens = np.asarray([r.prompt_tokens for r in requests], dtype=float)
    return {
        "requests": n,
        "unique_keys": len({r.key for r in requests}),
        "repeat_ratio": sum(r.repeat_of is not None for r in requests) / n,
        "near_duplicate_ratio": sum(r.variant_of is not None for r in requests) / n,
        "hard_negative_ratio": sum(r.near_miss_of is not None for r in requests) / n,
        "similarity_paraphrase": similarity(requests, "variant_of"),
        "similarity_hard_negative": similarity(requests, "near_miss_of"),
        "theoretical_hit_ratio": (n - len({r.key for r in requests})) / n,
        "repeated_originals": len(counts),
        "zipf_slope": zipf_slope(counts),
        "reuse_distance_requests": distribution(reuse_distances(requests)),
        "same_user_share": same_user_share(requests),
        "same_session_share": same_session_share(requests),
        "prompt_tokens": {f"p{q}": float(np.percentile(tokens, q)) for q in (50, 90, 99)},
        "expected_output_tokens": expected_output([r.expected_output_tokens for r in requests],
                                                  [r.max_tokens for r in requests]),
        "models": dict(sorted(Counter(r.model for r in requests).items())),
        "intents": dict(sorted(Counter(r.intent for r in requests).items())),
        "arrival_rate": arrival_rate(requests),
        "gap_cv": gap_cv(requests),
        **(prefix_cache(requests) if with_prefix_cache else {}),
    }


# --- what ``llmsuite corpus stats`` shows: human names with units, and why a figure is missing ---

_CLOSED = "closed loop: no arrival times"
# key of ``summary`` -> (the row's name, how to show the value, why it can be missing)
_ROWS: dict[str, tuple[str, str, str]] = {
    "requests": ("Requests", "count", ""),
    "unique_keys": ("Distinct requests (exact cache keys)", "count", ""),
    "repeat_ratio": ("Exact repeats", "percent", ""),
    "near_duplicate_ratio": ("Near-duplicates (paraphrases)", "percent", ""),
    "hard_negative_ratio": ("Hard negatives (near misses: other slot values)", "percent", ""),
    "similarity_paraphrase": ("Lexical similarity of paraphrase pairs (char 3-gram cosine)", "similarity",
                              "no paraphrase in the corpus"),
    "similarity_hard_negative": ("Lexical similarity of hard-negative pairs (char 3-gram cosine)",
                                 "similarity", "no hard negative in the corpus"),
    "expected_cached_share": ("Expected prefix-cache share (16-token blocks, unbounded cache)", "percent",
                              ""),
    "expected_cached_share_per_model": ("Expected prefix-cache share per model", "shares", ""),
    "theoretical_hit_ratio": ("Hit ratio of an unbounded exact cache", "percent", ""),
    "repeated_originals": ("Originals repeated at least once", "count", ""),
    "zipf_slope": ("Popularity: fitted Zipf exponent s", "number",
                   f"fewer than {MIN_FIT_POINTS} originals repeated {MIN_FIT_COUNT}+ times"),
    "reuse_distance_requests": ("Reuse distance (requests back)", "spread", "no exact repeat"),
    "same_user_share": ("Repeats of the same user's request", "percent", "no exact repeat"),
    "same_session_share": ("Repeats within the same session", "percent", "no exact repeat"),
    "prompt_tokens": ("Prompt length (tokens)", "spread", ""),
    "expected_output_tokens": ("Expected output length (tokens)", "output",
                               "the corpus carries no expected output lengths"),
    "models": ("Models (requests each)", "mix", ""),
    "intents": ("Intents (requests each)", "mix", ""),
    "arrival_rate": ("Arrival rate (requests/s)", "number", _CLOSED),
    "gap_cv": ("Arrival gap CV (1 = Poisson)", "number", _CLOSED),
}


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.3g}"


def _show(kind: str, value: Any) -> str:
    if kind == "count":
        return f"{value:,}"
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "number":
        return f"{value:.3g}"
    if kind == "mix":
        return " · ".join(f"{k} {v:,}" for k, v in value.items())
    if kind == "shares":
        return " · ".join(f"{k} {v:.1%}" if v is not None else f"{k} —" for k, v in value.items())
    if kind == "similarity":
        bins = "/".join(str(c) for c in value["counts"])
        return (f"p10 {value['p10']:.2f} · p50 {value['p50']:.2f} · p90 {value['p90']:.2f} "
                f"({value['pairs']:,} pairs; per 0.1 bin from 0: {bins})")
    parts = " · ".join(f"{k} {_num(v)}" for k, v in value.items() if k != "at_max_tokens_share")
    if kind == "output" and value.get("at_max_tokens_share") is not None:
        parts += f"; {value['at_max_tokens_share']:.1%} at max_tokens"
    return parts


def display_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(name with unit, value) per statistic of ``summary``; a missing one says why (pure)."""
    out = []
    for key, value in stats.items():
        name, kind, why = _ROWS.get(key, (key.replace("_", " ").capitalize(), "number", ""))
        if value is None:
            out.append((name, f"— ({why})" if why else "—"))
        elif isinstance(value, dict) and kind not in ("mix", "spread", "output", "shares", "similarity"):
            out.append((name, " · ".join(f"{k} {v}" for k, v in value.items())))
        else:
            out.append((name, _show(kind, value)))
    return out
