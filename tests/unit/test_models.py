"""The model catalog's fallback: bundled mock profiles never warn, a truly unknown model warns in
one line (no source line pointing into the suite)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mock_server.config import load_profiles
from suite import models


def test_every_bundled_profile_model_resolves_without_a_warning() -> None:
    profiles = load_profiles()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        for name, profile in profiles.items():
            assert models.encoding_for_model(name) == profile.encoding, name


def test_bundled_names_outside_the_catalog_declare_their_encoding() -> None:
    declared = models.bundled_encodings()
    outside = {n for n in load_profiles() if not models.is_known_model(n)}
    assert outside  # llama-3.1-8b, claude-sonnet, instant, ...
    assert outside <= set(declared)
    assert declared["claude-sonnet"] == "cl100k_base"
    assert not models.is_known_model("claude-sonnet")  # the catalog proper is unchanged


def test_an_unreadable_profiles_file_only_means_no_declarations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed", encoding="utf-8")
    assert models.bundled_encodings(bad) == {}
    assert models.bundled_encodings(tmp_path / "missing.yaml") == {}
    (tmp_path / "list.yaml").write_text("- a\n", encoding="utf-8")
    assert models.bundled_encodings(tmp_path / "list.yaml") == {}


def test_a_truly_unknown_model_still_warns() -> None:
    with pytest.warns(models.UnknownModelWarning, match="'mistral-test-x' is not in the catalog"):
        assert models.encoding_for_model("mistral-test-x") == models.DEFAULT_ENCODING


def test_the_warning_prints_as_one_line_and_others_keep_their_format() -> None:
    text = warnings.formatwarning("m is not in the catalog", models.UnknownModelWarning,
                                  "/x/suite/tokens.py", 99, "return get_encoding(...)")
    assert text == "warning: m is not in the catalog\n"
    other = warnings.formatwarning("other", UserWarning, "/x/y.py", 3, "src line")
    assert "UserWarning" in other and "src line" in other


def test_a_real_process_prints_one_line_on_stderr() -> None:
    """As a user meets it (a fresh interpreter, Python's default warning filters)."""
    code = ("from suite.tokens import count_tokens; count_tokens('hi', 'llama-3.1-8b'); "
            "count_tokens('hi', 'mistral-test-y')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2], check=True)
    assert done.stderr == ("warning: model 'mistral-test-y' is not in the catalog; counting its tokens "
                           "with o200k_base\n")
