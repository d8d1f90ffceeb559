"""Repetition controls with known answers: exact counts, Zipf slope, reuse window, scope, near-duplicates."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from suite.errors import SpecError
from suite.synth import build_corpus, build_manifest, load_spec, parse_spec, write_corpus
from suite.synth.build import build_with_drafts
from suite.synth.cachesim import lru_hit_ratio, ttl_hit_ratio, unbounded_hit_ratio
from suite.synth.params import ValueSpec
from suite.synth.paraphrase import normalize
from suite.synth.planner import FRESH, REPEAT, VARIANT, PlanConfig, plan
from suite.synth.repetition import Popularity, ReuseWindow
from suite.synth.stats import reuse_distances, zipf_slope

from .test_spec import BASE, BUNDLED


def kinds(slots: list) -> Counter:
    return Counter(s.kind for s in slots)


@pytest.mark.parametrize(("s", "ratio"), [(0.8, 0.5), (1.1, 0.3), (1.1, 0.6), (1.5, 0.5)])
def test_zipf_rank_frequency_slope_within_0_15_of_s(s: float, ratio: float) -> None:
    cfg = PlanConfig(n=20_000, repeat_ratio=ratio, popularity=Popularity("zipf", s))
    slots = plan(cfg, random.Random(11))
    counts = sorted(Counter(x.source for x in slots if x.kind == REPEAT).values(), reverse=True)
    slope = zipf_slope(counts)
    assert slope is not None, slope
    assert abs(slope - s) <= 0.15, slope


def test_uniform_popularity_has_a_flat_curve() -> None:
    slots = plan(PlanConfig(n=20_000, repeat_ratio=0.5), random.Random(3))
    counts = sorted(Counter(x.source for x in slots if x.kind == REPEAT).values(), reverse=True)
    slope = zipf_slope(counts)
    assert slope is None or slope < 0.5


@pytest.mark.parametrize(("repeat", "near"), [(0.0, 0.0), (0.3, 0.1), (0.9, 0.0), (0.5, 0.3)])
def test_plan_counts_are_exact(repeat: float, near: float) -> None:
    slots = plan(PlanConfig(n=2000, repeat_ratio=repeat, near_duplicate_ratio=near), random.Random(5))
    got = kinds(slots)
    assert (got[REPEAT], got[VARIANT]) == (round(repeat * 2000), round(near * 2000))
    assert slots[0].kind == FRESH
    assert all(x.source is None or slots[x.source].kind == FRESH for x in slots)


@pytest.mark.parametrize("window", [1, 10, 200])
def test_reuse_distance_never_exceeds_the_window_in_requests(window: int) -> None:
    cfg = PlanConfig(n=5000, repeat_ratio=0.4, popularity=Popularity("zipf", 1.0),
                     reuse_distance=ReuseWindow("requests", window))
    slots = plan(cfg, random.Random(7))
    last: dict[int, int] = {}
    for i, x in enumerate(slots):
        original = i if x.kind == FRESH else x.source
        assert original is not None
        if x.kind == REPEAT:
            assert i - last[original] <= window
        if x.kind != VARIANT:
            last[original] = i
    assert kinds(slots)[REPEAT] >= 0.39 * 5000  # the window still leaves room for (nearly) all repeats


def test_reuse_distance_in_seconds_on_a_built_corpus() -> None:
    raw = {**BASE, "repeat_ratio": 0.3, "reuse_distance": {"seconds": 5},
           "arrival": {"process": "poisson", "rate": 20}}
    requests = build_corpus(replace(parse_spec(raw, "w.yaml"), n=1500), 3)
    distances = reuse_distances(requests, "seconds")
    assert distances
    assert max(distances) <= 5
    assert sum(r.repeat_of is not None for r in requests) == 450


def test_user_scope_keeps_repeats_within_the_user() -> None:
    cfg = PlanConfig(n=3000, repeat_ratio=0.3, scope="user", users=20)
    slots = plan(cfg, random.Random(2))
    repeats = [x for x in slots if x.kind == REPEAT]
    assert len(repeats) == 900
    assert all(slots[x.source].user == x.user for x in repeats if x.source is not None)
    across = plan(replace(cfg, scope="across"), random.Random(2))
    shared = [slots_ for slots_ in across if slots_.kind == REPEAT
              and slots_.source is not None and across[slots_.source].user == slots_.user]
    assert len(shared) < 0.2 * 900  # across users, a repeat's original is mostly someone else's


def test_near_duplicates_have_new_keys_but_the_same_intent_and_slots() -> None:
    raw = {**BASE, "repeat_ratio": 0.2, "near_duplicate_ratio": 0.2}
    requests, drafts = build_with_drafts(replace(parse_spec(raw, "nd.yaml"), n=600), 4)
    position = {r.id: i for i, r in enumerate(requests)}
    variants = [i for i, r in enumerate(requests) if r.variant_of is not None]
    assert len(variants) == 120
    assert len({r.key for r in requests if r.repeat_of is None}) == 480  # every non-repeat key is new
    for i in variants:
        j = position[requests[i].variant_of]
        near, original = requests[i], requests[j]
        assert j < i
        assert original.repeat_of is None
        assert original.variant_of is None
        assert near.key != original.key
        assert near.messages[:-1] == original.messages[:-1]
        assert (near.intent, near.model, near.max_tokens) == (
            original.intent, original.model, original.max_tokens)
        assert (drafts[i].intent, drafts[i].values) == (drafts[j].intent, drafts[j].values)
        text = normalize(near.messages[-1]["content"])
        assert all(normalize(v) in text for v in drafts[i].values.values())


def test_shared_prefix_share_is_honored() -> None:
    spec = replace(parse_spec({**BASE, "shared_prefix": 0.25}, "p.yaml"), n=800)
    manifest = build_manifest(spec, 1, build_corpus(spec, 1))
    assert abs(manifest["shared_prefix"]["achieved"] - 0.25) < 0.05


def test_few_shot_examples_follow_the_system_prompt() -> None:
    raw = {**BASE, "few_shot": [{"user": "Status of INV-1?", "assistant": "Approved on 2 May."}]}
    request = build_corpus(replace(parse_spec(raw, "f.yaml"), n=1), 1)[0]
    assert [m["role"] for m in request.messages] == ["system", "user", "assistant", "user"]


def test_cache_simulators_known_answers() -> None:
    keys = list("abcabcdd")
    assert unbounded_hit_ratio(keys) == 4 / 8
    assert lru_hit_ratio(keys, 2) == 1 / 8  # only the second d hits
    assert lru_hit_ratio(keys, 3) == 4 / 8
    times = [0, 1, 2, 10, 11, 12, 13, 14]
    assert ttl_hit_ratio(keys, times, 5) == 1 / 8
    assert ttl_hit_ratio(keys, times, 100) == 4 / 8


def test_manifest_reports_every_knob_requested_and_achieved(tmp_path: Path) -> None:
    raw = {**BASE, "repeat_ratio": 0.3, "near_duplicate_ratio": 0.1, "popularity": "zipf:1.1",
           "reuse_distance": {"requests": 300}, "scope": "across", "users": 50,
           "arrival": {"process": "poisson", "rate": 5},
           "cache_model": {"capacity": [10, 100], "ttl": [30]}}
    spec = replace(parse_spec(raw, "m.yaml"), n=2000)
    requests = build_corpus(spec, 9)
    m = build_manifest(spec, 9, requests)
    assert m["repeat_ratio"] == {"requested": 0.3, "achieved": 0.3}
    assert m["near_duplicate_ratio"] == {"requested": 0.1, "achieved": 0.1}
    assert m["popularity"]["requested"] == "zipf:1.1"
    assert m["popularity"]["catalog_size"] == 1200
    assert m["reuse_distance"]["requested"] == {"requests": 300}
    assert m["reuse_distance"]["achieved"]["max"] <= 300
    assert m["scope"]["users"] == 50
    assert 0 <= m["scope"]["achieved_same_user_share"] <= 1
    lru = m["theoretical_hit_ratio_lru"]
    assert lru["10"] <= lru["100"] <= m["theoretical_hit_ratio"] == (2000 - m["unique_keys"]) / 2000
    assert 0 < m["theoretical_hit_ratio_ttl"]["30"] <= m["theoretical_hit_ratio"]
    assert abs(m["arrival"]["achieved_rate"] - 5) < 0.5
    a = write_corpus(tmp_path / "a.jsonl", requests, m)
    again = build_corpus(spec, 9)
    b = write_corpus(tmp_path / "b.jsonl", again, build_manifest(spec, 9, again))
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()


def test_catalog_size_limits_the_originals() -> None:
    slots = plan(PlanConfig(n=3000, repeat_ratio=0.5, catalog_size=25), random.Random(1))
    originals = {x.source for x in slots if x.kind == REPEAT}
    assert len(originals) <= 25
    assert kinds(slots)[REPEAT] == 1500


@pytest.mark.parametrize(("median", "p90"), [(300, 500), (1500, 2500)])
def test_input_token_median_within_5_percent(median: int, p90: int) -> None:
    raw = {**BASE, "input_tokens": {"median": median, "p90": p90, "context": ["logs", "table", "document"]},
           "repeat_ratio": 0.2, "near_duplicate_ratio": 0.1}
    requests, drafts = build_with_drafts(replace(parse_spec(raw, "len.yaml"), n=800), 2)
    tokens = sorted(r.prompt_tokens for r in requests)
    assert abs(tokens[len(tokens) // 2] / median - 1) <= 0.05
    by_id = {r.id: i for i, r in enumerate(requests)}
    near = next(r for r in requests if r.variant_of is not None)
    assert drafts[by_id[near.variant_of]].context
    # a near-duplicate keeps its original's context
    assert near.messages[-1]["content"].startswith(drafts[by_id[near.variant_of]].context)


def test_locale_mix_uses_each_locales_faker_and_templates() -> None:
    raw = {**BASE, "locales": {"en_US": 0.5, "it_IT": 0.5}, "slots": {"person": {"faker": "name"}},
           "intents": [{"name": "ask", "weight": 1, "templates": ["Who is {person}?"],
                        "templates_it_IT": ["Chi è {person}?"]}]}
    requests = build_corpus(replace(parse_spec(raw, "loc.yaml"), n=400), 1)
    italian = [r for r in requests if r.messages[-1]["content"].startswith("Chi è")]
    assert 0.4 < len(italian) / 400 < 0.6
    assert parse_spec(raw, "loc.yaml").to_dict()["locales"] == {"en_US": 0.5, "it_IT": 0.5}


def test_multi_turn_sessions_grow_their_history() -> None:
    raw = {**BASE, "turns": {"choices": [3]}, "users": 5, "reply_tokens": 50}
    requests = build_corpus(replace(parse_spec(raw, "mt.yaml"), n=90), 2)
    sessions: dict[str, list] = {}
    for r in requests:
        sessions.setdefault(r.session, []).append(r)
    # Every session has 3 turns, but a user's last one may be cut short by the end of the corpus.
    assert sum(len(turns) < 3 for turns in sessions.values()) <= 5
    for turns in sessions.values():
        assert [r.turn for r in turns] == list(range(len(turns)))
        assert len({r.model for r in turns}) == 1
        for before, after in zip(turns, turns[1:], strict=False):
            assert after.messages[:len(before.messages)] == before.messages
            assert len(after.messages) == len(before.messages) + 2
            assert after.messages[-2]["role"] == "assistant"
            assert after.prompt_tokens > before.prompt_tokens + 40


@pytest.mark.parametrize("turns", [None, ValueSpec("constant", (1,)), ValueSpec("choices", (2, 4))])
def test_session_scope_keeps_repeats_within_the_session(turns: ValueSpec | None) -> None:
    cfg = PlanConfig(n=3000, repeat_ratio=0.3, near_duplicate_ratio=0.1, scope="session", users=20,
                     turns=turns)
    slots = plan(cfg, random.Random(4))
    assert (kinds(slots)[REPEAT], kinds(slots)[VARIANT]) == (900, 300)
    for i, x in enumerate(slots):
        assert x.session is not None
        assert x.session <= i
        assert slots[x.session].user == x.user
        if x.source is not None:  # every repeat's (and near-duplicate's) original is of its session
            assert slots[x.source].session == x.session
            assert slots[x.source].user == x.user
    if turns is None or turns.values == (1,):  # single-turn: a session is one question and its retries
        assert all(x.source == x.session for x in slots if x.source is not None)
    else:  # each session takes its drawn number of fresh turns (the last of a user's may be cut short)
        fresh = Counter(x.session for x in slots if x.kind == FRESH)
        assert sum(c not in (2, 4) for c in fresh.values()) <= 20


def test_other_scopes_plan_no_sessions() -> None:
    slots = plan(PlanConfig(n=500, repeat_ratio=0.3, scope="user", users=5), random.Random(1))
    assert all(x.session is None for x in slots)


@pytest.mark.parametrize("turns", [1, {"choices": [3]}])
def test_session_scope_corpus_repeats_within_the_session(turns: object) -> None:
    raw = {**BASE, "repeat_ratio": 0.3, "near_duplicate_ratio": 0.1, "scope": "session", "users": 8,
           "turns": turns, "reply_tokens": 20}
    spec = replace(parse_spec(raw, "ss.yaml"), n=400)
    requests = build_corpus(spec, 3)
    by_id = {r.id: r for r in requests}
    repeats = [r for r in requests if r.repeat_of is not None]
    assert len(repeats) == 120
    for r in requests:
        original = by_id.get(r.repeat_of or r.variant_of or "")
        if original is not None:
            assert (r.session, r.turn) == (original.session, original.turn)
        if r.repeat_of is not None:
            assert r.messages == original.messages
            assert r.key == original.key
    m = build_manifest(spec, 3, requests)
    assert m["scope"]["requested"] == "session"
    assert m["scope"]["achieved_same_session_share"] == 1.0
    assert m["scope"]["achieved_same_user_share"] == 1.0
    across = build_corpus(replace(spec, scope="across"), 3)
    assert build_manifest(spec, 3, across)["scope"]["achieved_same_session_share"] == 0.0
    again = build_corpus(spec, 3)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in requests]  # deterministic per seed


def test_session_scope_multi_turn_sessions_keep_growing_history() -> None:
    raw = {**BASE, "repeat_ratio": 0.2, "scope": "session", "users": 4, "turns": {"choices": [3]},
           "reply_tokens": 20}
    requests = build_corpus(replace(parse_spec(raw, "sm.yaml"), n=120), 5)
    sessions: dict[str, list] = {}
    for r in requests:
        if r.repeat_of is None:
            sessions.setdefault(r.session, []).append(r)
    assert sum(len(t) != 3 for t in sessions.values()) <= 4
    for turns in sessions.values():
        assert [r.turn for r in turns] == list(range(len(turns)))
        for before, after in zip(turns, turns[1:], strict=False):
            assert after.messages[:len(before.messages)] == before.messages


def test_session_scope_is_a_spec_and_cli_choice() -> None:
    assert parse_spec({**BASE, "scope": "session"}, "s.yaml").scope == "session"
    with pytest.raises(SpecError, match=r"unknown scope 'sesion'; did you mean 'session'\?"):
        parse_spec({**BASE, "scope": "sesion"}, "s.yaml")


def test_zipf_slope_of_a_built_corpus_at_20000_requests() -> None:
    """End to end, on the keys written: the manifest's rank-frequency slope of repeated keys."""
    spec = load_spec(BUNDLED, {"n": 20_000, "repeat_ratio": 0.4, "popularity": "zipf:1.1"})
    requests = build_corpus(spec)
    counts = sorted(Counter(r.key for r in requests if r.repeat_of is not None).values(), reverse=True)
    slope = zipf_slope(counts)
    assert slope is not None, slope
    assert abs(slope - 1.1) <= 0.15, slope
    assert build_manifest(spec, spec.seed, requests)["popularity"]["achieved_zipf_slope"] == slope
