"""Fresh traffic (suite.sweep.salt, suite.sweep.fresh, rows.excess_hits): a salted corpus keeps its
repeat structure but shares no key with the source or another salt; the step-0 and probe warnings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from suite import api
from suite.errors import SpecError
from suite.records import CorpusRequest, file_sha256, read_corpus, request_key, write_jsonl
from suite.sweep.fresh import fresh_request, level_corpus, probe_warning, start_fresh, verdict
from suite.sweep.rows import excess_hits
from suite.sweep.run import StepPlan
from suite.sweep.salt import (
    check_salt,
    new_salt,
    salt_requests,
    step_salt,
    write_salted,
    write_salted_manifest,
)
from suite.sweep.table import fresh_lines
from suite.tokens import count_chat_tokens


def request(i: int, messages: list[dict[str, str]], session: str | None = None, turn: int = 0,
            repeat_of: str | None = None) -> CorpusRequest:
    return CorpusRequest(id=f"q{i}", t=None, session=session or f"s{i}", turn=turn, model="gpt-4o",
                         messages=messages, max_tokens=16, temperature=0.0, stream=True,
                         prompt_tokens=count_chat_tokens(messages, "gpt-4o"), domain="ops", intent="health",
                         key=request_key("gpt-4o", messages, 16, 0.0), repeat_of=repeat_of)


SLOTLESS = [{"role": "system", "content": "You are an SRE assistant."},
            {"role": "user", "content": "Is the platform healthy right now?"}]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> api.SynthResult:
    """A real corpus with exact repeats (ops-assistant has slot-less templates too)."""
    out = tmp_path_factory.mktemp("salt") / "source.jsonl"
    return api.synthesize("ops-assistant", out, n=120, seed=3, repeat_ratio=0.5)


def test_new_salt_is_8_hex_and_new_each_time() -> None:
    salts = {new_salt() for _ in range(20)}
    assert len(salts) == 20
    assert all(re.fullmatch(r"[0-9a-f]{8}", s) for s in salts)
    assert step_salt("ab12cd34", 2) == "ab12cd34-2"


@pytest.mark.parametrize("bad", ["", "a b", "x/y", "-lead", "é"])
def test_check_salt_rejects_unusable_values(bad: str) -> None:
    with pytest.raises(SpecError, match="--salt"):
        check_salt(bad)


def test_salt_is_deterministic_and_changes_every_key(synthesized: api.SynthResult) -> None:
    source = read_corpus(synthesized.corpus)
    a, again, b = salt_requests(source, "s1"), salt_requests(source, "s1"), salt_requests(source, "s2")
    assert a == again
    assert not {r.key for r in a} & {r.key for r in source}  # a cache that saw the source saw none of these
    assert not {r.key for r in a} & {r.key for r in b}  # nor one salt's prompts another's
    assert [r.id for r in a] == [r.id for r in source]


def test_salt_keeps_the_repeat_structure(synthesized: api.SynthResult) -> None:
    source = read_corpus(synthesized.corpus)
    salted = salt_requests(source, "abc")
    # same key in → same key out, and different stays different: the theoretical hit ratio holds
    pairs = {(s.key, t.key) for s, t in zip(source, salted, strict=True)}
    assert len(pairs) == len({k for k, _ in pairs}) == len({k for _, k in pairs})
    assert [r.repeat_of for r in salted] == [r.repeat_of for r in source]
    assert [r.variant_of for r in salted] == [r.variant_of for r in source]
    by_id = {r.id: r for r in salted}
    assert all(by_id[r.repeat_of].key == r.key for r in salted if r.repeat_of)


def test_prompt_tokens_are_recounted(synthesized: api.SynthResult) -> None:
    salted = salt_requests(read_corpus(synthesized.corpus), "abc")
    assert all(r.prompt_tokens == count_chat_tokens(r.messages, r.model) for r in salted)
    assert all(r.key == request_key(r.model, r.messages, r.max_tokens, r.temperature) for r in salted)


def test_slot_less_templates_are_salted() -> None:
    # "Is the platform healthy right now?" is identical in every corpus, whatever the seed
    a, b = salt_requests([request(0, SLOTLESS)], "one")[0], salt_requests([request(0, SLOTLESS)], "two")[0]
    assert a.key != b.key != request(0, SLOTLESS).key
    assert "one" in a.messages[0]["content"] and "one" in a.messages[-1]["content"]
    assert a.messages[-1]["content"].endswith("Is the platform healthy right now?")


def test_multi_turn_sessions_stay_coherent() -> None:
    turn0 = [{"role": "system", "content": "sys"}, {"role": "user", "content": "first question"}]
    turn1 = [*turn0, {"role": "assistant", "content": "an answer"}, {"role": "user", "content": "follow-up"}]
    out = salt_requests([request(0, turn0, "s", 0), request(1, turn1, "s", 1)], "xyz")
    assert out[1].messages[:2] == out[0].messages  # turn 1's history is turn 0 exactly as it was sent
    assert out[1].messages[2] == {"role": "assistant", "content": "an answer"}
    assert "xyz" in out[1].messages[3]["content"]


def test_write_salted_copies_the_manifest_and_names_its_source(synthesized: api.SynthResult,
                                                               tmp_path: Path) -> None:
    path, manifest = write_salted_manifest(synthesized.corpus, tmp_path / "a" / "corpus.jsonl", "abc")
    src = synthesized.manifest
    assert manifest["derived_from"]["corpus_sha256"] == file_sha256(synthesized.corpus)
    assert manifest["derived_from"]["salt"] == "abc"
    assert manifest["corpus_sha256"] == file_sha256(path)
    for same in ("theoretical_hit_ratio", "repeat_ratio", "unique_keys", "model_mix", "seed", "n"):
        assert manifest[same] == src[same], same
    assert manifest["prompt_tokens"]["total"] > src["prompt_tokens"]["total"]  # the tag costs tokens
    on_disk = orjson.loads(path.with_name("corpus.manifest.json").read_bytes())
    assert on_disk == manifest
    # --salt S reproduces the copy byte for byte
    again = write_salted(synthesized.corpus, tmp_path / "b" / "corpus.jsonl", "abc")
    assert file_sha256(again) == file_sha256(path)


def test_write_salted_without_a_source_manifest(tmp_path: Path) -> None:
    src = tmp_path / "bare.jsonl"
    write_jsonl(src, [request(i, [{"role": "user", "content": f"p{i % 2}"}]).to_dict() for i in range(4)])
    _, manifest = write_salted_manifest(src, tmp_path / "out.jsonl", "abc")
    assert manifest["theoretical_hit_ratio"] == 0.5 and manifest["unique_keys"] == 2


def cache_row(ratio: float, theoretical: float | None, observed: float | None) -> dict[str, Any]:
    return {"repeat_ratio": ratio, "theoretical_hit_ratio": theoretical, "hit_ratio": {"value": observed}}


def test_excess_hits_flags_a_step_above_its_corpus_bound() -> None:
    rows = [cache_row(0.0, 0.0, 0.86), cache_row(0.5, 0.5, 0.51), cache_row(0.9, 0.9, None)]
    lines = excess_hits(rows)
    assert len(lines) == 1
    assert lines[0].startswith("the baseline step (ratio 0) shows a 86.0% hit ratio") and "0.0%" in lines[0]
    assert excess_hits([cache_row(0.0, 0.0, 0.01), cache_row(0.5, 0.5, 0.3)]) == []


def test_probe_verdict_reads_the_runs_rule() -> None:
    assert verdict("auto", {"x-cache": "HIT"}, b"{}") == ("hit", {"x-cache": "HIT"})
    assert verdict("header:X-Cache", {"x-cache": "MISS"}, b"")[0] == "miss"
    assert verdict("present:x-litellm-cache-key", {}, b"{}")[0] == "miss"
    assert verdict("json:cached", {}, b'{"cached": true}')[0] == "hit"
    assert verdict("auto", {}, b"not json")[0] is None


def test_probe_request_is_never_seen_and_warns_on_a_hit() -> None:
    a, b = fresh_request("gpt-4o", "s-probe"), fresh_request("gpt-4o", "t-probe")
    assert a.key != b.key and a.max_tokens == 1 and not a.stream
    assert probe_warning({"cache": "miss"}) is None
    hit = probe_warning({"cache": "hit", "rule": "auto", "cache_headers": {"x-cache": "HIT"}})
    assert hit is not None and "never-seen" in hit and "inflated" in hit


class Notes:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


def test_the_bundled_mock_is_salted_only_when_asked(tmp_path: Path) -> None:
    plan = StepPlan(out=tmp_path)
    assert start_fresh(plan, Notes()) == (plan, {})  # the mock is flushed per step: today's behaviour
    salted, extra = start_fresh(StepPlan(out=tmp_path, salt="abc"), Notes())
    assert salted.salt == "abc"
    assert extra["salt"]["reproduce"] == "--salt abc" and extra["salt"]["source"] == "given with --salt"
    assert "fresh_probe" not in extra  # never probed: nothing outlives a step there
    with pytest.raises(SpecError, match="--salt"):
        start_fresh(StepPlan(out=tmp_path, salt="a b"), Notes())


def test_fresh_lines_put_warnings_last() -> None:
    result = {"salt": {"value": "ab", "source": "new for this invocation", "reproduce": "--salt ab"},
              "fresh_probe": {"cache": None, "why": "no [signal]"}, "warnings": ["step 0 [x] hits"]}
    lines = fresh_lines(result)
    assert lines[0].startswith("salt: ab") and "no \\[signal]" in lines[1]
    assert lines[-1].startswith("[bold red]WARNING:[/]")


def test_a_salted_step_synthesizes_then_salts(tmp_path: Path) -> None:
    from suite.sweep import run

    plan = StepPlan(out=tmp_path, n=30, salt="abc", models={"gpt-4o": 1.0})
    made = run._synth(plan, tmp_path / "ratio-0.5" / "corpus.jsonl", 1, 0.5)
    assert made.corpus == tmp_path / "ratio-0.5" / "corpus.jsonl"  # what the step sends
    assert (tmp_path / "ratio-0.5" / "source.jsonl").exists()  # what synth made, beside it
    assert made.manifest["derived_from"]["salt"] == "abc-1"
    assert made.manifest["theoretical_hit_ratio"] == pytest.approx(0.5)
    assert "salted with 'abc-i'" in run._seeds(plan)


def test_a_replayed_corpus_is_salted_per_level(synthesized: api.SynthResult, tmp_path: Path) -> None:

    assert level_corpus(StepPlan(out=tmp_path), synthesized.corpus, 1) == synthesized.corpus
    level = level_corpus(StepPlan(out=tmp_path, salt="abc"), synthesized.corpus, 1)
    assert level == tmp_path / "corpora" / "level-1.jsonl"
    assert "[llmsuite salt abc-1]" in read_corpus(level)[0].messages[0]["content"]


def test_cli_rejects_a_bad_salt_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from suite.cli import cli

    got = CliRunner().invoke(cli, ["sweep", "cache", "--ratios", "0", "--salt", "a b", "-o", str(tmp_path)])
    assert got.exit_code != 0 and "--salt: 'a b' is not a salt" in got.output
    assert not (tmp_path / "sweep.json").exists()
