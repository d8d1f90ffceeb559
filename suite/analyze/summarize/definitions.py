"""The formula behind every number in a summary (tools disagree on names; formulas settle it)."""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "percentiles": "numpy.percentile, method 'linear' (type 7), over every request's own value; "
                   "never derived from averages (values 1..100 give p50 50.5, p95 95.05, p99 99.01)",
    "ttft": "send -> first non-empty content delta; successful streaming requests only",
    "e2e": "send -> last byte of the response; successful requests only",
    "tpot": "(e2e - ttft) / (completion_tokens - 1) per request; successful streaming requests with "
            "completion_tokens > 1 (the first token is excluded, as in vLLM and SGLang)",
    "itl": "every gap between successive content chunks, pooled over successful requests (each gap "
           "counts once; vLLM's ITL)",
    "itl_mean": "per request, the mean of its inter-chunk gaps; distribution over successful requests",
    "mean, max": "arithmetic mean and maximum of the same per-request values as the percentiles",
    "compat.vllm": "vLLM bench serve: TPOT = (e2e - ttft) / (completion_tokens - 1); ITL = every "
                   "inter-chunk gap pooled (the same numbers as tpot and itl here)",
    "compat.guidellm": "GuideLLM: TPOT = e2e / completion_tokens (includes the time to first token); "
                       "ITL = per-request (e2e - ttft) / (completion_tokens - 1), i.e. our tpot",
    "timeline": "per 1 s / 10 s bucket from the window start: requests sent (by t_start), completed, "
                "ok, failed and output tokens (by t_start + e2e)",
    "e2e_from_scheduled": "open loop: (t_start - scheduled) + e2e, latency as the user who arrived "
                          "on schedule saw it (coordinated-omission corrected); ttft likewise",
    "goodput": "requests that succeeded with every per-request SLO limit met (a value not measured "
               "does not meet its limit) / measured window seconds; goodput_ratio = good / sent",
    "slo": "each check compares one summary value (overall, or per model) with its threshold; a "
           "value that was not measured fails its check",
    "warmup": "records flagged warmup: true are kept in the log but excluded from every statistic",
    "tokens.discrepancy": "tiktoken count of the received reply minus the target's usage count, on "
                          "successful requests where both were recorded (tokens_source usage)",
    "cost": "per model: prompt_tokens x input price + completion_tokens x output price (per 1M tokens, "
            "corpora/prices.yaml, dated); saved_by_cache_hits prices the hits' own token counts",
    "cache.phases": "cold = requests sent in the first 10 % of the measured window; steady = the rest",
    "cache.by_repeat": "first-seen vs repeat by the corpus's ground truth (for targets without a cache "
                       "signal); speedup = first-seen latency / repeat latency",
    "speedup_ci": "percentile bootstrap 95 % CI of the ratio, hits and misses resampled independently "
                  "(suite.analyze.bootstrap; n_boot and m-out-of-n cap in cache.bootstrap)",
    "theoretical_hit_ratio": "from the corpus manifest: (N - distinct keys) / N, the best an unbounded "
                             "exact-match cache could do on the whole corpus",
    "window": "measured window = min(t_start) .. max(t_start + e2e) over all requests of the run",
    "output_tokens_per_s": "sum of completion_tokens of successful requests / measured window seconds",
    "requests_per_s": "requests sent (ok and failed) / measured window seconds",
    "ok_requests_per_s": "successful requests / measured window seconds",
    "error_ratio": "failed requests / requests sent",
    "lateness": "t_start - scheduled (open-loop runs): how late each request was sent",
    "hit_ratio": "cache hits / successful requests whose target reported a cache signal (hit or miss); "
                 "failed requests are counted apart (cache.failed, cache.failed_with_signal)",
    "cache.repeat_misses": "successful misses whose key was sent earlier in the run: in_flight (no earlier "
                           "copy had finished, t_start + e2e, when it was sent), first_copy_failed (every "
                           "earlier copy failed), after_finish (an earlier copy had finished successfully), "
                           "expired (after_finish with the last store older than the cache TTL); "
                           "coalescing_would_add = in_flight / successful requests with a signal, in points",
    "cache.model_comparison": "fastest vs slowest model by p50 (TTFT if streamed, else E2E) on cache misses, "
                              "else first-seen requests, else all successful requests; ratio slow / fast "
                              "with a bootstrap CI (cache.bootstrap); significant when the CI excludes 1",
    "corpus_repeat_ratio": "requests the corpus marked as exact repeats / requests with a repeat flag",
    "speedup": "miss latency / hit latency at the same percentile (p50, p95), successful requests",
    "gain_bound": "1 / (1 - hit_ratio): end-to-end speedup if hits cost nothing and misses are "
                  "unchanged; the per-hit speedup is always larger than the end-to-end gain",
}
