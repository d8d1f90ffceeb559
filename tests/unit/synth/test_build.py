"""Corpus building: deterministic, exact repeat ratio, honest keys, self-describing manifest."""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from suite.errors import CorpusError, SpecError
from suite.records import manifest_path, read_corpus, request_key
from suite.synth import build_corpus, build_manifest, load_spec, parse_spec, plan_repeats, write_corpus
from suite.synth.spec import ScenarioSpec
from suite.tokens import count_chat_tokens

from .test_spec import BASE, BUNDLED


@pytest.fixture(scope="module")
def small_spec() -> ScenarioSpec:
    return parse_spec(BASE, "base.yaml")


def with_(spec: ScenarioSpec, **changes: object) -> ScenarioSpec:
    return replace(spec, **changes)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    spec = load_spec(BUNDLED, {"n": 300})
    paths = []
    for name in ("a", "b"):
        requests = build_corpus(spec, 11)
        paths.append(write_corpus(tmp_path / f"{name}.jsonl", requests, build_manifest(spec, 11, requests)))
    (a, ma), (b, mb) = paths
    assert a.read_bytes() == b.read_bytes()
    assert ma.read_bytes() == mb.read_bytes()
    assert ma == manifest_path(a)


def test_other_seed_gives_other_corpus(small_spec: ScenarioSpec) -> None:
    first = build_corpus(with_(small_spec, n=50), 1)
    second = build_corpus(with_(small_spec, n=50), 2)
    assert [r.key for r in first] != [r.key for r in second]


def test_default_seed_is_the_specs(small_spec: ScenarioSpec) -> None:
    spec = with_(small_spec, n=20, seed=5)
    assert build_corpus(spec) == build_corpus(spec, 5)


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.9])
def test_achieved_repeat_ratio_is_within_one_point(small_spec: ScenarioSpec, ratio: float) -> None:
    requests = build_corpus(with_(small_spec, n=2000, repeat_ratio=ratio), 3)
    achieved = sum(r.repeat_of is not None for r in requests) / len(requests)
    assert abs(achieved - ratio) <= 0.01


def test_repeats_copy_their_original_and_point_back(small_spec: ScenarioSpec) -> None:
    requests = build_corpus(with_(small_spec, n=500, repeat_ratio=0.4), 4)
    position = {r.id: i for i, r in enumerate(requests)}
    for i, request in enumerate(requests):
        if request.repeat_of is None:
            continue
        original = requests[position[request.repeat_of]]
        assert position[request.repeat_of] < i
        assert original.repeat_of is None
        for name in ("key", "messages", "model", "max_tokens", "temperature", "intent"):
            assert getattr(request, name) == getattr(original, name)
        assert request.prompt_tokens == original.prompt_tokens
        assert request.session != original.session


def test_fresh_keys_are_unique_and_match_request_key(small_spec: ScenarioSpec) -> None:
    requests = build_corpus(with_(small_spec, n=500, repeat_ratio=0.4), 5)
    fresh = [r for r in requests if r.repeat_of is None]
    assert len({r.key for r in fresh}) == len(fresh)
    for r in fresh[:50]:
        assert r.key == request_key(r.model, r.messages, r.max_tokens, r.temperature)
        assert r.prompt_tokens == count_chat_tokens(r.messages, r.model)


def test_first_request_is_fresh_and_ids_are_sequential(small_spec: ScenarioSpec) -> None:
    requests = build_corpus(with_(small_spec, n=30, repeat_ratio=0.9), 6)
    assert requests[0].repeat_of is None
    assert [r.id for r in requests[:3]] == ["r000001", "r000002", "r000003"]
    assert all(r.t is None and r.turn == 0 for r in requests)
    assert len({r.session for r in requests}) == 30


def test_manifest_reports_requested_and_achieved(small_spec: ScenarioSpec) -> None:
    spec = with_(small_spec, n=1000, repeat_ratio=0.3)
    requests = build_corpus(spec, 7)
    manifest = build_manifest(spec, 7, requests)
    unique = len({r.key for r in requests})
    assert manifest["unique_keys"] == unique
    assert manifest["theoretical_hit_ratio"] == (1000 - unique) / 1000
    assert manifest["repeat_ratio"] == {"requested": 0.3, "achieved": 0.3}
    assert manifest["seed"] == 7
    assert manifest["n"] == 1000
    assert set(manifest["prompt_tokens"]) == {"p50", "p90", "p99", "min", "max", "total"}
    assert "time" not in str(sorted(manifest))
    assert manifest["spec"]["repeat_ratio"] == 0.3


def test_model_mix_is_honored_roughly() -> None:
    spec = replace(parse_spec({**BASE, "models": {"gpt-4o": 3, "gpt-5-mini": 1}}, "m.yaml"), n=2000)
    manifest = build_manifest(spec, 8, build_corpus(spec, 8))
    assert manifest["model_mix"]["requested"] == {"gpt-4o": 0.75, "gpt-5-mini": 0.25}
    assert abs(manifest["model_mix"]["achieved"]["gpt-4o"] - 0.75) < 0.04


def test_written_corpus_reads_back(tmp_path: Path, small_spec: ScenarioSpec) -> None:
    spec = with_(small_spec, n=40, repeat_ratio=0.25)
    requests = build_corpus(spec, 9)
    path, _ = write_corpus(tmp_path / "c.jsonl", requests, build_manifest(spec, 9, requests))
    assert read_corpus(path) == requests


def test_manifest_of_other_requests_is_refused(tmp_path: Path, small_spec: ScenarioSpec) -> None:
    spec = with_(small_spec, n=10)
    manifest = build_manifest(spec, 1, build_corpus(spec, 1))
    with pytest.raises(CorpusError, match="corpus_sha256 does not match"):
        write_corpus(tmp_path / "c.jsonl", build_corpus(spec, 2), manifest)


def test_constant_arrivals(small_spec: ScenarioSpec) -> None:
    spec = parse_spec({**BASE, "arrival": {"process": "constant", "rate": 4}}, "a.yaml")
    assert [r.t for r in build_corpus(replace(spec, n=4), 1)] == [0.0, 0.25, 0.5, 0.75]


def test_too_little_variety_is_a_spec_error() -> None:
    raw = {**BASE, "models": {"gpt-4o": 1}, "slots": {},
           "intents": [{"name": "hello", "weight": 1, "templates": ["Hello?", "Hi?"]}]}
    spec = replace(parse_spec(raw, "tiny.yaml"), n=3)
    with pytest.raises(SpecError) as err:
        build_corpus(spec, 1)
    assert str(err.value) == ("tiny.yaml: intents: 'hello' gave no new distinct request in 200 attempts at "
                              "request 3 of 3: its templates have too little variety (add templates or "
                              "slots to it, or lower n).")


@pytest.mark.parametrize(("n", "ratio", "repeats"), [(1, 0.9, 0), (10, 0.0, 0), (10, 0.25, 2), (10, 0.99, 9)])
def test_plan_repeats_counts(n: int, ratio: float, repeats: int) -> None:
    plan = plan_repeats(n, ratio, random.Random(0))
    assert sum(p is not None for p in plan) == repeats
    assert plan[0] is None
    assert all(p is None or (p < i and plan[p] is None) for i, p in enumerate(plan))


def test_manifest_does_not_depend_on_how_the_spec_path_was_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BUNDLED.parents[2])
    manifests = []
    for path in (BUNDLED, Path("corpora/scenarios/ops-assistant.yaml")):
        spec = load_spec(path, {"n": 20})
        manifests.append(build_manifest(spec, 1, build_corpus(spec, 1)))
    assert manifests[0] == manifests[1]
    assert manifests[0]["spec_file"] == "ops-assistant.yaml"


def test_corpus_name_must_end_in_jsonl(tmp_path: Path, small_spec: ScenarioSpec) -> None:
    spec = with_(small_spec, n=2)
    requests = build_corpus(spec, 1)
    with pytest.raises(CorpusError) as err:
        write_corpus(tmp_path / "c.json", requests, build_manifest(spec, 1, requests))
    assert str(err.value) == f"{tmp_path / 'c.json'}: a corpus file name must end in .jsonl (e.g. c.jsonl)."


def test_every_knob_together_is_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    """Locales, multi-turn sessions, input and output lengths, near-duplicates, open-loop arrivals."""
    slots = {**BASE["slots"], "person": {"faker": "name"}, "day": {"date": ["2025-01-01", "2025-03-31"]}}
    who = {"name": "who", "weight": 1, "templates": ["Who is {person} on {day}?"],
           "templates_it_IT": ["Chi è {person} il {day}?"]}
    raw = {**BASE, "locales": {"en_US": 0.6, "it_IT": 0.4}, "turns": {"choices": [1, 3]}, "users": 7,
           "slots": slots, "intents": [*BASE["intents"], who],
           "input_tokens": {"median": 200, "p90": 400, "context": ["logs", "table"]},
           "expected_output_tokens": {"median": 120, "p90": 400}, "repeat_ratio": 0.3,
           "near_duplicate_ratio": 0.1, "popularity": "zipf:1.1",
           "arrival": {"process": "gamma", "rate": 4, "burstiness": 0.5}}
    spec = replace(parse_spec(raw, "all.yaml"), n=400)
    files = []
    for name in ("a", "b"):
        requests = build_corpus(spec)
        manifest = build_manifest(spec, spec.seed, requests)
        files.append(write_corpus(tmp_path / f"{name}.jsonl", requests, manifest))
    assert [p.read_bytes() for p in files[0]] == [p.read_bytes() for p in files[1]]
    assert build_corpus(spec, spec.seed + 1) != requests
    # counted once per distinct message, yet exactly as a one-off count of each whole prompt
    assert all(r.prompt_tokens == count_chat_tokens(r.messages, r.model) for r in requests)


@pytest.mark.parametrize("enabled", [True, False])
def test_build_leaves_the_garbage_collector_as_it_found_it(small_spec: ScenarioSpec, enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        build_corpus(with_(small_spec, n=20))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


HASH_SEED_PROBE = """
from suite.synth import build_corpus, corpus_sha256, parse_spec
raw = {"domain": "d", "system_prompt": "s", "models": {"gpt-4o": 1}, "locale": "it_IT",
       "slots": {"city": {"faker": "city"}}, "intents": [{"name": "i", "weight": 1,
                                                        "templates": ["Che tempo fa a {city}?"]}]}
print(corpus_sha256(build_corpus(parse_spec({**raw, "n": 40}))))
"""


def test_same_corpus_whatever_python_hash_seed() -> None:
    """Across processes too: Faker's it_IT cities list is built from a set, whose order follows
    PYTHONHASHSEED; the builder's Fakers hold sorted copies of such lists."""
    digests = {subprocess.run([sys.executable, "-c", HASH_SEED_PROBE], check=True, capture_output=True,
                              text=True, timeout=60, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1, digests


def test_build_leaves_objects_the_process_froze_frozen(small_spec: ScenarioSpec) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        build_corpus(with_(small_spec, n=20))
        assert gc.get_freeze_count() == frozen > 0
    finally:
        gc.unfreeze()
