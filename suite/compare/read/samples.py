"""One run as aligned per-request arrays: the only thing comparisons need from a request log.

Loading goes through ``suite.analyze.load_run`` (shards, warm-up exclusion and validation are the
analyze stage's business). Every array has one entry per measured request, in log order; a value
that was not measured is NaN, never a default — e.g. ``ttft`` is NaN on failed or non-streamed
requests, ``hit`` is NaN where the target gave no cache signal.
"""

from __future__ import annotations

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

    def subset(self, mask: np.ndarray) -> RunSamples:
        """The same run restricted to some requests (the run's window is kept: throughput of a
        model's share is measured over the whole run, as in summary.json)."""
        return RunSamples(self.label, self.run_dir, self.ids[mask], self.models[mask], self.ok[mask],
                          {k: v[mask] for k, v in self.values.items()}, self.hit[mask],
                          self.completion_tokens[mask], self.seconds, self.meta, self.manifest)

    def model_names(self) -> list[str]:
        return sorted(str(m) for m in set(self.models.tolist()))

    def for_model(self, model: str) -> RunSamples:
        return self.subset(self.models == model)


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
    if gaps is not None and len(gaps.offsets) == len(run.requests) + 1:
        return gaps.per_request_mean()
    itl = run.requests["itl"] if "itl" in run.requests else [None] * len(run.requests)
    return np.array([np.nanmean(g) if isinstance(g, list) and g else np.nan for g in itl], dtype=float)


def _floats(frame: Any, name: str) -> np.ndarray:
    return np.asarray(frame[name].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _mask(frame: Any, name: str) -> np.ndarray:
    return np.asarray(frame[name].to_numpy(dtype=bool, na_value=False), dtype=bool)


def _hits(frame: Any) -> np.ndarray:
    cache = frame["cache"].astype(object).to_numpy()
    return np.where(cache == "hit", 1.0, np.where(cache == "miss", 0.0, np.nan))


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
                      np.where(ok, tokens, np.nan), end - start, meta, getattr(run, "manifest", None))


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
