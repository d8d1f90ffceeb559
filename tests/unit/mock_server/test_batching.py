"""The load model: validation, ITL scaling, the batch queue and the rate-limit buckets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mock_server.batching import (
    Batch,
    LoadModel,
    QueueFull,
    RateLimiter,
    duration_text,
    itl_scale,
    load_model,
    retry_headers,
)


def test_load_model_validates() -> None:
    assert load_model({"max_batch": 4, "load_factor": 2}) == LoadModel(max_batch=4, load_factor=2.0)
    assert load_model({"rpm": 60}) == LoadModel(rpm=60)


@pytest.mark.parametrize(
    ("raw", "message"),
    [({"max_batch": 0}, "max_batch: 0 is not valid (must be an integer >= 1)"),
     ({"max_batch": 2, "load_factor": 0.5},
      "load_factor: 0.5 is not valid (must be a number >= 1 (ITL multiplier at a full batch))"),
     ({"queue_limit": 3}, "load_factor and queue_limit need max_batch"),
     ({"rpn": 3}, "rpn: unknown field; known: max_batch, load_factor, queue_limit, rpm, tpm"),
     ([1], "[1] is not valid (must be a mapping of max_batch, load_factor, queue_limit, rpm, "
           "tpm)")],
)
def test_bad_load_is_named(raw: Any, message: str) -> None:
    with pytest.raises(ValueError) as err:
        load_model(raw)
    assert str(err.value) == message


@pytest.mark.parametrize(("batch", "scale"), [(1, 1.0), (3, 2.0), (5, 3.0)])
def test_itl_scale_ramps_to_the_load_factor(batch: int, scale: float) -> None:
    assert itl_scale(LoadModel(max_batch=5, load_factor=3.0), batch) == scale
    assert itl_scale(LoadModel(), batch) == 1.0


def test_batch_queues_fifo_and_refuses_beyond_the_queue_limit() -> None:
    async def scenario() -> tuple[list[int], int, int]:
        batch = Batch(max_batch=2, queue_limit=1)
        sizes = [await batch.acquire(), await batch.acquire()]
        waiter = asyncio.create_task(batch.acquire())
        await asyncio.sleep(0)
        assert batch.queued == 1
        with pytest.raises(QueueFull):
            await batch.acquire()
        batch.release()  # hands the slot to the waiter: the batch stays full
        sizes.append(await waiter)
        return sizes, batch.active, batch.queued

    assert asyncio.run(scenario()) == ([1, 2, 2], 2, 0)


def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async def scenario() -> tuple[int, int]:
        batch = Batch(max_batch=1, queue_limit=None)
        await batch.acquire()
        waiter = asyncio.create_task(batch.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        batch.release()
        return batch.active, batch.queued

    assert asyncio.run(scenario()) == (0, 0)


def test_rate_limiter_charges_refills_and_reports() -> None:
    limiter = RateLimiter(rpm=2, tpm=1000, now=0.0)
    assert limiter.check(0.0, 100)[0] == 0
    wait, headers = limiter.check(0.0, 100)
    assert wait == 0
    assert headers == {"x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "0",
                       "x-ratelimit-reset-requests": "1m0s", "x-ratelimit-limit-tokens": "1000",
                       "x-ratelimit-remaining-tokens": "800", "x-ratelimit-reset-tokens": "12s"}
    wait, _ = limiter.check(0.0, 100)
    assert wait == pytest.approx(30.0)  # one request refills in 60 / 2 s
    assert limiter.check(30.0, 100)[0] == 0
    wait, _ = RateLimiter(None, 1000, 0.0).check(0.0, 1500)
    assert wait == float("inf")  # more than a minute's budget: never fits


def test_retry_and_duration_formats() -> None:
    assert retry_headers(0.2) == {"Retry-After": "1", "retry-after-ms": "200"}
    assert retry_headers(2.5) == {"Retry-After": "3", "retry-after-ms": "2500"}
    assert (duration_text(1.5), duration_text(360)) == ("1.5s", "6m0s")
