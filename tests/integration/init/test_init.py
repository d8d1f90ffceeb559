"""``llmsuite init`` against two independent targets: it must name each one's kind, streaming, auth
and cache signal right, write files ``run`` takes unchanged, and a run from them must attribute
cache hits as the server itself counted them."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import yaml

from tests.integration.init.conftest import KEY, KEY_ENV, llmsuite, output
from tests.integration.init.servers import AcmeState


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for shard in sorted(run_dir.glob("requests*.jsonl"))
            for line in shard.read_text().splitlines() if line.strip()]


def test_init_reads_an_openai_style_gateway_and_a_run_from_its_files_counts_hits_right(
        acme: tuple[str, AcmeState], tmp_path: Path) -> None:
    url, state = acme
    out = tmp_path / "proj"
    proc = llmsuite("init", "--target", url + "/v1", "--api-key-env", KEY_ENV, "--out", str(out), "--yes",
                    key=KEY)
    assert proc.returncode == 0, output(proc)
    target = _yaml(out / "target.yaml")
    assert target["url"] == url
    assert (target["kind"], target["path"]) == ("openai-chat", "/v1/chat/completions")
    assert (target["api_key_env"], target["api_key_header"]) == (KEY_ENV, "Authorization")
    assert target["cache_detect"] == "present:x-acme-cache"  # not the per-request X-Trace-Id / X-Backend-Ms
    assert target["stream_end"] == "done" and target["health_path"] == "/healthz"
    assert "usage in stream" in proc.stdout and "yes (stream_options.include_usage)" in proc.stdout
    assert "key needed" in proc.stdout and "without a key: HTTP 401" in proc.stdout
    scenario = _yaml(out / "scenario.yaml")
    assert scenario["stream"] is True and set(scenario["models"]) == {"acme-large", "acme-small"}
    for path in out.iterdir():
        assert KEY not in path.read_text(), path.name  # the key is named, never written

    corpus = tmp_path / "corpus.jsonl"
    proc = llmsuite("synth", "-s", str(out / "scenario.yaml"), "--n", "30", "--repeat-ratio", "0.5",
                    "--seed", "3", "-o", str(corpus))
    assert proc.returncode == 0, output(proc)
    state.served.clear()
    proc = llmsuite("run", "--target-file", str(out / "target.yaml"), "-c", str(corpus), "-u", "2",
                    "-d", "60", "--out", str(tmp_path), "--run-id", "r", "--no-analyze", key=KEY)
    assert proc.returncode == 0, output(proc)
    recs = _records(tmp_path / "r")
    assert len(recs) == 30 and all(r["ok"] for r in recs)
    by_id = {s.request_id: s.hit for s in state.served if s.request_id}
    assert [r["cache"] for r in recs] == ["hit" if by_id[r["id"]] else "miss" for r in recs]
    assert sum(r["cache"] == "hit" for r in recs) == sum(by_id[r["id"]] for r in recs) > 0


def test_init_reads_a_json_engine_without_auth_or_cache(
        engine: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    url, requests = engine
    proc = llmsuite("init", "-t", url, "--out", str(tmp_path), "--yes")
    assert proc.returncode == 0, output(proc)
    target = _yaml(tmp_path / "target.yaml")
    assert (target["kind"], target["path"], target["text_field"]) == ("engine", "/api/chat", "response")
    assert target["cache_detect"] == "none" and target["health_path"] == "/health"
    assert "api_key_env" not in target and "stream_end" not in target
    assert "no cache signal found" in proc.stdout
    assert "no key needed" in proc.stdout
    assert "answers whole" in proc.stdout
    assert _yaml(tmp_path / "scenario.yaml")["stream"] is False
    assert requests and all(set(r) >= {"message", "session_id"} for r in requests)
    assert len(requests) <= 8  # bounded: a handful of requests

    corpus = tmp_path / "corpus.jsonl"
    proc = llmsuite("synth", "-s", str(tmp_path / "scenario.yaml"), "--n", "10", "-o", str(corpus))
    assert proc.returncode == 0, output(proc)
    proc = llmsuite("run", "--target-file", str(tmp_path / "target.yaml"), "-c", str(corpus), "-u", "2",
                    "-d", "60", "--out", str(tmp_path), "--run-id", "r", "--no-analyze")
    assert proc.returncode == 0, output(proc)
    recs = _records(tmp_path / "r")
    assert len(recs) == 10 and all(r["ok"] and r["cache"] is None for r in recs)


def test_init_names_the_url_and_the_fix_when_nothing_listens(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = llmsuite("init", "-t", f"http://127.0.0.1:{port}", "--out", str(tmp_path), "--yes", timeout=30)
    assert proc.returncode == 4, output(proc)
    assert f"cannot reach http://127.0.0.1:{port}" in proc.stderr and "check the URL" in proc.stderr
    assert "Traceback" not in proc.stderr and not list(tmp_path.iterdir())


def test_init_says_a_key_is_wanted_and_keeps_existing_files(acme: tuple[str, AcmeState],
                                                            tmp_path: Path) -> None:
    url, _ = acme
    proc = llmsuite("init", "-t", url, "--out", str(tmp_path), "--yes")
    assert proc.returncode == 4, output(proc)
    assert "wants a key" in proc.stderr and "--api-key-env" in proc.stderr
    (tmp_path / "slo.yaml").write_text("name: mine\nchecks: ['e2e.p95 < 1']\n")
    proc = llmsuite("init", "-t", url, "--api-key-env", KEY_ENV, "--out", str(tmp_path), "--yes", key=KEY)
    assert proc.returncode == 2 and "--force" in proc.stderr, output(proc)
    proc = llmsuite("init", "-t", url, "--api-key-env", KEY_ENV, "--out", str(tmp_path), "--force",
                    key=KEY, stdin="n\n")
    assert proc.returncode == 1 and "nothing written" in proc.stdout, output(proc)
    assert (tmp_path / "slo.yaml").read_text().startswith("name: mine")


def test_init_finds_a_gateways_own_key_header_and_names_its_preset(tmp_path: Path) -> None:
    """The issue-14 test gateway in portkey mode reads the key only from x-portkey-api-key: the
    Bearer try is refused (and so is the model list), the other headers are tried, the list is read
    again with the one that worked, and the cache header names the preset."""
    from tests.integration.gateway.serve import GatewayThread
    from tests.integration.gateway.server import GatewayConfig

    gw = GatewayThread(GatewayConfig(mode="portkey", bearer=False, api_key=KEY)).start()
    try:
        proc = llmsuite("init", "-t", gw.url, "--api-key-env", KEY_ENV, "--out", str(tmp_path), "--yes",
                        key=KEY)
    finally:
        gw.stop()
    assert proc.returncode == 0, output(proc)
    target = _yaml(tmp_path / "target.yaml")
    assert (target["api_key_header"], target["preset"]) == ("x-portkey-api-key", "portkey")
    assert target["cache_detect"] == "header:x-portkey-cache-status"
    assert set(_yaml(tmp_path / "scenario.yaml")["models"]) == {"gpt-4o", "gpt-5-mini"}
