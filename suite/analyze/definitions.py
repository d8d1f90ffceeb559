"""The formula behind every number in a summary (tools disagree on names; formulas settle it)."""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "percentiles": "numpy.percentile, method 'linear' (type 7), over every request's own value; "
                   "never derived from averages (values 1..100 give p50 50.5, p95 95.05, p99 99.01)",
    "ttft": "send -> first non-empty content delta; successful streaming requests only",
    "e2e": "send -> last byte of the response; successful requests only",
    "tpot": "(e2e - ttft) / (completion_tokens - 1) per request; successful streaming requests with "
            "completion_tokens > 1 (the first token is excluded, as in vLLM and SGLang)",
    "itl": "every gap between successive content chunks, pooled over successful requests",
    "window": "measured window = min(t_start) .. max(t_start + e2e) over all requests of the run",
    "output_tokens_per_s": "sum of completion_tokens of successful requests / measured window seconds",
    "requests_per_s": "requests sent (ok and failed) / measured window seconds",
    "ok_requests_per_s": "successful requests / measured window seconds",
    "error_ratio": "failed requests / requests sent",
    "lateness": "t_start - scheduled (open-loop runs): how late each request was sent",
    "hit_ratio": "cache hits / requests whose target reported a cache signal (hit or miss)",
    "corpus_repeat_ratio": "requests the corpus marked as exact repeats / requests with a repeat flag",
    "speedup": "miss latency / hit latency at the same percentile (p50, p95), successful requests",
    "gain_bound": "1 / (1 - hit_ratio): end-to-end speedup if hits cost nothing and misses are "
                  "unchanged; the per-hit speedup is always larger than the end-to-end gain",
}
