"""Records travel to the master: suite.driver.inlocust.shipping over Locust's own messages.

Why Locust's worker↔master link (ZeroMQ, custom messages) and not a channel of our own: every
worker already holds it open to the master, through the one port a multi-host run must open
anyway (``--master-port``), in order per worker, and Locust already notices a worker that
vanished from it. A second port would mean a second firewall / Kubernetes Service rule and a
second way to fail. The window (suite.driver.inlocust.shipping) keeps batches from crowding out
Locust's heartbeats: at most ``window`` × 256 KiB in flight per worker.

Who ships: at ready, the worker tells the master its shard's path; the master answers
``llmsuite_ship`` on/off. Off when the worker's shard *is* the master's ``requests.w<i>.jsonl``
(same host, same folder: ``--processes``, where nothing needs to travel), or with
``LLMSUITE_SHIP=0``; on otherwise (another host, or another folder on this one).

The end of a run with shipping workers: the master does not quit Locust at once (a quitting
worker's message loop is busy stopping, so it could read no ack). It sends ``llmsuite_finish``;
each shipping worker stops its users (their last records are written, the cancelled ones too),
ships the rest of its shard and answers ``llmsuite_shipped`` with its final run meta; the master
waits for every worker (bounded: the stop timeout + ``DRAIN_S``; a worker lost meanwhile is not
waited for), then quits as before. Throughout the run each worker also sends its run meta every
``PROGRESS_S``, so a worker that vanishes is still described at the master (what it had sent,
flushed and shipped; suite.driver.control.collect).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent

from suite.driver.control.meta import write_meta_dict, write_run_meta
from suite.driver.inlocust.columnar import ColumnarMirror
from suite.driver.inlocust.columnar import enabled as columnar_enabled
from suite.driver.inlocust.shipping import ShardIn, Shipper, same_file
from suite.driver.inlocust.state import DriverState, shard_paths

MSG_SHIP = "llmsuite_ship"  # master → worker: {"on"}
MSG_BATCH = "llmsuite_batch"  # worker → master: a Batch.message
MSG_ACK = "llmsuite_ack"  # master → worker: {"seq"} (cumulative)
MSG_META = "llmsuite_meta"  # worker → master: {"index", "meta", "final", "bytes"}
MSG_FINISH = "llmsuite_finish"  # master → worker: stop, ship the rest, answer MSG_META final
ENV_SHIP = "LLMSUITE_SHIP"
PUMP_S = 0.1
PROGRESS_S = 1.0
DRAIN_S = 30.0


def shipping_enabled() -> bool:
    return os.environ.get(ENV_SHIP, "1").strip() not in ("0", "false", "no", "off")


class Hub:
    """The master's side: the shards it receives and what each worker last reported."""

    def __init__(self) -> None:
        self.shards: dict[int, ShardIn] = {}
        self.clients: dict[int, str] = {}
        self.final: dict[int, dict[str, Any]] = {}
        self.finishing = False


def ready_info(state: DriverState) -> dict[str, Any]:
    """What a worker adds to its ready message: where its shard is, on its host."""
    path = state.writer.path if state.writer is not None else None
    return {"path": str(path.resolve()) if path is not None else None}


def setup_master(environment: Any, state: DriverState) -> None:
    runner, hub = environment.runner, Hub()
    state.shipping = hub

    def on_batch(msg: Any, **_: Any) -> None:
        data = msg.data
        shard = hub.shards.get(int(data["index"]))
        if shard is not None:
            ack = shard.accept(int(data["seq"]), int(data["offset"]), data["data"], int(data["lines"]))
            runner.send_message(MSG_ACK, {"seq": ack}, client_id=msg.node_id)

    def on_meta(msg: Any, **_: Any) -> None:
        index = int(msg.data["index"])
        if index not in hub.shards:
            return
        write_meta_dict(shard_paths(state.config, index)[1], msg.data["meta"])
        if msg.data.get("final"):
            hub.final[index] = msg.data

    runner.register_message(MSG_BATCH, on_batch)
    runner.register_message(MSG_META, on_meta)


def on_ready(environment: Any, state: DriverState, msg: Any) -> None:
    """Master: worker ``index`` is ready; tell it whether to ship its shard here."""
    hub: Hub | None = state.shipping
    index, path = int(msg.data["index"]), msg.data.get("path")
    if hub is None or path is None:
        return
    own = shard_paths(state.config, index)[0]
    on = shipping_enabled() and not same_file(Path(path), own)
    if on:
        hub.shards[index] = _shard_in(own, state)
        hub.clients[index] = msg.node_id
    environment.runner.send_message(MSG_SHIP, {"on": on}, client_id=msg.node_id)


def _shard_in(path: Path, state: DriverState) -> ShardIn:
    """The master's copy of a worker's shard, with its columnar mirror as a local run has one
    (written at the batches' arrival, on the mirror's thread; suite.driver.inlocust.columnar)."""
    shard = ShardIn(path)
    if not columnar_enabled():
        return shard
    mirror = ColumnarMirror(path, state.meta.extra["cache_headers"]["allowlist"])

    def tap(data: bytes) -> None:
        mirror.add(data)  # whole batches: the mirror joins what it collected before parsing
        if mirror.due():
            mirror.ship()

    shard.tap = tap
    shard.on_close = lambda: mirror.close(shard.bytes, shard.records)
    return shard


def finish_then(environment: Any, state: DriverState, then: Callable[[], None]) -> bool:
    """Master: with shipping workers, end the run through the finish handshake, then ``then()``.
    False when no worker ships (the caller ends the run as before)."""
    hub: Hub | None = state.shipping
    if hub is None or not hub.shards:
        return False
    if hub.finishing:
        return True
    hub.finishing = True
    gevent.spawn(_finish, environment, state, hub, then)
    return True


def _finish(environment: Any, state: DriverState, hub: Hub, then: Callable[[], None]) -> None:
    runner = environment.runner
    for client_id in hub.clients.values():
        runner.send_message(MSG_FINISH, {}, client_id=client_id)
    stop_timeout = float(getattr(environment.parsed_options, "stop_timeout", 0) or 0)
    deadline = time.monotonic() + stop_timeout + DRAIN_S

    def waiting() -> list[int]:
        return [i for i, shard in hub.shards.items() if i not in state.lost_workers and not (
            i in hub.final and shard.bytes >= int(hub.final[i].get("bytes") or 0))]

    while waiting() and time.monotonic() < deadline:
        gevent.sleep(0.05)
    for shard in hub.shards.values():
        shard.close()
    state.meta.extra["shipping"] = {"channel": "locust messages",
                                    "workers": {str(i): s.stats() for i, s in hub.shards.items()},
                                    "not_drained": waiting()}
    then()


def setup_worker(environment: Any, state: DriverState) -> None:
    runner = environment.runner
    box: dict[str, Shipper] = {}

    def on_ship(msg: Any, **_: Any) -> None:
        if not msg.data.get("on") or state.writer is None or state.index is None or "s" in box:
            return
        box["s"] = Shipper(state.writer.path, state.index, lambda m: runner.send_message(MSG_BATCH, m))
        state.meta.extra["shipping"] = {"to": "master", "complete": False}
        gevent.spawn(_pump_loop, environment, state, box["s"])

    def on_ack(msg: Any, **_: Any) -> None:
        if "s" in box:
            box["s"].ack(int(msg.data["seq"]))

    def on_finish(msg: Any, **_: Any) -> None:
        if "s" in box:
            gevent.spawn(_drain, environment, state, box["s"])

    runner.register_message(MSG_SHIP, on_ship)
    runner.register_message(MSG_ACK, on_ack)
    runner.register_message(MSG_FINISH, on_finish)


def _pump_loop(environment: Any, state: DriverState, shipper: Shipper) -> None:
    last = 0.0
    while not shipper.draining:
        shipper.pump()
        if time.monotonic() - last >= PROGRESS_S and not state.meta.extra.get("final"):
            last = time.monotonic()
            state.meta.extra["shipping"].update(shipper.stats())
            state.meta.extra["reported_at"] = time.time()
            state.write_meta(final=False)
            _send_meta(environment, state, final=False)
        gevent.sleep(PUMP_S)


def _drain(environment: Any, state: DriverState, shipper: Shipper) -> None:
    """Stop the users (their last records are written), then ship the rest, bounded."""
    shipper.draining = True
    environment.runner.stop()
    writer = state.writer
    if writer is not None:
        writer.flush()
    if not state.meta.extra.get("final"):
        state.write_meta(final=True)
    size = writer.path.stat().st_size if writer is not None else 0
    deadline = time.monotonic() + DRAIN_S
    while not shipper.caught_up(size) and time.monotonic() < deadline:
        shipper.pump()
        gevent.sleep(0.02)
    state.meta.extra["shipping"].update(shipper.stats(), complete=shipper.caught_up(size))
    write_run_meta(state.meta_path, state.meta)
    _send_meta(environment, state, final=True, size=size)


def _send_meta(environment: Any, state: DriverState, *, final: bool, size: int | None = None) -> None:
    environment.runner.send_message(MSG_META, {"index": state.index, "meta": state.meta.to_dict(),
                                               "final": final, "bytes": size})
