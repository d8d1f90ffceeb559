"""Plan a response — h11 style: no I/O, no clock. The route only sleeps and writes what this says.

``plan(request, profile, seed)`` is a pure function of (normalized request, profile, seed): the same
request always gets the same text, length and delays. Three independent random streams (length,
text, timing) are derived from sha256(seed, cache key, stream name) so that, e.g., changing a
profile's speed never changes the text, and no global ``random`` is ever touched.

Token ids and chunk strings are real: the text is sentences of the model's tiktoken encoding
(pre-tokenized once, see textbank.py) and each streamed chunk is one token decoded, so
``"".join(chunks) == encoding.decode(tokens)``. Only the rngs a profile needs are created (seeding
a Random costs ~7 us; the text uses sha256-derived picks instead).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import NamedTuple

from mock_server.config import Profile
from mock_server.request import ChatRequest
from mock_server.textbank import compose, sentence_bank
from suite.tokens import count_chat_tokens, count_tokens, encoding_for


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


class Timing(NamedTuple):
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


def picks_for(key: str, seed: int, stream: str) -> Iterator[int]:
    """Endless 16-bit values from sha256(seed, key, stream, block) — cheaper than seeding a
    Random (~7 us) when only a few choices are needed."""
    for block in count():
        digest = hashlib.sha256(f"{seed}:{key}:{stream}:{block}".encode()).digest()
        for i in range(0, len(digest), 2):
            yield (digest[i] << 8) | digest[i + 1]


def draw_length(profile: Profile, max_tokens: int, rng: random.Random | None) -> tuple[int, str]:
    """Log-normal length around the median, clipped to [1, max_tokens]; clipped => "length".
    ``rng`` may be None when the profile's spread is 0 (the length is then the median)."""
    n = profile.output_tokens_median
    if profile.output_tokens_spread > 0 and rng is not None:
        n = round(n * math.exp(profile.output_tokens_spread * rng.gauss(0.0, 1.0)))
    n = max(1, n)
    return (max_tokens, "length") if n > max_tokens else (n, "stop")


def cut_at_stop(chunks: list[str], stops: tuple[str, ...]) -> int | None:
    """Number of whole tokens before the first stop sequence, or None when none occurs. A token
    that straddles the stop's start is dropped with it (no partial tokens are invented)."""
    if not stops:
        return None
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
    length_rng = rng_for(request.key, seed, "length") if profile.output_tokens_spread else None
    n, finish = draw_length(profile, request.max_tokens, length_rng)
    tokens, chunks = compose(n, sentence_bank(profile.encoding), picks_for(request.key, seed, "text"))
    kept = cut_at_stop(chunks, request.stop)
    if kept is not None:
        tokens, chunks, finish = tokens[:kept], chunks[:kept], "stop"
    prompt = (count_chat_tokens(request.messages, profile.token_model) if request.prompt is None
              else count_tokens(request.prompt, profile.token_model))
    return Completion(tuple(tokens), tuple(chunks), finish, prompt)


def plan_timing(profile: Profile, prompt_tokens: int, n_tokens: int,
                rng: random.Random | None) -> Timing:
    """TTFT ~ normal(base + prefill * prompt, jitter) >= 0; each ITL ~ (1/tps)(1 + j*normal) >= 0.
    ``rng`` may be None when the profile has no jitter at all."""
    ttft = profile.ttft_base_s + profile.prefill_s_per_token * prompt_tokens
    if profile.ttft_jitter_s > 0 and rng is not None:
        ttft = max(0.0, rng.gauss(ttft, profile.ttft_jitter_s))
    mean_itl = 1.0 / profile.tokens_per_s  # 0.0 for tokens_per_s = inf
    gaps = max(0, n_tokens - 1)
    if mean_itl == 0 or profile.tps_jitter == 0 or rng is None:
        return Timing(ttft, (mean_itl,) * gaps)
    itl = tuple(max(0.0, mean_itl * (1 + profile.tps_jitter * rng.gauss(0.0, 1.0)))
                for _ in range(gaps))
    return Timing(ttft, itl)


def hit_timing(profile: Profile, n_tokens: int) -> Timing:
    """Cache-hit policy: hit_overhead_s after the lookup, then every token at once (no pacing)."""
    return Timing(profile.hit_overhead_s, (0.0,) * max(0, n_tokens - 1))


def warm_tokenizers(profiles: Iterable[Profile]) -> None:
    """Load every profile's encoding and sentence bank now, so the first request does not pay
    ~0.5 s for them."""
    for profile in profiles:
        encoding_for(profile.token_model)
        sentence_bank(profile.encoding)


def plan(request: ChatRequest, profile: Profile, seed: int) -> Plan:
    """The full answer to a cache miss: completion plus its pacing."""
    completion = plan_completion(request, profile, seed)
    jitter = profile.ttft_jitter_s > 0 or profile.tps_jitter > 0
    timing = plan_timing(profile, completion.prompt_tokens, len(completion.tokens),
                         rng_for(request.key, seed, "timing") if jitter else None)
    return Plan(completion, timing)
