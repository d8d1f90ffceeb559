"""How fast is synthesis? Build 100,000 requests with token counts and write them (target <= 10 s).

Prints the build and write times (wall and CPU: ``process_time`` is the steadier figure on a shared
machine), and the tokens counted per second by the synthesizer's counting
path (``suite.synth.tokencount.count_prompts``: every prompt of the corpus, the shared prefix counted
once) beside raw tiktoken on the same texts in the same run — ``encode_ordinary_batch`` (the issue's
reference) and a plain ``encode_ordinary`` loop. The ratio ours / raw batch should be >= 0.5
(tokenization is not wasted twice), and the strictest comparison: raw ``encode_ordinary`` on just the
distinct messages (each encoded once, the least any counter must do) against the synthesizer's whole
counting path. The tokenizer's one-off load is done before timing.
Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from suite.synth import build_corpus, build_manifest, load_spec
from suite.synth.tokencount import count_prompts
from suite.synth.write import write_corpus_then_manifest
from suite.tokens import encoding_for

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "corpora" / "scenarios"


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last result."""
    return timed_cpu(fn, repeats)[0::2]


def timed_cpu(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU (``process_time``) times of ``repeats`` calls, and the last result. On a
    shared machine the CPU time is the steadier figure: it does not count time spent waiting."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def texts_by_model(requests: list) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in requests:
        out.setdefault(r.model, []).extend(m["content"] for m in r.messages)
    return out


def distinct_texts(requests: list) -> dict[str, list[str]]:
    """Each (model, message) once: the least any counter must encode."""
    seen: dict[str, dict[str, None]] = {}
    for r in requests:
        for m in r.messages:
            seen.setdefault(r.model, {})[m["content"]] = None
    return {model: list(texts) for model, texts in seen.items()}


def raw_batch(texts: dict[str, list[str]]) -> int:
    return sum(len(t) for model, xs in texts.items() for t in encoding_for(model).encode_ordinary_batch(xs))


def raw_loop(texts: dict[str, list[str]]) -> int:
    total = 0
    for model, xs in texts.items():
        encode = encoding_for(model).encode_ordinary
        total += sum(len(encode(x)) for x in xs)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="requests per corpus (default 100000)")
    ap.add_argument("--repeats", type=int, default=1, help="timed repetitions, median reported")
    ap.add_argument("--scenario", default="ops-assistant",
                    help="bundled scenario (default ops-assistant; rag-long-context has long prompts)")
    args = ap.parse_args()
    spec_path = SCENARIOS / f"{args.scenario}.yaml"
    spec = load_spec(spec_path, {"n": args.n, "near_duplicate_ratio": 0.1, "popularity": "zipf:1.1"})
    for model, _ in spec.models:
        encoding_for(model).encode_ordinary("warm-up")  # one-off BPE load, not part of the figure
    build_s, build_cpu, requests = timed_cpu(lambda: build_corpus(spec), args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        write_s, write_cpu, _ = timed_cpu(lambda: write_corpus_then_manifest(
            Path(tmp) / "c.jsonl", requests,
            lambda sha: build_manifest(spec, spec.seed, requests, corpus_sha=sha)), args.repeats)
    pairs = [(r.model, r.messages) for r in requests]
    ours_s, counts = timed(lambda: count_prompts(pairs), args.repeats)
    texts = texts_by_model(requests)
    batch_s, batch_tokens = timed(lambda: raw_batch(texts), args.repeats)
    loop_s, loop_tokens = timed(lambda: raw_loop(texts), args.repeats)
    floor_s, _ = timed(lambda: raw_loop(distinct_texts(requests)), args.repeats)
    assert counts == [r.prompt_tokens for r in requests]
    ours_rate = sum(counts) / ours_s
    fresh = sum(r.repeat_of is None for r in requests)
    print(f"spec: {spec_path.name}, n={args.n} ({fresh} distinct, {args.n - fresh} exact repeats), "
          f"median of {args.repeats}")
    print(f"build_corpus (with token counts)  : {build_s:7.2f} s  {args.n / build_s:9.0f} requests/s"
          f"  (CPU {build_cpu:.2f} s)")
    print(f"manifest + write (JSONL + json)   : {write_s:7.2f} s  (CPU {write_cpu:.2f} s)")
    print(f"build + write                     : {build_s + write_s:7.2f} s  "
          f"(CPU {build_cpu + write_cpu:.2f} s; target <= 10 s)")
    print(f"tokens counted, synth path        : {ours_rate / 1e6:7.2f} M tokens/s "
          f"({sum(counts)} prompt tokens)")
    print(f"raw tiktoken encode_ordinary_batch: {batch_tokens / batch_s / 1e6:7.2f} M tokens/s")
    print(f"raw tiktoken encode_ordinary loop : {loop_tokens / loop_s / 1e6:7.2f} M tokens/s")
    print(f"ratio synth / raw batch           : {ours_rate / (batch_tokens / batch_s):7.2f}  (want >= 0.5)")
    print(f"ratio synth / raw loop            : {ours_rate / (loop_tokens / loop_s):7.2f}")
    print(f"raw loop on the distinct texts only: {floor_s:6.2f} s vs synth path {ours_s:.2f} s "
          f"(ratio {floor_s / ours_s:.2f}; 1.0 = nothing encoded twice, no overhead)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
