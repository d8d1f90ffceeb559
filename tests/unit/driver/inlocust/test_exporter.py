"""The Prometheus exporter counts what the records say, and at exit waits for one scrape of its
final values (bounded)."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import generate_latest

from suite.driver.inlocust.exporter import DriverMetrics

pytestmark = pytest.mark.filterwarnings("ignore::suite.models.UnknownModelWarning")


def test_the_exporter_counts_what_the_records_say() -> None:
    metrics = DriverMetrics("vm:1")
    from suite.records import RequestRecord

    ok = RequestRecord(id="a", model="m", target="t", worker="vm:1", user=0, t_start=10.0,
                       scheduled=9.99, ttft=0.1, e2e=0.2, completion_tokens=4, prompt_tokens=3, ok=True,
                       cache="hit")
    bad = RequestRecord(id="b", model="m", target="t", worker="vm:1", user=0, t_start=10.0,
                        e2e=0.01, error={"kind": "http_503", "message": "x"})
    metrics.observe(ok)
    metrics.observe(bad)
    metrics.set_in_flight(3)
    text = generate_latest(metrics.registry).decode()
    for line in ('llmsuite_requests_total{model="m",outcome="ok",worker="vm:1"} 1.0',
                 'llmsuite_requests_total{model="m",outcome="http_503",worker="vm:1"} 1.0',
                 'llmsuite_ttft_seconds_count{model="m",worker="vm:1"} 1.0',
                 'llmsuite_e2e_seconds_count{model="m",worker="vm:1"} 2.0',
                 'llmsuite_tokens_total{kind="completion",model="m",worker="vm:1"} 4.0',
                 'llmsuite_cache_total{model="m",status="hit",worker="vm:1"} 1.0',
                 'llmsuite_cache_total{model="m",status="unknown",worker="vm:1"} 1.0',
                 'llmsuite_in_flight{worker="vm:1"} 3.0',
                 'llmsuite_schedule_lag_seconds_count{worker="vm:1"} 1.0'):
        assert line in text, line


def test_registering_the_scrape_counter_is_not_a_scrape_and_every_scrape_counts_once() -> None:
    metrics = DriverMetrics("vm:1")
    assert metrics.scrapes.count == 0
    generate_latest(metrics.registry)
    generate_latest(metrics.registry)
    assert metrics.scrapes.count == 2


def test_linger_ends_once_a_scrape_has_read_the_final_values() -> None:
    metrics = DriverMetrics("vm:1")
    generate_latest(metrics.registry)  # a scrape before the exit does not count
    scraper = threading.Timer(0.1, generate_latest, args=(metrics.registry,))
    scraper.start()
    started = time.monotonic()
    assert metrics.linger(5.0, poll_s=0.01) is True
    assert time.monotonic() - started < 4.0  # ended by the scrape, not by the limit
    scraper.join()


def test_linger_gives_up_at_its_limit_when_nobody_scrapes() -> None:
    metrics = DriverMetrics("vm:1")
    started = time.monotonic()
    assert metrics.linger(0.2, poll_s=0.01) is False
    assert time.monotonic() - started >= 0.2
