"""Sweep option checks, what sweep.json records of the plan, and step errors; no sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suite.errors import SpecError


def test_sweep_option_errors() -> None:
    from suite.sweep.run import StepPlan, sweep_cache, sweep_load

    plan = StepPlan(out=Path("unused"))
    with pytest.raises(SpecError, match=r"--ratios: \[1.0\] must be one or more repetition ratios"):
        sweep_cache(plan, [1.0])
    with pytest.raises(SpecError, match="give exactly one of --users"):
        sweep_load(plan, users=[1], rates=[2.0])


def test_the_api_key_never_reaches_sweep_json() -> None:
    from suite.driver.control.requestopts import RequestOptions
    from suite.driver.control.target import Target
    from suite.sweep.run import StepPlan, _header

    target = Target("http://gw:4000", RequestOptions(headers=(("X-Gateway-Token", "gw-secret-456"),)),
                    api_key="sk-secret-123", preset="litellm")
    plan = StepPlan(out=Path("x"), target=target)
    header = _header("cache", plan, [0.0])
    assert "sk-secret" not in json.dumps(header) and "gw-secret" not in json.dumps(header)
    assert "sk-secret" not in repr(plan)
    assert header["settings"]["profiles"].endswith("models.yaml")
    assert header["target"] == "http://gw:4000"
    assert header["settings"]["target"]["preset"] == "litellm"
    assert header["settings"]["target"]["api_key"] == "<redacted>"


def test_a_url_or_mock_string_still_makes_a_plan() -> None:
    from suite.sweep.run import StepPlan

    assert StepPlan(out=Path("x"), target="mock").uses_mock  # type: ignore[arg-type]
    plan = StepPlan(out=Path("x"), target="http://h:1/")  # type: ignore[arg-type]
    assert not plan.uses_mock and plan.target is not None and plan.target.url == "http://h:1"


def test_a_failed_step_is_named_and_keeps_its_exit_code() -> None:
    from suite.errors import TargetError
    from suite.sweep.run import StepError, _naming

    with pytest.raises(StepError, match=r"^step 'ratio-0.5' failed: cannot reach target$") as info, \
            _naming("ratio-0.5"):
        raise TargetError("cannot reach target")
    assert info.value.exit_code == TargetError.exit_code
