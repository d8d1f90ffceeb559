"""Corpus shares and the feeder: every request handed out exactly once."""

from __future__ import annotations

import pytest

from suite.driver.inlocust.feeder import CorpusFeeder, select
from suite.records import CorpusRequest


def req(i: int, session: str | None = None, turn: int = 0) -> CorpusRequest:
    return CorpusRequest(id=f"q{i}", t=i * 0.1, session=session or f"s{i}", turn=turn, model="m",
                         messages=[{"role": "user", "content": "x"}], max_tokens=4, temperature=0.0,
                         stream=True, prompt_tokens=3, domain="d", intent="i", key=f"k{i}")


CORPUS = [req(i, session=f"s{i // 3}", turn=i % 3) for i in range(20)]  # 7 sessions of <= 3 turns


def corpus_request(i: int, repeat_of: str | None = None) -> CorpusRequest:
    return CorpusRequest(id=f"r{i}", t=None, session=f"s{i}", turn=0, model="gpt-4o",
                         messages=[{"role": "user", "content": f"q{i}"}], max_tokens=16,
                         temperature=0.0, stream=True, prompt_tokens=9, domain="d", intent="i",
                         key=f"k{i}", repeat_of=repeat_of)


@pytest.mark.parametrize("count", [1, 2, 3, 5])
@pytest.mark.parametrize("by_session", [False, True])
@pytest.mark.parametrize("max_requests", [None, 11])
def test_shares_cover_the_corpus_without_gaps_or_duplicates(count: int, by_session: bool,
                                                             max_requests: int | None) -> None:
    shares = [select(CORPUS, index=i, count=count, max_requests=max_requests, by_session=by_session)
              for i in range(count)]
    flat = sorted(p for share in shares for p in share)
    assert flat == list(range(max_requests or len(CORPUS)))
    assert all(share == sorted(share) for share in shares)  # corpus order within a share
    if by_session:
        owner = {CORPUS[p].session: i for i, share in enumerate(shares) for p in share}
        assert all(owner[CORPUS[p].session] == i for i, share in enumerate(shares) for p in share)


def test_select_rejects_an_index_outside_the_count() -> None:
    with pytest.raises(ValueError, match="worker index 2 is outside 0..1"):
        select(CORPUS, index=2, count=2)


def test_in_order_feeder_counts_sent_and_in_flight() -> None:
    feeder = CorpusFeeder(CORPUS[:3])
    got = [feeder.take(), feeder.take()]
    assert [r.id for r in got if r] == ["q0", "q1"]
    assert feeder.in_flight == 2
    assert feeder.sent == 2
    assert feeder.done() is False
    assert feeder.take() is not None
    assert feeder.take() is None
    assert feeder.exhausted
    assert feeder.done() is False
    assert feeder.done() is True  # the last answer finishes the run
    with pytest.raises(RuntimeError, match="done\\(\\) called more often than take\\(\\)"):
        feeder.done()


def test_affinity_keeps_each_session_on_one_user_in_turn_order() -> None:
    feeder = CorpusFeeder(CORPUS, affinity=True)
    taken: dict[int, list[CorpusRequest]] = {0: [], 1: []}
    for _ in range(len(CORPUS)):
        user = min(taken, key=lambda u: len(taken[u]))
        r = feeder.take(user)
        if r is None:
            r = feeder.take(1 - user)
            user = 1 - user
        assert r is not None
        taken[user].append(r)
        feeder.done()
    assert feeder.take(0) is None
    assert feeder.take(1) is None
    assert feeder.finished
    owner: dict[str, int] = {}
    for user, reqs in taken.items():
        for r in reqs:
            assert owner.setdefault(r.session, user) == user  # a session never changes user
        for a, b in zip(reqs, reqs[1:], strict=False):
            if a.session == b.session:
                assert b.turn == a.turn + 1
    assert sorted(r.id for rs in taken.values() for r in rs) == sorted(r.id for r in CORPUS)


def test_feeder_hands_out_each_request_once_in_order() -> None:
    feeder = CorpusFeeder([corpus_request(i) for i in range(3)])
    taken = [feeder.take(), feeder.take()]
    assert [r.id for r in taken if r] == ["r0", "r1"]
    assert (feeder.sent, feeder.in_flight, feeder.exhausted) == (2, 2, False)
    assert feeder.done() is False
    last = feeder.take()
    assert last is not None
    assert last.id == "r2"
    assert feeder.exhausted
    assert feeder.take() is None
    assert feeder.sent == 3
    assert feeder.done() is False  # one still in flight
    assert feeder.done() is True
    assert feeder.finished
    with pytest.raises(RuntimeError, match="counted twice"):
        feeder.done()
