"""The corpus files a swap makes around its runs (suite.sweep.swap_runs) and how a model's segments
become one sample (suite.sweep.swap): halves that pair across models, warnings for a cut segment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

from suite.compare.read.samples import RunSamples, corpus_identity
from suite.records import file_sha256, manifest_path, read_corpus, write_jsonl
from suite.sweep.model_override import write_model_copy
from suite.sweep.run import StepPlan
from suite.sweep.swap import _as_model, _short_warnings
from suite.sweep.swap_runs import warmup_salt, write_halves
from tests.unit.sweep.test_swap_schedule import request


def source(tmp_path: Path) -> Path:
    reqs = [request(i, f"s{i}") for i in range(6)]
    reqs.append(request(6, "s6", text="prompt 0"))  # in the second half, a repeat of q0 (first half)
    path = tmp_path / "c.jsonl"
    write_jsonl(path, [r.to_dict() for r in reqs])
    return path


def test_halves_pair_across_models_and_keep_repeats_of_the_other_half(tmp_path: Path) -> None:
    src = source(tmp_path)
    halves = {}
    for model in ("gpt-4o", "gpt-5-mini"):
        copy, manifest = write_model_copy(src, model, tmp_path / "corpora" / f"{model}.jsonl")
        halves[model] = write_halves(copy, manifest, tmp_path, model)
    a1, a2 = (read_corpus(halves["gpt-4o"][p]) for p in ("h1", "h2"))
    b1 = read_corpus(halves["gpt-5-mini"]["h1"])
    assert [r.id for r in a1] == [r.id for r in b1] == ["q0", "q1", "q2"]
    assert [r.id for r in a2] == ["q3", "q4", "q5", "q6"]
    assert a2[-1].repeat_of == "q0"  # the ground truth survives the split
    assert halves["gpt-4o"]["h1"] == tmp_path / "model-gpt-4o-h1" / "corpus.jsonl"
    m = orjson.loads(manifest_path(halves["gpt-5-mini"]["h2"]).read_bytes())
    assert m["derived_from"]["corpus_sha256"] == file_sha256(src)  # pairs with the other model's
    assert m["segment"]["part"] == "h2" and m["segment"]["of_n"] == 7
    assert m["corpus_sha256"] == file_sha256(halves["gpt-5-mini"]["h2"])


def samples(ids: list[str], run: str, seconds: float) -> RunSamples:
    n = len(ids)
    return RunSamples(run, Path(run), np.array(ids, dtype=object), np.array(["m"] * n, dtype=object),
                      np.ones(n, dtype=bool), {"e2e": np.full(n, 0.1)}, np.full(n, np.nan), np.full(n, 8.0),
                      seconds, {"run_id": run, "corpus_sha256": f"sha-{run}"},
                      {"derived_from": {"corpus_sha256": f"src-{run}"}})


def test_a_models_segments_become_one_sample_identified_by_the_source_corpus() -> None:
    manifest = {"corpus_sha256": "copy-sha", "derived_from": {"corpus_sha256": "src", "model_override": "m"}}
    whole = _as_model("m", [samples(["q0", "q1"], "h1", 1.0), samples(["q2"], "h2", 2.0)], manifest)
    assert whole.label == "m" and list(whole.ids) == ["q0", "q1", "q2"]
    assert whole.seconds == 3.0  # the segments' windows summed, not first start → last end
    assert corpus_identity(whole)[0] == "src"
    assert whole.meta["corpus_sha256"] == "copy-sha"


def test_a_model_short_of_the_corpus_is_a_warning(tmp_path: Path) -> None:
    plan = StepPlan(out=tmp_path, duration_s=5.0)
    done, cut = samples(["q0", "q1", "q2"], "a", 1.0), samples(["q0"], "b", 1.0)
    done.label, cut.label = "gpt-4o", "gpt-5-mini"
    segments = [{"model": m, "run_id": f"model-{m}"} for m in ("gpt-4o", "gpt-5-mini")]
    (warning,) = _short_warnings([done, cut], segments, 3, plan)
    assert warning.startswith("gpt-5-mini: 1 of the corpus's 3 requests were sent")
    assert "--duration 5 s ended model-gpt-5-mini" in warning


def test_the_warm_up_salt_is_never_the_measured_one(tmp_path: Path) -> None:
    assert warmup_salt(StepPlan(out=tmp_path, salt="abc")) == "warmup-abc"
    assert warmup_salt(StepPlan(out=tmp_path, seed=3)) == "warmup-3"
