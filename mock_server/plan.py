"""Plan a response — h11 style: no I/O, no clock. The route only sleeps and writes what this says.

``plan(request, profile, seed)`` is a pure function of (normalized request, profile, seed): the same
request always gets the same text, length and delays. Three independent rngs are derived from
sha256(seed, cache key, stream name) so that, e.g., changing a profile's speed never changes the
text, and no global ``random`` is ever touched.

Token ids and chunk strings are real: the text is tokenized with the model's tiktoken encoding and
each streamed chunk is one token decoded, so ``"".join(chunks) == encoding.decode(tokens)``.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from mock_server.config import Profile
from mock_server.request import ChatRequest
from mock_server.vocab import words_text
from suite.tokens import count_chat_tokens, encoding_for


@dataclass(frozen=True)
class Completion:
    """What a cache stores: everything needed to answer again byte-identically."""

    tokens: tuple[int, ...]
    chunks: tuple[str, ...]
    finish_reason: str  # "stop" (natural end or stop sequence) | "length" (clipped to max_tokens)
    prompt_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass(frozen=True)
class Timing:
    """Delays relative to the moment generation starts (after the cache lookup)."""

    ttft_s: float  # until the first content token
    itl_s: tuple[float, ...]  # gap before each later token; len == max(0, tokens - 1)

    @property
    def e2e_s(self) -> float:
        return self.ttft_s + sum(self.itl_s)


@dataclass(frozen=True)
class Plan:
    completion: Completion
    timing: Timing


def rng_for(key: str, seed: int, stream: str) -> random.Random:
    """A private rng per (seed, request, purpose) — the only source of randomness here."""
    digest = hashlib.sha256(f"{seed}:{key}:{stream}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def draw_length(profile: Profile, max_tokens: int, rng: random.Random) -> tuple[int, str]:
    """Log-normal length around the median, clipped to [1, max_tokens]; clipped => "length"."""
    n = profile.output_tokens_median
    if profile.output_tokens_spread > 0:
        n = round(n * math.exp(profile.output_tokens_spread * rng.gauss(0.0, 1.0)))
    n = max(1, n)
    return (max_tokens, "length") if n > max_tokens else (n, "stop")


def compose_tokens(n: int, model: str, rng: random.Random) -> list[int]:
    """n tokens of plausible English: n words are at least n tokens, so truncation suffices."""
    return encoding_for(model).encode_ordinary(words_text(rng, n))[:n]


def cut_at_stop(tokens: list[int], chunks: list[str], stops: tuple[str, ...]) -> int | None:
    """Number of whole tokens before the first stop sequence, or None when none occurs."""
    text = "".join(chunks)
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    if not found:
        return None
    first, end, kept = min(found), 0, 0
    for chunk in chunks:
        end += len(chunk)
        if end > first:
            break
        kept += 1
    return kept


def plan_completion(request: ChatRequest, profile: Profile, seed: int) -> Completion:
    n, finish = draw_length(profile, request.max_tokens, rng_for(request.key, seed, "length"))
    tokens = compose_tokens(n, profile.token_model, rng_for(request.key, seed, "text"))
    enc = encoding_for(profile.token_model)
    chunks = [b.decode("utf-8", "replace") for b in enc.decode_tokens_bytes(tokens)]
    kept = cut_at_stop(tokens, chunks, request.stop)
    if kept is not None:
        tokens, chunks, finish = tokens[:kept], chunks[:kept], "stop"
    prompt = count_chat_tokens(request.messages, profile.token_model)
    return Completion(tuple(tokens), tuple(chunks), finish, prompt)


def plan_timing(profile: Profile, prompt_tokens: int, n_tokens: int, rng: random.Random) -> Timing:
    """TTFT ~ normal(base + prefill * prompt, jitter) >= 0; each ITL ~ (1/tps)(1 + j*normal) >= 0."""
    ttft = profile.ttft_base_s + profile.prefill_s_per_token * prompt_tokens
    if profile.ttft_jitter_s > 0:
        ttft = max(0.0, rng.gauss(ttft, profile.ttft_jitter_s))
    mean_itl = 1.0 / profile.tokens_per_s  # 0.0 for tokens_per_s = inf
    gaps = max(0, n_tokens - 1)
    if mean_itl == 0 or profile.tps_jitter == 0:
        return Timing(ttft, (mean_itl,) * gaps)
    itl = tuple(max(0.0, mean_itl * (1 + profile.tps_jitter * rng.gauss(0.0, 1.0)))
                for _ in range(gaps))
    return Timing(ttft, itl)


def hit_timing(profile: Profile, n_tokens: int) -> Timing:
    """Cache-hit policy: hit_overhead_s after the lookup, then every token at once (no pacing)."""
    return Timing(profile.hit_overhead_s, (0.0,) * max(0, n_tokens - 1))


def plan(request: ChatRequest, profile: Profile, seed: int) -> Plan:
    """The full answer to a cache miss: completion plus its pacing."""
    completion = plan_completion(request, profile, seed)
    timing = plan_timing(profile, completion.prompt_tokens, len(completion.tokens),
                         rng_for(request.key, seed, "timing"))
    return Plan(completion, timing)
