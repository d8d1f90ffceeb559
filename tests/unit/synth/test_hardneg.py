"""Hard negatives (near misses): planned like repeats, written as an earlier request's wording with one
slot value changed, reported requested vs achieved; corpora without them keep their bytes."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from suite.errors import SpecError
from suite.records import read_corpus
from suite.synth import build_corpus, build_manifest, parse_spec, write_corpus
from suite.synth.build import build_with_drafts
from suite.synth.hardneg import near_miss_values
from suite.synth.options import synth_overrides
from suite.synth.planner import FRESH, NEAR_MISS, PlanConfig, plan
from suite.synth.spec import ScenarioSpec

from .test_spec import BASE


@pytest.fixture(scope="module")
def spec() -> ScenarioSpec:
    return parse_spec({**BASE, "n": 2000, "hard_negative_ratio": 0.1, "near_duplicate_ratio": 0.1,
                       "repeat_ratio": 0.2}, "hn.yaml")


def test_the_planner_places_the_exact_count_of_near_misses_on_earlier_fresh_requests() -> None:
    slots = plan(PlanConfig(n=5000, repeat_ratio=0.2, hard_negative_ratio=0.15), random.Random(4))
    misses = [(i, s) for i, s in enumerate(slots) if s.kind == NEAR_MISS]
    assert len(misses) == 750
    assert all(s.source is not None and s.source < i and slots[s.source].kind == FRESH for i, s in misses)


def test_without_the_knob_the_plan_is_unchanged() -> None:
    cfg = PlanConfig(n=3000, repeat_ratio=0.3, near_duplicate_ratio=0.1)
    with_knob = replace(cfg, hard_negative_ratio=0.1)
    assert plan(cfg, random.Random(2)) != plan(with_knob, random.Random(2))
    assert plan(cfg, random.Random(2)) == plan(replace(cfg, hard_negative_ratio=0.0), random.Random(2))


def test_near_misses_imitate_an_earlier_fresh_request_with_one_slot_value_changed(spec: ScenarioSpec) -> None:
    requests, drafts = build_with_drafts(spec)
    position = {r.id: i for i, r in enumerate(requests)}
    misses = [(i, r) for i, r in enumerate(requests) if r.near_miss_of is not None]
    assert len(misses) == 200  # round(0.1 * 2000): achieved exactly
    for i, r in misses:
        j = position[r.near_miss_of]
        original = requests[j]
        assert j < i
        assert original.repeat_of is None and original.variant_of is None and original.near_miss_of is None
        assert r.repeat_of is None and r.variant_of is None
        assert r.key != original.key
        assert (r.model, r.max_tokens, r.temperature, r.intent) == (original.model, original.max_tokens,
                                                                   original.temperature, original.intent)
        assert r.messages[:-1] == original.messages[:-1]
        assert drafts[i].template == drafts[j].template
        changed = [k for k in drafts[j].values if drafts[i].values[k] != drafts[j].values[k]]
        assert len(changed) == 1
        assert r.messages[-1]["content"] == drafts[j].template.format_map(drafts[i].values)
    assert len({r.key for _, r in misses}) == len(misses)


def test_same_spec_and_seed_give_byte_identical_files_with_every_new_knob(tmp_path: Path,
                                                                          spec: ScenarioSpec) -> None:
    spec = replace(spec, n=400, system_prompts=parse_spec({**BASE, "system_prompts": {
        "count": 3, "tokens": 60, "popularity": "zipf:1.1"}}).system_prompts,
        documents=parse_spec({**BASE, "documents": {"count": 5, "tokens": 80, "probability": 0.5}}).documents)
    files = []
    for name in ("a", "b"):
        requests = build_corpus(spec)
        manifest = build_manifest(spec, spec.seed, requests)
        files.append(write_corpus(tmp_path / f"{name}.jsonl", requests, manifest))
    assert [p.read_bytes() for p in files[0]] == [p.read_bytes() for p in files[1]]
    assert read_corpus(files[0][0]) == requests  # near_miss_of reads back


def test_a_corpus_without_hard_negatives_has_no_near_miss_field_and_no_manifest_section(
        tmp_path: Path) -> None:
    spec = parse_spec({**BASE, "n": 50, "repeat_ratio": 0.2})
    requests = build_corpus(spec)
    manifest = build_manifest(spec, spec.seed, requests)
    corpus, _ = write_corpus(tmp_path / "c.jsonl", requests, manifest)
    assert b"near_miss_of" not in corpus.read_bytes()
    assert not {"hard_negative_ratio", "lexical_similarity", "prefix_cache"} & manifest.keys()
    assert "hard_negative_ratio" not in manifest["spec"]
    assert all(r.near_miss_of is None for r in read_corpus(corpus))


def test_the_manifest_reports_requested_and_achieved(spec: ScenarioSpec) -> None:
    requests = build_corpus(replace(spec, n=600))
    manifest = build_manifest(spec, spec.seed, requests)
    assert manifest["hard_negative_ratio"] == {"requested": 0.1, "achieved": 60 / 600}
    assert manifest["hard_negatives"] == 60
    sim = manifest["lexical_similarity"]
    assert sim["hard_negative"]["pairs"] == 60 and sum(sim["hard_negative"]["counts"]) == 60
    assert sim["paraphrase"]["pairs"] == sum(r.variant_of is not None for r in requests)
    assert manifest["spec"]["hard_negative_ratio"] == 0.1


def test_a_template_without_slots_falls_back_to_another_original_or_fresh() -> None:
    questions = [f"Question number {k}?" for k in range(200)]
    raw = {**BASE, "intents": [{"name": "fixed", "weight": 1, "templates": questions}],
           "slots": {}, "n": 20, "hard_negative_ratio": 0.2}
    requests = build_corpus(parse_spec(raw))
    assert all(r.near_miss_of is None for r in requests)  # nothing can vary: a shortfall, shown as such
    assert build_manifest(parse_spec(raw), 0, requests)["hard_negative_ratio"]["achieved"] == 0.0


def test_near_miss_values_change_exactly_one_slot_or_say_none_can_change() -> None:
    rng = random.Random(1)
    draws = iter(["A-2", "A-3"])
    got = near_miss_values({"id": "A-1"}, lambda name: next(draws), rng)
    assert got == {"id": "A-2"}
    assert near_miss_values({}, lambda name: "x", rng) is None
    assert near_miss_values({"only": "x"}, lambda name: "x", rng) is None  # a one-value slot
    two = near_miss_values({"fixed": "x", "id": "1"}, lambda name: "x" if name == "fixed" else "2", rng)
    assert two == {"fixed": "x", "id": "2"}


def test_ratios_must_leave_room_for_fresh_requests() -> None:
    with pytest.raises(SpecError, match="hard_negative_ratio: 0.5 plus repeat_ratio and near_duplicate_ratio "
                                        "is 1 .the three must add up to less than 1"):
        parse_spec({**BASE, "repeat_ratio": 0.4, "near_duplicate_ratio": 0.1, "hard_negative_ratio": 0.5},
                   "x.yaml")


def test_the_cli_option_becomes_the_spec_key() -> None:
    assert synth_overrides(hard_negative_ratio=0.1) == {"hard_negative_ratio": 0.1}
    assert synth_overrides() == {}
