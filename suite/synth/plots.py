"""``llmsuite corpus stats --plot``: prompt and expected output token-length histograms, and the
popularity (rank-frequency) chart. The output-length chart is left out when the corpus carries no
expected output lengths (``stats.summary`` says so).

The only module of the synth stage that imports matplotlib (lazily, with the Agg backend).
"""

from __future__ import annotations

from pathlib import Path

from suite.records import CorpusRequest
from suite.synth.stats import repeat_counts, zipf_slope


def write_plots(corpus: Path, requests: list[CorpusRequest]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = corpus.name.removesuffix(".jsonl")
    tokens_png = corpus.with_name(f"{stem}.tokens.png")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist([r.prompt_tokens for r in requests], bins=50, color="#4472c4")
    ax.set(title=f"{corpus.name}: prompt tokens per request", xlabel="prompt tokens", ylabel="requests")
    fig.tight_layout()
    fig.savefig(tokens_png, dpi=100)
    plt.close(fig)

    written = [tokens_png]
    outputs = [(r.expected_output_tokens, r.max_tokens) for r in requests
               if r.expected_output_tokens is not None]
    if outputs:
        output_png = corpus.with_name(f"{stem}.output_tokens.png")
        capped = sum(v == m for v, m in outputs)
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.hist([v for v, _ in outputs], bins=50, color="#70ad47")
        ax.set(title=f"{corpus.name}: expected output tokens per request ({capped / len(outputs):.0%} "
               "at max_tokens)", xlabel="expected output tokens", ylabel="requests")
        fig.tight_layout()
        fig.savefig(output_png, dpi=100)
        plt.close(fig)
        written.append(output_png)

    popularity_png = corpus.with_name(f"{stem}.popularity.png")
    counts = repeat_counts(requests)
    fig, ax = plt.subplots(figsize=(7, 4))
    if counts:
        ax.loglog(range(1, len(counts) + 1), counts, marker=".", linestyle="none", color="#c55a11")
    slope = zipf_slope(counts)
    fitted = f" (fitted Zipf s = {slope:.2f})" if slope is not None else ""
    ax.set(title=f"{corpus.name}: exact repeats per original{fitted}", xlabel="rank", ylabel="repeats")
    fig.tight_layout()
    fig.savefig(popularity_png, dpi=100)
    plt.close(fig)
    return [*written, popularity_png]
