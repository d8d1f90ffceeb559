"""How fast is synthesis? ``build_corpus`` on the bundled ops-assistant spec against raw tiktoken.

The reference is tiktoken's ``encode_ordinary`` over exactly the texts the builder tokenized (every
message of every fresh request), measured in the same run: the ratio says how much of the build is
tokenizing and how much is template filling, Faker, keys and bookkeeping. The tokenizer's one-off
load is done before timing. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from suite.synth import build_corpus, build_manifest, load_spec, write_corpus
from suite.tokens import encoding_for

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "corpora" / "scenarios" / "ops-assistant.yaml"


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def raw_tokenize(requests: list) -> int:
    """tiktoken alone on every message the builder tokenized (fresh requests only; repeats are copies)."""
    total = 0
    for r in requests:
        if r.repeat_of is None:
            enc = encoding_for(r.model)
            total += sum(len(enc.encode_ordinary(m["content"])) for m in r.messages)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5000, help="requests per corpus (default 5000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repetitions, median reported")
    args = ap.parse_args()
    spec = load_spec(SPEC, {"n": args.n})
    for model, _ in spec.models:
        encoding_for(model).encode_ordinary("warm-up")  # one-off BPE load, not part of the figure
    build_s, requests = timed(lambda: build_corpus(spec), args.repeats)
    raw_s, _ = timed(lambda: raw_tokenize(requests), args.repeats)
    tokens = sum(r.prompt_tokens for r in requests)
    with tempfile.TemporaryDirectory() as tmp:
        write_s, _ = timed(lambda: write_corpus(Path(tmp) / "c.jsonl", requests,
                                                build_manifest(spec, spec.seed, requests)), args.repeats)
    fresh = sum(r.repeat_of is None for r in requests)
    print(f"spec: {SPEC.name}, n={args.n} ({fresh} fresh, {args.n - fresh} repeats), "
          f"median of {args.repeats}")
    print(f"build_corpus                 : {build_s:7.3f} s  {args.n / build_s:9.0f} requests/s  "
          f"{tokens / build_s / 1e6:6.2f} M prompt tokens/s")
    print(f"raw tiktoken, same texts     : {raw_s:7.3f} s  ({fresh} prompts)")
    print(f"ratio build / raw tokenize   : {build_s / raw_s:7.2f}")
    print(f"manifest + write (JSONL+json): {write_s:7.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
