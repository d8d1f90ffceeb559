"""One run as aligned per-request arrays: the only thing comparisons need from a request log.

Loading goes through ``suite.analyze.load_run`` (shards, warm-up exclusion and validation are the
analyze stage's business). Every array has one entry per measured request, in log order; a value
that was not measured is NaN, never a default — e.g. ``ttft`` is NaN on failed or non-streamed
requests, ``hit`` is NaN where the target gave no cache signal, ``repeat`` (1.0 when the corpus
marked the request an exact repeat, 0.0 when first seen) is NaN where the log does not say.

A model measured in several segments (ABBA blocks of a swap) is one ``RunSamples``: ``concat``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite.analyze.summarize.stats import window
from suite.errors import AnalysisError

LATENCY_METRICS = ("ttft", "tpot", "itl_mean", "e2e")


@dataclass
class RunSamples:
    """Per-request values of one run (or of one model's share of it)."""

    label: str
    run_dir: Path
    ids: np.ndarray
    models: np.ndarray
    ok: np.ndarray
    values: dict[str, np.ndarray]
    hit: np.ndarray
    completion_tokens: np.ndarray
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None
    repeat: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        # Callers that predate ``repeat`` (or logs without it) leave it empty: unknown, not "first seen".
        if self.repeat.size == 0 and self.ids.size:
            self.repeat = np.full(self.ids.size, np.nan)

    def subset(self, mask: np.ndarray) -> RunSamples:
        """The same run restricted to some requests (the run's window is kept: throughput of a
        model's share is measured over the whole run, as in summary.json)."""
        return RunSamples(self.label, self.run_dir, self.ids[mask], self.models[mask], self.ok[mask],
                          {k: v[mask] for k, v in self.values.items()}, self.hit[mask],
                          self.completion_tokens[mask], self.seconds, self.meta, self.manifest,
                          self.repeat[mask])

    def model_names(self) -> list[str]:
        return sorted(str(m) for m in set(self.models.tolist()))

    def for_model(self, model: str) -> RunSamples:
        return self.subset(self.models == model)


def _joint_identity(samples: list[RunSamples]) -> tuple[dict[str, Any] | None, str | None]:
    """The segments' shared corpus identity (manifest kept), or a hash of their distinct identities:
    two concatenations pair only when their segments replayed the same corpora."""
    ids = [corpus_identity(s)[0] for s in samples]
    if None in ids:
        return None, None
    if len(set(ids)) == 1:
        return samples[0].manifest, samples[0].meta.get("corpus_sha256")
    return None, hashlib.sha256("\n".join(sorted(set(map(str, ids)))).encode()).hexdigest()


def concat(samples: list[RunSamples], label: str) -> RunSamples:
    """One model measured in several segments (e.g. the A blocks of an ABBA swap) as one sample.

    Requests are concatenated in segment order; the window ``seconds`` is the *sum* of the segments'
    windows, not first start → last end, so the other model's segments in between do not dilute this
    model's throughput. ``meta`` is the first segment's plus ``segments`` (folder, records, window of
    each); the corpus identity is kept when every segment replayed the same corpus, else it becomes a
    hash of the distinct identities. Request ids should be unique across segments: pairing joins by id.
    """
    if not samples:
        raise AnalysisError(f"concat {label!r}: no segment given; pass at least one run's samples.")
    manifest, sha = _joint_identity(samples)
    meta = {**samples[0].meta, "corpus_sha256": sha,
            "segments": [{"run_dir": str(s.run_dir), "records": int(s.ids.size), "window_s": s.seconds}
                         for s in samples]}
    keys = samples[0].values.keys()
    return RunSamples(label, samples[0].run_dir, np.concatenate([s.ids for s in samples]),
                      np.concatenate([s.models for s in samples]), np.concatenate([s.ok for s in samples]),
                      {k: np.concatenate([s.values[k] for s in samples]) for k in keys},
                      np.concatenate([s.hit for s in samples]),
                      np.concatenate([s.completion_tokens for s in samples]),
                      float(sum(s.seconds for s in samples)), meta, manifest,
                      np.concatenate([s.repeat for s in samples]))


def run_dir_of(path: str | Path) -> Path:
    """A run folder, or the folder of a ``summary.json`` / ``run.json`` / ``requests.jsonl`` given."""
    path = Path(path)
    if path.is_file():
        return path.parent
    if not path.is_dir():
        raise AnalysisError(f"{path}: no such run folder or summary.json. Pass the folder a run wrote "
                            "(reports/<run>/) or its summary.json.")
    return path


def _gap_means(run: Any) -> np.ndarray:
    gaps = getattr(run, "gaps", None)
    if gaps is not None and gaps.rows == len(run.requests):
        return gaps.per_request_mean()
    itl = run.requests["itl"] if "itl" in run.requests else [None] * len(run.requests)
    return np.array([np.nanmean(g) if isinstance(g, list) and g else np.nan for g in itl], dtype=float)


def _floats(frame: Any, name: str) -> np.ndarray:
    return np.asarray(frame[name].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _mask(frame: Any, name: str) -> np.ndarray:
    return np.asarray(frame[name].to_numpy(dtype=bool, na_value=False), dtype=bool)


def _hits(frame: Any) -> np.ndarray:
    """1 hit, 0 miss, NaN otherwise — a failed request is neither (a ``present:NAME`` rule would call
    every HTTP 400 a miss)."""
    cache = frame["cache"].astype(object).to_numpy()
    hits = np.where(cache == "hit", 1.0, np.where(cache == "miss", 0.0, np.nan))
    return np.where(_mask(frame, "ok"), hits, np.nan)


def _repeats(frame: Any) -> np.ndarray:
    if "repeat" not in frame:
        return np.full(len(frame), np.nan)
    return _floats(frame, "repeat")


def samples_of(run: Any, label: str) -> RunSamples:
    """``LoadedRun`` → ``RunSamples``: latencies of successful requests only (TTFT and TPOT also
    need a streamed reply, TPOT more than one completion token)."""
    frame = run.requests
    ok = _mask(frame, "ok")
    streamed = ok & _mask(frame, "stream")
    e2e, ttft, tokens = _floats(frame, "e2e"), _floats(frame, "ttft"), _floats(frame, "completion_tokens")
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(streamed & (tokens > 1), (e2e - ttft) / (tokens - 1), np.nan)
    values = {"ttft": np.where(streamed, ttft, np.nan), "tpot": tpot,
              "itl_mean": np.where(ok, _gap_means(run), np.nan), "e2e": np.where(ok, e2e, np.nan)}
    start, end = window(_floats(frame, "t_start"), e2e)
    meta = run.meta.to_dict() if getattr(run, "meta", None) is not None else {}
    return RunSamples(label, Path(run.run_dir), frame["id"].astype(str).to_numpy(dtype=object),
                      frame["model"].astype(str).to_numpy(dtype=object), ok, values, _hits(frame),
                      np.where(ok, tokens, np.nan), end - start, meta, getattr(run, "manifest", None),
                      _repeats(frame))


def load_samples(path: str | Path, label: str | None = None) -> RunSamples:
    """Read one run folder through the analyze stage's loader."""
    from suite.analyze import load_run

    run_dir = run_dir_of(path)
    return samples_of(load_run(run_dir), label or run_dir.name)


def corpus_identity(samples: RunSamples) -> tuple[str | None, str]:
    """The sha256 of the corpus a run replayed — of the *source* corpus when the run replayed a
    derived copy with a model override (``llmsuite swap``) — and where it comes from."""
    derived = (samples.manifest or {}).get("derived_from")
    if isinstance(derived, dict) and derived.get("corpus_sha256"):
        return str(derived["corpus_sha256"]), "source corpus of a model-override copy (manifest)"
    sha = samples.meta.get("corpus_sha256")
    if sha:
        return str(sha), "run.json corpus_sha256"
    return None, "no run.json with a corpus_sha256"


def model_override(samples: RunSamples) -> str | None:
    derived = (samples.manifest or {}).get("derived_from")
    return str(derived["model_override"]) if isinstance(derived, dict) and "model_override" in derived \
        else None
