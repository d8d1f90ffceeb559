"""Expected output length: drawn per fresh request, capped by max_tokens, copied by repeats, audited."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace

import pytest

from suite.synth import build_corpus, build_manifest, parse_spec
from suite.synth.outputlen import OutputLength
from suite.synth.params import ValueSpec
from suite.synth.stats import summary

from .test_spec import BASE


def built(n: int, **keys: object) -> tuple[list, dict]:
    spec = replace(parse_spec({**BASE, "repeat_ratio": 0.3, "near_duplicate_ratio": 0.1, **keys}, "out.yaml"),
                   n=n)
    requests = build_corpus(spec, 4)
    return requests, build_manifest(spec, 4, requests)


def test_lognormal_median_capped_by_max_tokens_and_copied_by_repeats() -> None:
    requests, manifest = built(3000, expected_output_tokens={"median": 200, "p90": 600},
                               max_tokens={"choices": [256, 1024]})
    by_id = {r.id: r for r in requests}
    fresh = [r.expected_output_tokens for r in requests if r.repeat_of is None and r.variant_of is None]
    # The cap (256 for half the requests) only lowers values above the median, so the median holds.
    assert abs(statistics.median(fresh) / 200 - 1) <= 0.1
    assert all(1 <= r.expected_output_tokens <= r.max_tokens for r in requests)
    assert any(r.expected_output_tokens == 256 for r in requests if r.max_tokens == 256)
    assert any(r.expected_output_tokens > 256 for r in requests if r.max_tokens == 1024)
    for r in requests:
        source = r.repeat_of or r.variant_of
        if source is not None:
            assert r.expected_output_tokens == by_id[source].expected_output_tokens
    section = manifest["expected_output_tokens"]
    assert section["requested"] == {"median": 200, "p90": 600}
    assert section["achieved"]["p50"] == statistics.median(r.expected_output_tokens for r in requests)
    capped = sum(r.expected_output_tokens == r.max_tokens for r in requests) / len(requests)
    assert section["achieved"]["at_max_tokens_share"] == capped > 0
    assert summary(requests)["expected_output_tokens"] == section["achieved"]  # llmsuite corpus stats


def test_choices_and_constant() -> None:
    requests, manifest = built(200, expected_output_tokens={"choices": [50, 90]})
    assert {r.expected_output_tokens for r in requests} == {50, 90}
    assert manifest["expected_output_tokens"]["requested"] == {"choices": [50, 90]}
    requests, _ = built(50, expected_output_tokens=2000, max_tokens=300)
    assert {r.expected_output_tokens for r in requests} == {300}


def test_absent_means_none_everywhere() -> None:
    requests, manifest = built(50)
    assert {r.expected_output_tokens for r in requests} == {None}
    assert manifest["expected_output_tokens"] == {"requested": None, "achieved": None}


def test_adding_it_does_not_reshuffle_the_rest() -> None:
    """Its own random stream: the prompts and keys stay what they were without it."""
    without, _ = built(300)
    with_it, _ = built(300, expected_output_tokens={"median": 100, "p90": 300})
    assert [r.key for r in without] == [r.key for r in with_it]


@pytest.mark.parametrize("length", [OutputLength(median=100, p90=400),
                                    OutputLength(ValueSpec("range", (5, 9)))])
def test_draw_stays_within_one_and_the_cap(length: OutputLength) -> None:
    rng = random.Random(1)
    draws = [length.draw(rng, 120) for _ in range(2000)]
    assert min(draws) >= 1
    assert max(draws) <= 120
