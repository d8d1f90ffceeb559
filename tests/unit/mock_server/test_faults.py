"""Fault parsing, seeded draws and the stream transformations — pure, no sockets."""

from __future__ import annotations

import random

import pytest

from mock_server.faults import (
    MALFORMED_EVENT,
    Fault,
    draw_fault,
    fault_bodies,
    fault_table,
    parse_fault,
    stall_mid_gaps,
)


@pytest.mark.parametrize(
    ("text", "fault"),
    [("500", Fault("500")), ("503", Fault("503")), ("429", Fault("429")),
     ("stall_first=2.5", Fault("stall_first", 2.5)), ("stall_mid=0.1", Fault("stall_mid", 0.1)),
     ("disconnect=0", Fault("disconnect", 0)), (" disconnect=3 ", Fault("disconnect", 3)),
     ("malformed=1", Fault("malformed", 1))],
)
def test_parse_fault(text: str, fault: Fault) -> None:
    assert parse_fault(text) == fault


SECONDS = "a plain decimal number of seconds > 0, e.g. 2 or 0.5"
CHUNKS = "a plain whole number of chunks >= 0, e.g. 3"


@pytest.mark.parametrize(
    ("text", "message"),
    [("502", "'502' is not a fault; known: 500, 503, 429, stall_first, stall_mid, disconnect, "
             "malformed (e.g. 503, stall_first=2, disconnect=3)"),
     ("503=1", "'503=1': 503 takes no argument"),
     ("disconnect", "'disconnect': disconnect needs an argument (disconnect=N, N a plain whole "
                    "number of chunks >= 0, e.g. 3)"),
     ("disconnect=1.5", f"disconnect=1.5: '1.5' is not valid; the argument must be {CHUNKS}"),
     ("malformed=0", "malformed=0: '0' is not valid; the argument must be a plain whole chunk "
                     "number >= 1, e.g. 2"),
     ("stall_first=-1", f"stall_first=-1: '-1' is not valid; the argument must be {SECONDS}"),
     ("stall_first=nan", f"stall_first=nan: 'nan' is not valid; the argument must be {SECONDS}"),
     # Python's int()/float() accept all of these; a fault argument is a plain ASCII decimal
     ("stall_first=1_0", f"stall_first=1_0: '1_0' is not valid; the argument must be {SECONDS}"),
     ("stall_first=inf", f"stall_first=inf: 'inf' is not valid; the argument must be {SECONDS}"),
     ("stall_mid=1e3", f"stall_mid=1e3: '1e3' is not valid; the argument must be {SECONDS}"),
     ("stall_mid=+2", f"stall_mid=+2: '+2' is not valid; the argument must be {SECONDS}"),
     ("stall_mid= 2", f"stall_mid= 2: ' 2' is not valid; the argument must be {SECONDS}"),
     ("disconnect=1_0", f"disconnect=1_0: '1_0' is not valid; the argument must be {CHUNKS}"),
     ("disconnect=\u0663", f"disconnect=\u0663: '\u0663' is not valid; the argument must be "
                           f"{CHUNKS}"),
     ("disconnect=-0", f"disconnect=-0: '-0' is not valid; the argument must be {CHUNKS}"),
     ("stall_first=0", f"stall_first=0: '0' is not valid; the argument must be {SECONDS}"),
     ("stall_mid=4000", "stall_mid=4000: stalls are capped at 3600 s")],
)
def test_bad_faults_name_the_fix(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_fault(text)
    assert str(err.value) == message


def test_draws_are_seeded_and_follow_the_rates() -> None:
    table = fault_table({"503": 0.2, "stall_first=1": 0.1})
    draws = [draw_fault(table, random.Random(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]  # same seed, same draw
    rng = random.Random(1)
    got = [draw_fault(table, rng) for _ in range(20_000)]
    share_503 = sum(f == Fault("503") for f in got) / len(got)
    share_stall = sum(f == Fault("stall_first", 1.0) for f in got) / len(got)
    assert abs(share_503 - 0.2) < 0.02
    assert abs(share_stall - 0.1) < 0.02


def test_rates_must_be_probabilities() -> None:
    with pytest.raises(ValueError, match=r"^503: 1.5 is not a probability"):
        fault_table({"503": 1.5})
    assert fault_table({}) == ()


BODIES = [b"a", b"b", b"c", b"d"]


@pytest.mark.parametrize(
    ("fault", "bodies", "cut"),
    [(None, BODIES, False), (Fault("disconnect", 2), [b"a", b"b"], True),
     (Fault("disconnect", 0), [], True), (Fault("disconnect", 9), BODIES, True),
     (Fault("malformed", 1), [MALFORMED_EVENT, b"b", b"c", b"d"], False),
     (Fault("malformed", 4), [b"a", b"b", b"c", MALFORMED_EVENT], False),
     (Fault("malformed", 5), BODIES, False), (Fault("stall_mid", 1), BODIES, False)],
)
def test_fault_bodies(fault: Fault | None, bodies: list[bytes], cut: bool) -> None:
    assert fault_bodies(list(BODIES), fault) == (bodies, cut)


def test_stall_mid_lands_in_the_middle_gap() -> None:
    assert stall_mid_gaps((0.1, 0.1, 0.1, 0.1), 2.0) == (0.1, 0.1, 2.1, 0.1)
    assert stall_mid_gaps((0.0,), 1.0) == (1.0,)
    assert stall_mid_gaps((), 1.0) == ()
