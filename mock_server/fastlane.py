"""The zero-delay lane of ``POST /v1/chat/completions``: decide and build the answer in one
synchronous pass when nothing in it can wait.

Why: with the ``instant`` profile the mock's own Python work per request *is* its capacity, and
the general flow (chat.py → engine.py → send.py) spends a good part of it on what a zero-delay
answer never needs — fault draws, timing plans, pacing, batch slots, awaiting a cache. This lane
takes a request only when all of that is provably absent, and otherwise returns None so the
general flow answers (and words any error) as before:

* the app has no timing log, no ``normalize`` mode and an in-process cache (memory, or none);
* the model's profile is zero-delay on both paths (no TTFT, infinite tokens/s, no jitter, no
  hit overhead), has no fault table and no load model (``lane_profiles``);
* the request carries no ``X-Mock-Fault`` header and is a plain one (``simple_request``).

What it answers is byte for byte what the general flow answers (same builders, same headers,
same cache writes and metrics; a unit test compares the two), only cheaper.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import orjson
from aiohttp import web

from mock_server.config import Profile
from mock_server.engine import FAULT_HEADER, HIT, MISS, OFF
from mock_server.plan import plan_completion
from mock_server.request import simple_request
from mock_server.responses import ChunkEvents, completion_body, new_response_id
from mock_server.send import JSON_HEADERS, SSE_HEADERS, answer_headers, whole_stream
from mock_server.state import AppState


def zero_delay(profile: Profile) -> bool:
    """Every answer of this profile, hit or miss, is due at once and can never fault or wait."""
    return (profile.ttft_base_s == 0 and profile.prefill_s_per_token == 0
            and profile.ttft_jitter_s == 0 and math.isinf(profile.tokens_per_s)
            and profile.hit_overhead_s == 0 and not profile.faults and profile.load is None)


def lane_profiles(profiles: Mapping[str, Profile]) -> frozenset[str]:
    return frozenset(name for name, profile in profiles.items() if zero_delay(profile))


def fast_chat(request: web.Request, st: AppState, raw: bytes, t0: float) -> web.Response | None:
    """The answer to a zero-delay chat request, or None when the general flow must decide."""
    if FAULT_HEADER in request.headers:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    chat = simple_request(obj, st.config.profiles) if type(obj) is dict else None
    if chat is None or chat.model not in st.lane:
        return None
    engine, metrics = st.engine, st.metrics
    memory, cached = engine.memory, None
    if memory is not None:
        cached = memory.get_now(chat.key)
        engine.count_lookup(cached)
    if cached is not None:
        completion, cache = cached, HIT
    else:
        completion = plan_completion(chat, st.config.profiles[chat.model], st.config.seed)
        cache = OFF if memory is None else MISS
        if memory is not None:
            memory.put_now(chat.key, completion)
    hit = cache == HIT
    rid, created = new_response_id("chatcmpl"), int(time.time())
    if chat.stream:
        body = whole_stream(ChunkEvents(rid, created, chat.model), completion, chat.include_usage,
                            hit)
        kind = SSE_HEADERS
    else:
        body = completion_body(rid, created, chat.model, completion, hit)
        kind = JSON_HEADERS
    headers = answer_headers(request, kind, chat.key, cache)
    resp = web.Response(body=body, headers=headers)
    done = st.clock() - t0
    metrics.answered(chat.model, 200, cache)
    if chat.stream:
        metrics.first_token(chat.model, cache, done)
    metrics.served(chat.model, cache, done, completion.prompt_tokens, len(completion.tokens))
    return resp
