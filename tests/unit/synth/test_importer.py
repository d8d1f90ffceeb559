"""Import: ShareGPT / JSONL / CSV prompts, bad entries named by file and line, repetition on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suite import api
from suite.errors import CorpusError
from suite.synth.importer import read_prompts

SHAREGPT = [
    {"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi {there}?"},
                       {"from": "gpt", "value": "Hello."}]},
    {"conversations": [{"from": "human", "value": "What is a VAT number?"}]},
]
MULTI_TURN = [
    {"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi?"},
                       {"from": "gpt", "value": "Hello."}, {"from": "human", "value": "Invoice 7 status?"},
                       {"from": "gpt", "value": "Paid."}, {"from": "human", "value": "When?"},
                       {"from": "gpt", "value": "Monday."}]},
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_sharegpt_keeps_system_and_first_human_turn(tmp_path: Path) -> None:
    got = read_prompts(write(tmp_path / "s.json", json.dumps(SHAREGPT)), "sharegpt")
    assert got.prompts[0] == [{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": "Hi {there}?"}]
    assert got.prompts[1] == [{"role": "user", "content": "What is a VAT number?"}]
    assert len(got.conversations) == 2  # a trailing gpt turn makes no prompt


def test_sharegpt_multi_turn_conversation_gives_one_prompt_per_human_turn(tmp_path: Path) -> None:
    got = read_prompts(write(tmp_path / "s.json", json.dumps(MULTI_TURN[:1])), "sharegpt")
    (turns,) = got.conversations
    system, hi, hello = ({"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"},
                         {"role": "assistant", "content": "Hello."})
    assert turns == [[system, hi],
                     [system, hi, hello, {"role": "user", "content": "Invoice 7 status?"}],
                     [system, hi, hello, {"role": "user", "content": "Invoice 7 status?"},
                      {"role": "assistant", "content": "Paid."}, {"role": "user", "content": "When?"}]]
    assert got.report()["prompts"] == 3
    assert got.report()["conversations"] == 1


def test_sharegpt_bad_later_turn_names_the_entry_or_is_skipped(tmp_path: Path) -> None:
    broken = {"conversations": [{"from": "human", "value": "ok?"}, {"from": "gpt", "value": ""}]}
    bad = [MULTI_TURN[0], broken]
    path = write(tmp_path / "s.json", json.dumps(bad))
    with pytest.raises(CorpusError, match=r"s\.json: entry 1: conversations\[1\]\.value must be a non-empty"):
        read_prompts(path, "sharegpt")
    got = read_prompts(path, "sharegpt", skip_bad=True)
    assert len(got.conversations) == 1
    assert got.report()["skipped_bad"] == 1


@pytest.mark.parametrize("scope", ["across", "session"])
def test_sharegpt_conversations_become_sessions(tmp_path: Path, scope: str) -> None:
    data = [MULTI_TURN[0]] + [{"conversations": [
        {"from": "human", "value": f"Question {i}?"}, {"from": "gpt", "value": f"Answer {i}."},
        {"from": "human", "value": f"And the follow-up to {i}?"}]} for i in range(30)]
    source = write(tmp_path / "s.json", json.dumps(data))
    res = api.synthesize_import(source, "sharegpt", tmp_path / "c.jsonl", seed=3, repeat_ratio=0.2,
                                overrides={"users": 4, "scope": scope})
    rows = [json.loads(line) for line in res.corpus.read_text().splitlines()]
    fresh = [r for r in rows if r["repeat_of"] is None]
    assert len(fresh) == 63
    assert res.manifest["import"]["conversations"] == 31
    first = [r for r in fresh if r["session"] == fresh[0]["session"]]
    assert [r["turn"] for r in first] == [0, 1, 2]
    assert len({r["model"] for r in first}) == 1
    assert [len(r["messages"]) for r in first] == [2, 4, 6]
    assert first[2]["messages"][:4] == first[1]["messages"]
    by_session: dict[str, list] = {}
    for r in fresh:
        by_session.setdefault(r["session"], []).append(r)
    for turns in by_session.values():
        assert [r["turn"] for r in turns] == list(range(len(turns)))
        if scope == "across":  # each session is one whole conversation, in order
            assert turns[-1]["messages"][:len(turns[0]["messages"])] == turns[0]["messages"]


def test_jsonl_prompts_messages_and_strings(tmp_path: Path) -> None:
    lines = ['{"prompt": "a?"}', '{"messages": [{"role": "user", "content": "b?"}]}', '"c?"', ""]
    got = read_prompts(write(tmp_path / "p.jsonl", "\n".join(lines)), "jsonl")
    assert [p[-1]["content"] for p in got.prompts] == ["a?", "b?", "c?"]


def test_csv_column(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", "id,question\n1,Where is X?\n2,\"Why, Y?\"\n")
    got = read_prompts(path, "csv", "question")
    assert [p[0]["content"] for p in got.prompts] == ["Where is X?", "Why, Y?"]


@pytest.mark.parametrize(("name", "text", "fmt", "column", "message"), [
    ("p.jsonl", '{"prompt": "a"}\n{"prompt": \n', "jsonl", None,
     "p.jsonl:2: not valid JSON (unexpected end of data: line 2 column 1 (char 12)). Fix or remove it, "
     "or pass --skip-bad to skip bad entries (they are counted in the manifest)."),
    ("p.jsonl", '{"prompt": "a"}\n{"text": "b"}\n', "jsonl", None,
     "p.jsonl:2: no 'prompt' or 'messages' field. Fix or remove it, or pass --skip-bad to skip bad "
     "entries (they are counted in the manifest)."),
    ("s.json", json.dumps([{"conversations": [{"from": "bot", "value": "x"}]}]), "sharegpt", None,
     "s.json: entry 0: conversations[0].from must be human, gpt or system. Fix or remove it, or pass "
     "--skip-bad to skip bad entries (they are counted in the manifest)."),
    ("s.json", "{not json", "sharegpt", None, None),
    ("q.csv", "id,question\n1,\n", "csv", "question",
     "q.csv:2: column 'question' must be a non-empty string, got an empty string. Fix or remove it, or pass "
     "--skip-bad to skip bad entries (they are counted in the manifest)."),
    ("q.csv", "id,question\n1,x\n", "csv", "questoin",
     "q.csv: unknown column 'questoin'; did you mean 'question'? (known: id, question); name the prompt "
     "column with --column (columns: id, question)."),
])
def test_bad_input_names_file_and_line(tmp_path: Path, name: str, text: str, fmt: str, column: str | None,
                                       message: str | None) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(CorpusError) as err:
        read_prompts(path, fmt, column)
    if message is None:
        assert str(err.value).startswith(f"{path}: not valid JSON (")
    else:
        assert str(err.value) == f"{tmp_path}/{message}"


def test_skip_bad_counts_and_reports(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", '{"prompt": "a?"}\nnope\n{"prompt": "b?"}\n[1]\n')
    got = read_prompts(path, "jsonl", skip_bad=True)
    assert len(got.prompts) == 2
    assert len(got.skipped) == 2
    assert got.report()["skipped_bad"] == 2
    assert got.skipped[0].startswith(f"{path}:2: not valid JSON")


def test_repetition_applies_on_top_of_imported_prompts(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps({"prompt": f"Question number {i}: where is order {i * 7}?"})
                      for i in range(400))
    source = write(tmp_path / "p.jsonl", lines)
    knobs = {"near_duplicate_ratio": 0.1, "arrival": {"process": "poisson", "rate": 5}}
    res = api.synthesize_import(source, "jsonl", tmp_path / "c.jsonl", repeat_ratio=0.3, seed=2,
                                overrides=knobs)
    m = res.manifest
    assert m["n"] == 667
    assert m["repeat_ratio"]["achieved"] == pytest.approx(0.3, abs=0.01)
    assert m["near_duplicate_ratio"]["achieved"] == pytest.approx(0.1, abs=0.01)
    assert m["import"] == {"file": "p.jsonl", "format": "jsonl", "prompts": 400, "conversations": 400,
                           "skipped_bad": 0, "first_skipped": [], "duplicates_skipped": 0}
    first = json.loads(res.corpus.read_text().splitlines()[0])
    assert first["domain"] == "imported"
    assert first["messages"][-1]["content"].startswith("Question number 0")


def test_import_running_out_of_prompts(tmp_path: Path) -> None:
    source = write(tmp_path / "p.jsonl", '{"prompt": "a?"}\n{"prompt": "b?"}\n')
    with pytest.raises(CorpusError) as err:
        api.synthesize_import(source, "jsonl", tmp_path / "c.jsonl", n=5, seed=1)
    assert str(err.value) == (f"{source}: its 2 prompts in 2 conversations (0 duplicates) ran out at "
                              "request 5 of 5, which must be fresh (lower --n, or raise --repeat-ratio / "
                              "--near-duplicate-ratio).")
