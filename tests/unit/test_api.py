"""The thin layers: option parsing, scenario lookup, and stage failures that name their stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from suite import api
from suite.cli import cli
from suite.cli.common import parse_models
from suite.errors import CorpusError, SpecError


def test_parse_models_equal_and_explicit_weights() -> None:
    assert parse_models("gpt-4o,gpt-5-mini") == {"gpt-4o": 1.0, "gpt-5-mini": 1.0}
    assert parse_models("gpt-4o:3, gpt-5-mini:1") == {"gpt-4o": 3.0, "gpt-5-mini": 1.0}
    assert parse_models(None) is None


def test_parse_models_bad_weight_says_how() -> None:
    with pytest.raises(SpecError) as err:
        parse_models("gpt-4o:lots")
    assert str(err.value) == ("--models: 'gpt-4o:lots' has a bad name or weight (use name or name:weight "
                              "with a weight > 0, e.g. gpt-4o:3,gpt-5-mini:1).")


def test_unknown_scenario_lists_known_ones() -> None:
    with pytest.raises(SpecError) as err:
        api.resolve_scenario("ops-asistant")
    assert str(err.value).startswith("unknown scenario 'ops-asistant'; known: ")
    assert "ops-assistant" in str(err.value)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=f"scenario file {tmp_path}/x.yaml does not exist"):
        api.resolve_scenario(tmp_path / "x.yaml")


def test_a_failing_stage_is_named_and_keeps_its_exit_code() -> None:
    timings: dict[str, float] = {}
    with pytest.raises(api.DemoError) as err, api._stage("run", api.DemoUI(), timings):
        raise CorpusError("corpus.jsonl:3: not valid JSON")
    assert str(err.value) == "demo failed at stage 'run': corpus.jsonl:3: not valid JSON"
    assert err.value.exit_code == CorpusError.exit_code
    assert timings == {}


def test_an_unexpected_failure_still_names_its_stage() -> None:
    with pytest.raises(api.DemoError) as err, api._stage("analyze", api.DemoUI(), {}):
        raise ValueError("boom")
    assert str(err.value) == "demo failed at stage 'analyze': ValueError: boom"
    assert err.value.exit_code == 1


def test_cli_error_is_one_line_with_exit_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "-s", "nope", "-o", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 2
    assert "Error: unknown scenario 'nope'" in result.output
    assert "Traceback" not in result.output


def test_cli_synth_writes_corpus_and_reports_ratios(tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    result = CliRunner().invoke(cli, ["synth", "--n", "50", "--repeat-ratio", "0.2", "--seed", "3",
                                          "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "repeat ratio: requested 0.200, achieved 0.200" in result.output
    assert len(out.read_text().splitlines()) == 50


def test_run_takes_a_target_whole(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``api.run`` with a Target hands the driver its URL, key, request options, timeouts, health
    check and redacted description, and the monitor its auth headers (both replaced: no Locust)."""
    import contextlib

    from suite import monitor
    from suite.driver.control import runner
    from suite.driver.control.requestopts import RequestOptions
    from suite.driver.control.target import Target

    seen: dict[str, object] = {}

    def run_load(corpus, url, out, users, spawn_rate, duration, **kw):  # noqa: ANN001, ANN003, ANN202
        seen.update(url=url, **kw)
        raise SpecError("stop here")

    @contextlib.contextmanager
    def monitor_target(url, interval, out, fetch=None, headers=None):  # noqa: ANN001, ANN202
        seen["monitor"] = (url, headers)
        yield monitor.Monitoring(None, "off")

    monkeypatch.setattr(runner, "run_load", run_load)
    monkeypatch.setattr(monitor, "monitor_target", monitor_target)
    request = RequestOptions(headers=(("X-Team", "blue"),), cache_detect="none")
    target = Target("http://gw:4000", request, api_key="sk-1", health_path="/ready", health_method="HEAD",
                    timeout_s=30.0, ttft_timeout_s=4.0, preset="litellm")
    with pytest.raises(SpecError, match="stop here"):
        api.run(tmp_path / "c.jsonl", target, tmp_path)
    assert seen["url"] == "http://gw:4000" and seen["api_key"] == "sk-1" and seen["timeout_s"] == 30.0
    assert seen["options"] == {"request": request, "ttft_timeout_s": 4.0}
    load = seen["load"]
    assert (load.health_path, load.health_method) == ("/ready", "HEAD")  # type: ignore[attr-defined]
    assert seen["target_meta"] == target.describe() and "sk-1" not in str(seen["target_meta"])
    assert seen["monitor"] == ("http://gw:4000", {"X-Team": "blue", "Authorization": "Bearer sk-1"})
    with pytest.raises(SpecError, match="the Target already says api_key"):
        api.run(tmp_path / "c.jsonl", target, tmp_path, api_key="other")
