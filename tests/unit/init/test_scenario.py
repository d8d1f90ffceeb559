"""``llmsuite init --scenario NAME``: each bundled domain scenario copied with a header that is
comments only (the YAML data is the bundled data, unchanged), explains every key it sets, and
still synthesizes; an existing copy is never overwritten silently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from suite import api
from suite.errors import SpecError
from suite.init.scenario import KNOBS, copy_scenario, find_scenario, known_scenarios
from suite.synth.spec import DEFAULTS, REQUIRED

# the domains issue #18 promises a starter for
DOMAINS = ["ecommerce", "education", "finance", "healthcare", "ops-assistant", "rag-long-context"]


def header_of(text: str) -> list[str]:
    lines = text.splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    return lines[:end]


def test_the_promised_domains_are_bundled() -> None:
    assert known_scenarios() == DOMAINS


def test_every_spec_key_is_explained() -> None:
    assert set(KNOBS) == set(REQUIRED) | set(DEFAULTS)


@pytest.mark.parametrize("name", DOMAINS)
def test_copy_is_the_bundled_data_with_a_comment_header(name: str, tmp_path: Path) -> None:
    path = copy_scenario(name, tmp_path / "proj")
    assert path == tmp_path / "proj" / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    head = header_of(text)
    assert len(head) > 20
    assert all(line.startswith("#") or not line.strip() for line in head)
    assert yaml.safe_load("\n".join(head)) is None  # comments only: YAML sees no data in it
    bundled = yaml.safe_load(find_scenario(name).read_text(encoding="utf-8"))
    assert yaml.safe_load(text) == bundled
    joined = "\n".join(head)
    for key in bundled:  # every key the file sets is explained by name, with its value
        assert f"# {key} (here " in joined, key
    assert f"llmsuite synth --scenario {path} -o corpus.jsonl" in joined
    assert "What to edit first" in joined
    assert all(len(line) <= 100 for line in head if str(path) not in line)


@pytest.mark.parametrize("name", DOMAINS)
def test_every_copy_synthesizes(name: str, tmp_path: Path) -> None:
    path = copy_scenario(name, tmp_path)
    res = api.synthesize(path, tmp_path / "corpus.jsonl", n=12)
    assert res.manifest["n"] == 12
    assert len(res.corpus.read_text(encoding="utf-8").splitlines()) == 12


def test_body_comments_are_kept(tmp_path: Path) -> None:
    text = copy_scenario("finance", tmp_path).read_text(encoding="utf-8")
    assert "expected_output_tokens:  # completion length" in text
    assert "-o corpora/finance.jsonl" not in text  # the bundled opening comment named the bundled copy


def test_an_existing_copy_is_kept_unless_forced(tmp_path: Path) -> None:
    path = copy_scenario("finance", tmp_path)
    path.write_text("# my edits\n", encoding="utf-8")
    with pytest.raises(SpecError, match="exists.*--force"):
        copy_scenario("education", tmp_path)
    assert path.read_text(encoding="utf-8") == "# my edits\n"
    copy_scenario("education", tmp_path, force=True)
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["domain"] == "education"


@pytest.mark.parametrize("name", ["banking", "../finance", "finance.yaml", ""])
def test_an_unknown_name_lists_the_known_ones(name: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        copy_scenario(name, tmp_path)
    assert f"{name!r}" in str(err.value)
    assert ", ".join(DOMAINS) in str(err.value)
    assert not (tmp_path / "scenario.yaml").exists()
