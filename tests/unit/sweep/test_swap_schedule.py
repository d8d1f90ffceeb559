"""The order of a swap's runs (suite.sweep.swap_order): ABBA halves by whole sessions, the schedule of
runs, and the interleaved corpus (seeded, deterministic, every model's copy of every request once)."""

from __future__ import annotations

import pytest

from suite.errors import SpecError
from suite.records import CorpusRequest, request_key
from suite.sweep.model_override import override_model
from suite.sweep.swap import SwapOptions, check_models
from suite.sweep.swap_order import interleave, schedule, split_halves, tag, untag


def request(i: int, session: str, turn: int = 1, text: str | None = None) -> CorpusRequest:
    messages = [{"role": "user", "content": text or f"prompt {i}"}]
    return CorpusRequest(id=f"q{i}", t=0.1 * i, session=session, turn=turn, model="gpt-4o", messages=messages,
                         max_tokens=16, temperature=0.0, stream=True, prompt_tokens=9, domain="d", intent="i",
                         key=request_key("gpt-4o", messages, 16, 0.0))


def single_turn(n: int) -> list[CorpusRequest]:
    return [request(i, f"s{i}") for i in range(n)]


def test_abba_runs_the_first_half_in_order_and_the_second_reversed() -> None:
    assert schedule(["A", "B"], "abba") == [("A", "h1"), ("B", "h1"), ("B", "h2"), ("A", "h2")]
    assert schedule(["A", "B", "C"], "abba") == [("A", "h1"), ("B", "h1"), ("C", "h1"),
                                                 ("C", "h2"), ("B", "h2"), ("A", "h2")]
    assert schedule(["A", "B"], "sequential") == [("A", "all"), ("B", "all")]
    assert schedule(["A", "B"], "interleave") == [("*", "interleaved")]
    with pytest.raises(SpecError, match="--order"):
        schedule(["A", "B"], "random")


def test_halves_split_single_turn_corpora_in_the_middle_in_corpus_order() -> None:
    h1, h2 = split_halves(single_turn(7))
    assert [r.id for r in h1] == ["q0", "q1", "q2"]
    assert [r.id for r in h2] == ["q3", "q4", "q5", "q6"]


def test_halves_keep_every_multi_turn_session_whole() -> None:
    # sessions of 3, 1, 1, 3 requests, interleaved in the corpus as a closed-loop driver would send them
    layout = ["a", "b", "a", "c", "a", "d", "d", "d"]
    reqs = [request(i, s, turn=layout[:i].count(s) + 1) for i, s in enumerate(layout)]
    h1, h2 = split_halves(reqs)
    assert {r.session for r in h1} == {"a", "b"} and {r.session for r in h2} == {"c", "d"}
    assert [r.id for r in h1] == ["q0", "q1", "q2", "q4"]  # corpus order, turns in order
    assert [r.turn for r in h2 if r.session == "d"] == [1, 2, 3]
    assert sorted(r.id for r in h1 + h2) == sorted(r.id for r in reqs)


def test_one_session_cannot_be_split() -> None:
    with pytest.raises(SpecError, match="--order interleave"):
        split_halves([request(i, "only", turn=i + 1) for i in range(4)])


def copies(reqs: list[CorpusRequest]) -> list[list[CorpusRequest]]:
    return [override_model(reqs, model)[0] for model in ("gpt-4o", "gpt-5-mini")]


def test_interleave_holds_every_models_copy_of_every_request_once_with_unique_ids() -> None:
    reqs = single_turn(20)
    merged = interleave(copies(reqs), ["gpt-4o", "gpt-5-mini"], seed=7)
    assert len(merged) == 40
    assert len({r.id for r in merged}) == 40  # the driver's one-record-per-id proof holds
    for model in ("gpt-4o", "gpt-5-mini"):
        mine = [r for r in merged if r.model == model]
        assert sorted(untag(r.id) for r in mine) == sorted((r.id, model) for r in reqs)
    assert all(r.t is None for r in merged)  # one closed-loop run
    models = [r.model for r in merged]
    assert models != sorted(models) and models != sorted(models, reverse=True)  # actually mixed


def test_interleave_order_is_determined_by_the_seed() -> None:
    reqs = single_turn(20)
    tags = ["gpt-4o", "gpt-5-mini"]
    first = [r.id for r in interleave(copies(reqs), tags, seed=7)]
    assert first == [r.id for r in interleave(copies(reqs), tags, seed=7)]
    assert first != [r.id for r in interleave(copies(reqs), tags, seed=8)]


def test_interleave_keeps_sessions_whole_and_recomputes_repeats_in_sent_order() -> None:
    layout = ["a", "a", "b", "b", "c"]
    reqs = [request(i, s, turn=layout[:i].count(s) + 1) for i, s in enumerate(layout)]
    reqs.append(request(5, "e", text="prompt 0"))  # an exact repeat of q0
    merged = interleave(copies(reqs), ["x", "y"], seed=3)
    for session in ("a@x", "a@y", "b@x", "b@y"):
        at = [k for k, r in enumerate(merged) if r.session == session]
        assert at == list(range(at[0], at[0] + 2))  # contiguous, turns in order
        assert [merged[k].turn for k in at] == [1, 2]
    for suffix in ("x", "y"):
        pair = [r for r in merged if untag(r.id) in (("q0", suffix), ("q5", suffix))]
        assert pair[0].repeat_of is None and pair[1].repeat_of == pair[0].id  # the later one repeats


def test_tags_round_trip_even_when_ids_hold_the_separator() -> None:
    assert untag(tag("user@host-7", "gpt-4o")) == ("user@host-7", "gpt-4o")
    with pytest.raises(ValueError):
        untag("q1")


def test_swap_options_and_models_are_checked() -> None:
    with pytest.raises(SpecError, match="--order"):
        SwapOptions(order="zigzag")
    with pytest.raises(SpecError, match="--warmup"):
        SwapOptions(warmup=-1)
    with pytest.raises(SpecError, match="at least two different"):
        check_models(["gpt-4o", "gpt-4o"])
    with pytest.raises(SpecError, match="same folder name"):
        check_models(["meta/llama", "meta-llama"])
