"""``llmsuite corpus stats --plot``: token-length histogram and popularity (rank-frequency) chart.

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
    return [tokens_png, popularity_png]
