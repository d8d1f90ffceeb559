"""Plan a response — h11 style: no I/O, no clock. The route only sleeps and writes what this says.

``plan(request, profile, seed)`` is a pure function of (normalized request, profile, seed): the same
request always gets the same text, length and delays. Three independent random streams (length,
text, timing) are derived from sha256(seed, cache key, stream name) so that, e.g., changing a
profile's speed never changes the text, and no global ``random`` is ever touched.

Token ids and chunk strings are real: the text is sentences of the model's tiktoken encoding
(pre-tokenized once, see textbank.py) and each streamed chunk is one token decoded, so
``"".join(chunks) == encoding.decode(tokens)``. Only the rngs a profile needs are created (seeding
a Random costs ~7 us; the text uses sha256-derived picks instead).

Capacity rule (a MISS must stay cheap): the text of a request is one of ``TEXT_VARIANTS`` texts
per (encoding, length), chosen by sha256(seed, key); each variant's head is composed once and
kept (and recent slices of it shared), so a miss usually costs a cached slice instead of composing
sentences. Prompt tokens are
counted like ``suite.tokens.count_chat_tokens`` with the length of short strings (roles, system
prompts, repeated questions) memoized.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable, Iterator
from functools import cache, lru_cache
from itertools import count
from typing import NamedTuple

from mock_server.config import Profile
from mock_server.request import ChatRequest
from mock_server.textbank import SentenceBank, compose, extend, sentence_bank
from suite.tokens import encoding_for, get_encoding

TEXT_VARIANTS = 4096  # distinct texts per (encoding, length): collisions are rare, caching works
MEMO_MAX_CHARS = 2048  # longer strings are counted each time (bounds the memo's memory)
MEMO_MAX_TOKENS = 256  # longer texts are composed each time (bounds the kept heads' memory)
WARM_TOKENS = 32  # heads composed at start-up up to this length


class Completion(NamedTuple):
    """What a cache stores: everything needed to answer again byte-identically (a NamedTuple:
    one is built per MISS, and a frozen dataclass costs twice as much to create)."""

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


class Plan(NamedTuple):
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


def text_variant(key: str, seed: int) -> int:
    """Which text a request gets. The key is already sha256 hex (uniform), so its first 8 hex
    digits, scrambled by the seed, pick the variant without hashing again."""
    return (int(key[:8], 16) ^ (seed * 0x9E3779B1)) % TEXT_VARIANTS


class _Head:
    """The tokens of one text variant composed so far, and where its picks stand. Held as
    tuples of ints and strs, which the cyclic GC stops tracking: thousands of kept heads cost
    no collection time."""

    __slots__ = ("chunks", "picks", "tokens")

    def __init__(self, variant: int) -> None:
        self.tokens: tuple[int, ...] = ()
        self.chunks: tuple[str, ...] = ()
        self.picks = picks_for(str(variant), 0, "text")

    def grow(self, n: int, bank: SentenceBank) -> None:
        tokens, chunks = list(self.tokens), list(self.chunks)
        extend(tokens, chunks, n, bank, self.picks)
        self.tokens, self.chunks = tuple(tokens), tuple(chunks)


_heads: dict[tuple[str, int], _Head] = {}  # at most TEXT_VARIANTS per encoding, <= ~4 KB each


def composed(encoding: str, n: int, variant: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The first ``n`` tokens of text variant ``variant`` (texts of one variant are prefixes of
    each other, whatever ``n``). Each variant's head is kept and only ever extended, up to
    ``MEMO_MAX_TOKENS``, and recent (length, variant) slices of it are kept too: answers of the
    same length and variant share one pair of tuples, so making (and, once the response cache
    evicts it, freeing) a completion touches two objects instead of every token and chunk. A long
    answer is composed each time — it is paced, so its CPU cost is spread anyway."""
    if n > MEMO_MAX_TOKENS:
        tokens, chunks = compose(n, sentence_bank(encoding), picks_for(str(variant), 0, "text"))
        return tuple(tokens), tuple(chunks)
    return _head_slice(encoding, n, variant)


@lru_cache(maxsize=2 * TEXT_VARIANTS)
def _head_slice(encoding: str, n: int, variant: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    head = _grown(encoding, n, variant)
    return head.tokens[:n], head.chunks[:n]


def _grown(encoding: str, n: int, variant: int) -> _Head:
    """The variant's head, at least ``n`` tokens long."""
    head = _heads.get((encoding, variant))
    if head is None:
        head = _heads[(encoding, variant)] = _Head(variant)
    if len(head.tokens) < n:
        head.grow(n, sentence_bank(encoding))
    return head


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


def plan_completion(request: ChatRequest, profile: Profile, seed: int) -> Completion:
    length_rng = rng_for(request.key, seed, "length") if profile.output_tokens_spread else None
    n, finish = draw_length(profile, request.max_tokens, length_rng)
    tokens, chunks = composed(profile.encoding, n, text_variant(request.key, seed))
    kept = cut_at_stop(chunks, request.stop)
    if kept is not None:
        tokens, chunks, finish = tokens[:kept], chunks[:kept], "stop"
    prompt = (chat_prompt_tokens(request.messages, profile.encoding) if request.prompt is None
              else text_tokens(profile.encoding, request.prompt))
    return Completion(tokens, chunks, finish, prompt)


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
    ~0.5 s for them; and compose every text variant's head up to the profile's median length
    (at most WARM_TOKENS: ~0.1 s per encoding), so the first thousands of misses cost what later
    ones do (a head only grows, so longer answers extend it as they come)."""
    for profile in profiles:
        encoding_for(profile.token_model)
        sentence_bank(profile.encoding)
        n = min(profile.output_tokens_median, WARM_TOKENS)
        for variant in range(TEXT_VARIANTS):
            _grown(profile.encoding, n, variant)


def plan(request: ChatRequest, profile: Profile, seed: int) -> Plan:
    """The full answer to a cache miss: completion plus its pacing."""
    completion = plan_completion(request, profile, seed)
    jitter = profile.ttft_jitter_s > 0 or profile.tps_jitter > 0
    timing = plan_timing(profile, completion.prompt_tokens, len(completion.tokens),
                         rng_for(request.key, seed, "timing") if jitter else None)
    return Plan(completion, timing)
