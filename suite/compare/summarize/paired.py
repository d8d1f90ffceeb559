"""Paired per-request deltas: when A and B replayed the same corpus, request ``id`` X in A and in B
asked the same thing, so ``b_X − a_X`` removes the between-request spread (long vs short answers)
that dominates unpaired comparisons.

Pairs are joined by id only — a model-swap run asks another model for the same request, so the
model may differ; each pair is grouped under ``A's model → B's model``. A request counts in a
metric's pairs only when the metric was measured on both sides (both succeeded, both streamed...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suite.analyze.summarize.bootstrap import bootstrap_ci, interval, replicates
from suite.compare.read.samples import LATENCY_METRICS, RunSamples, corpus_identity
from suite.compare.summarize.deltas import Boot
from suite.compare.summarize.significance import p_value

MIN_PAIRS = 2


def same_corpus(a: RunSamples, b: RunSamples) -> tuple[bool, str]:
    """Whether pairing is legitimate, and a sentence saying why (or why not)."""
    (sha_a, src_a), (sha_b, src_b) = corpus_identity(a), corpus_identity(b)
    if sha_a is None or sha_b is None:
        missing = src_a if sha_a is None else src_b
        return False, f"cannot tell whether the runs replayed the same corpus ({missing})"
    if sha_a != sha_b:
        return False, (f"the runs replayed different corpora (sha256 {sha_a[:12]}… vs {sha_b[:12]}…); "
                       "per-request pairing needs the same corpus")
    source = src_a if src_a == src_b else f"{src_a} / {src_b}"
    return True, f"same corpus (sha256 {sha_a[:12]}…, from {source})"


def join(a: RunSamples, b: RunSamples) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(ia, ib)`` of the requests present in both runs, matched by id."""
    common, ia, ib = np.intersect1d(a.ids.astype(str), b.ids.astype(str), assume_unique=False,
                                    return_indices=True)
    return ia, ib


def metric_pairs(deltas: np.ndarray, metric: str, boot: Boot, key: str) -> dict[str, Any]:
    """Median and mean paired delta (B − A) with CIs, and the share of requests faster in B."""
    n = int(deltas.size)
    if n < MIN_PAIRS:
        return {"metric": metric, "n_pairs": n, "why": f"{n} request(s) with {metric} measured in both runs; "
                f"pairing needs at least {MIN_PAIRS}"}
    opts = {"n_boot": boot.n_boot, "conf": boot.conf}
    reps = replicates(deltas, "median", n_boot=boot.n_boot, seed=boot.seed_for(key, "med"))
    median = None if reps is None else interval(reps[0], reps[1], boot.conf)
    mean = bootstrap_ci(deltas, "mean", seed=boot.seed_for(key, "mean"), **opts)
    faster = bootstrap_ci((deltas < 0).astype(float), "mean", seed=boot.seed_for(key, "faster"), **opts)
    assert reps is not None and median is not None and mean is not None and faster is not None  # n >= 2
    return {"metric": metric, "unit": "s", "n_pairs": n,
            "median_delta": median[0], "median_delta_ci": [median[1], median[2]],
            "mean_delta": mean[0], "mean_delta_ci": [mean[1], mean[2]],
            "share_faster_in_b": faster[0], "share_faster_in_b_ci": [faster[1], faster[2]],
            "share_slower_in_b": float((deltas > 0).mean()),
            "significant": bool(median[1] > 0 or median[2] < 0), "p": p_value(reps[1]), "p_holm": None}


def _groups(a: RunSamples, b: RunSamples, ia: np.ndarray, ib: np.ndarray) -> dict[str, np.ndarray]:
    pairs = zip(a.models[ia], b.models[ib], strict=True)
    labels = np.array([m if m == n else f"{m} → {n}" for m, n in pairs], dtype=object)
    out = {"(all)": np.ones(ia.size, dtype=bool)}
    if len(set(labels)) > 1:
        out.update({str(g): labels == g for g in sorted(set(labels))})
    elif labels.size:
        out = {str(labels[0]): out["(all)"]}
    return out


def paired_section(a: RunSamples, b: RunSamples, boot: Boot) -> dict[str, Any]:
    """Paired deltas per group of matched requests, or the reason there are none."""
    ok, why = same_corpus(a, b)
    if not ok:
        return {"paired": False, "why": why}
    ia, ib = join(a, b)
    section: dict[str, Any] = {"paired": True, "basis": why, "matched": int(ia.size),
                               "only_in_a": int(a.ids.size - ia.size), "only_in_b": int(b.ids.size - ib.size),
                               "failed_in_either": int((~a.ok[ia] | ~b.ok[ib]).sum()), "groups": []}
    if ia.size == 0:
        return {**section, "paired": False, "why": "no request id appears in both runs"}
    for group, mask in _groups(a, b, ia, ib).items():
        rows = []
        for metric in LATENCY_METRICS:
            deltas = b.values[metric][ib[mask]] - a.values[metric][ia[mask]]
            deltas = deltas[np.isfinite(deltas)]
            rows.append(metric_pairs(deltas, metric, boot, f"paired/{a.label}/{b.label}/{group}/{metric}"))
        section["groups"].append({"group": group, "requests": int(mask.sum()), "metrics": rows})
    return section
