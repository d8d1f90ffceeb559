"""``POST /api/chat`` sessions: the conversation grows turn by turn, bounded."""

from __future__ import annotations

from mock_server.sessions import Sessions

SYSTEM = {"role": "system", "content": "User level: new"}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def test_conversation_grows_turn_by_turn_before_the_new_message() -> None:
    s = Sessions()
    assert s.conversation("a", [SYSTEM, user("q1")]) == [SYSTEM, user("q1")]
    s.remember("a", user("q1"), "a1")
    assert s.conversation("a", [SYSTEM, user("q2")]) == [
        SYSTEM, user("q1"), {"role": "assistant", "content": "a1"}, user("q2")]
    assert s.conversation("b", [user("q2")]) == [user("q2")]  # sessions never mix


def test_history_and_sessions_are_bounded() -> None:
    s = Sessions(max_turns=2, max_sessions=2)
    for i in range(3):
        s.remember("a", user(f"q{i}"), f"a{i}")
    assert s.turns("a") == 2
    assert s.conversation("a", [user("next")])[0] == user("q1")  # the oldest turn was dropped
    s.remember("b", user("x"), "y")
    s.conversation("a", [user("touch")])  # a is now the most recently used
    s.remember("c", user("x"), "y")
    assert (len(s), s.turns("a"), s.turns("b"), s.turns("c")) == (2, 2, 0, 1)


def test_history_is_capped_in_bytes_oldest_turns_first() -> None:
    s = Sessions(max_bytes=100)
    for i in range(4):
        s.remember("a", user(f"q{i}" + "x" * 38), "a" * 10)  # 50 bytes a turn
    assert s.turns("a") == 2 and s.size("a")[0] == 100
    assert s.conversation("a", [user("next")])[0]["content"].startswith("q2")


def test_history_is_capped_in_tokens() -> None:
    s = Sessions(max_tokens=1000)
    for i in range(3):
        s.remember("a", user(f"q{i}"), "a", tokens=400)
    assert (s.turns("a"), s.size("a")[1]) == (2, 800)


def test_a_turn_larger_than_a_cap_is_not_remembered() -> None:
    s = Sessions(max_bytes=100, max_tokens=1000)
    s.remember("a", user("q"), "a")
    assert not s.fits(user("q" * 200), "a")
    s.remember("a", user("q" * 200), "a")
    s.remember("a", user("q"), "a", tokens=5000)
    assert s.turns("a") == 1


def test_all_sessions_together_are_capped_in_bytes() -> None:
    s = Sessions(max_total_bytes=120)
    for name in "abc":
        s.remember(name, user("q" * 49), "a")  # 50 bytes each
    assert (len(s), s.turns("a"), s.total_bytes) == (2, 0, 100)  # the least recently used went
