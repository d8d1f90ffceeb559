"""The answer to a cache miss, planned: what is said (tokens, text, finish reason, usage) and when
(TTFT and the gap before each later token). answer.py decides hit or miss; this is its pure half.

Planning is h11 style: no I/O, no clock. ``plan(request, profile, seed)`` is a pure function of
(normalized request, profile, seed): the same request always gets the same text, length and
delays. Independent random streams (length, text, timing) are derived from sha256(seed, cache key,
stream name) so that, e.g., changing a profile's speed never changes the text, and no global
``random`` is ever touched. Only the rngs a profile needs are created; the text itself is cut from
textbank.py's kept variants, so its token ids and chunk strings are real (``"".join(chunks) ==
encoding.decode(tokens)``). Prompt tokens are counted like ``suite.tokens.count_chat_tokens`` with
the length of short strings (roles, system prompts, repeated questions) memoized.

Prompt-prefix caching's share of the timing: the tokens a prefix-cache hit covers (``cached_tokens``,
found by answer.py through prefixcache.py) are not prefilled (TTFT = base + prefill_s_per_token x
uncached) and are reported in usage.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import NamedTuple

from mock_server.cache import Completion
from mock_server.config import Profile
from mock_server.faults import Fault, stall_mid_gaps
from mock_server.textbank import composed, sentence_bank, text_variant, warm_heads
from mock_server.validate import ChatRequest
from suite.tokens import encoding_for, get_encoding

MEMO_MAX_CHARS = 2048  # longer strings are counted each time (bounds the memo's memory)
WARM_TOKENS = 32  # heads composed at start-up up to this length


class Timing(NamedTuple):
    """Delays relative to the moment generation starts (after the cache lookup)."""

    ttft_s: float  # until the first content token
    itl_s: tuple[float, ...]  # gap before each later token; len == max(0, tokens - 1)

    @property
    def e2e_s(self) -> float:
        return self.ttft_s + sum(self.itl_s)


class Plan(NamedTuple):
    """The full answer to a cache miss: what is said, and when."""

    completion: Completion
    timing: Timing


def stalled(timing: Timing, fault: Fault | None) -> Timing:
    """A ``stall_mid`` fault's pause put into the plan (before the only token when there is one),
    so the writer's pacing carries it like any other delay."""
    if fault is None or fault.kind != "stall_mid":
        return timing
    if not timing.itl_s:  # one token: the stall goes before it
        return Timing(timing.ttft_s + fault.arg, ())
    return Timing(timing.ttft_s, stall_mid_gaps(timing.itl_s, fault.arg))


def rng_for(key: str, seed: int, stream: str) -> random.Random:
    """A private rng per (seed, request, purpose) — the only source of randomness here."""
    digest = hashlib.sha256(f"{seed}:{key}:{stream}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def draw_length(profile: Profile, max_tokens: int, rng: random.Random | None) -> tuple[int, str]:
    """Log-normal length around the median, clipped to [1, max_tokens]; clipped => "length".
    ``rng`` may be None when the profile's spread is 0 (the length is then the median)."""
    n = profile.output_tokens_median
    if profile.output_tokens_spread > 0 and rng is not None:
        n = round(n * math.exp(profile.output_tokens_spread * rng.gauss(0.0, 1.0)))
    n = max(1, n)
    return (max_tokens, "length") if n > max_tokens else (n, "stop")


def cut_at_stop(chunks: tuple[str, ...], stops: tuple[str, ...]) -> int | None:
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


@cache
def _encoder(encoding: str) -> Callable[[str], list[int]]:
    return get_encoding(encoding).encode_ordinary


@lru_cache(maxsize=4096)
def _memo_length(encoding: str, text: str) -> int:
    return len(_encoder(encoding)(text))


def text_tokens(encoding: str, text: str) -> int:
    if len(text) > MEMO_MAX_CHARS:
        return len(_encoder(encoding)(text))
    return _memo_length(encoding, text)


def chat_prompt_tokens(messages: list[dict[str, str]], encoding: str) -> int:
    """``suite.tokens.count_chat_tokens``'s rule (3 per message, 1 per name, 3 to prime the
    reply, every string field counted) with short strings memoized — but the last message's
    content, the new question, is counted directly: on a miss it is usually new, and a memo
    insert (and eviction) would cost more than the count."""
    total = 3
    last = len(messages) - 1
    for i, msg in enumerate(messages):
        total += 3
        for name, value in msg.items():
            if i == last and name == "content":
                total += len(_encoder(encoding)(value))
            elif isinstance(value, str):
                total += text_tokens(encoding, value)
            if name == "name":
                total += 1
    return total


def plan_completion(request: ChatRequest, profile: Profile, seed: int,
                    prompt_tokens: int | None = None) -> Completion:
    length_rng = rng_for(request.key, seed, "length") if profile.output_tokens_spread else None
    n, finish = draw_length(profile, request.max_tokens, length_rng)
    tokens, chunks = composed(profile.encoding, n, text_variant(request.key, seed))
    kept = cut_at_stop(chunks, request.stop)
    if kept is not None:
        tokens, chunks, finish = tokens[:kept], chunks[:kept], "stop"
    if prompt_tokens is not None:  # counted beforehand (off the loop)
        prompt = prompt_tokens
    elif request.prompt is None:
        prompt = chat_prompt_tokens(request.messages, profile.encoding)
    else:
        prompt = text_tokens(profile.encoding, request.prompt)
    return Completion(tokens, chunks, finish, prompt)


def plan_timing(profile: Profile, prompt_tokens: int, n_tokens: int,
                rng: random.Random | None) -> Timing:
    """TTFT ~ normal(base + prefill * prompt, jitter) >= 0; each ITL ~ (1/tps)(1 + j*normal) >= 0.
    ``prompt_tokens`` are the ones to prefill (a prefix-cache hit's are not). ``rng`` may be None
    when the profile has no jitter at all."""
    ttft = profile.ttft_base_s + profile.prefill_s_per_token * prompt_tokens
    if profile.ttft_jitter_s > 0 and rng is not None:
        ttft = max(0.0, rng.gauss(ttft, profile.ttft_jitter_s))
    mean_itl = 1.0 / profile.tokens_per_s  # 0.0 for tokens_per_s = inf
    gaps = max(0, n_tokens - 1)
    if mean_itl == 0 or profile.tps_jitter == 0 or rng is None:
        return _even_timing(ttft, mean_itl, gaps)
    itl = tuple(max(0.0, mean_itl * (1 + profile.tps_jitter * rng.gauss(0.0, 1.0)))
                for _ in range(gaps))
    return Timing(ttft, itl)


@lru_cache(maxsize=4096)
def _even_timing(ttft: float, itl: float, gaps: int) -> Timing:
    """Jitter-free timings repeat (same TTFT, same length): build each once."""
    return Timing(ttft, (itl,) * gaps)


def hit_timing(profile: Profile, n_tokens: int) -> Timing:
    """Cache-hit policy: hit_overhead_s after the lookup, then every token at once (no pacing)."""
    return _even_timing(profile.hit_overhead_s, 0.0, max(0, n_tokens - 1))


def warm_tokenizers(profiles: Iterable[Profile]) -> None:
    """Load every profile's encoding and sentence bank now, so the first request does not pay
    for them; and compose every text variant's head up to the profile's median length (at most
    WARM_TOKENS), so the first thousands of misses cost what later ones do (a head only grows,
    so longer answers extend it as they come)."""
    for profile in profiles:
        encoding_for(profile.token_model)
        sentence_bank(profile.encoding)
        warm_heads(profile.encoding, min(profile.output_tokens_median, WARM_TOKENS))


def plan(request: ChatRequest, profile: Profile, seed: int,
         prompt_tokens: int | None = None, cached_tokens: int = 0) -> Plan:
    """The full answer to a cache miss: completion plus its pacing (``prompt_tokens``: the
    prompt's count when the caller took it already; ``cached_tokens``: its prefix-cache hit,
    which is not prefilled and is reported in usage)."""
    completion = plan_completion(request, profile, seed, prompt_tokens)
    if cached_tokens:
        completion = completion._replace(cached_tokens=cached_tokens)
    jitter = profile.ttft_jitter_s > 0 or profile.tps_jitter > 0
    timing = plan_timing(profile, completion.prompt_tokens - cached_tokens, len(completion.tokens),
                         rng_for(request.key, seed, "timing") if jitter else None)
    return Plan(completion, timing)
