"""The environment-variable contract between the runner (parent) and the locustfile (child).

The runner launches Locust as a subprocess (Locust gevent-patches whatever process imports it), so
its settings cross the process boundary as environment variables. Both sides use this module: the
names are defined once. The API key travels only here — it is never written to any file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from suite.driver.control.loadopts import LoadOptions
from suite.driver.control.requestopts import RequestOptions
from suite.driver.exchange.targets import default_path
from suite.errors import SpecError

ENV_CORPUS = "LLMSUITE_CORPUS"
ENV_OUT = "LLMSUITE_OUT"
ENV_RUN_META = "LLMSUITE_RUN_META"
ENV_RUN_ID = "LLMSUITE_RUN_ID"
ENV_TARGET_PATH = "LLMSUITE_TARGET_PATH"
ENV_API_KEY = "LLMSUITE_API_KEY"
ENV_TIMEOUT = "LLMSUITE_TIMEOUT_S"
ENV_TTFT_TIMEOUT = "LLMSUITE_TTFT_TIMEOUT_S"
ENV_DURATION = "LLMSUITE_DURATION_S"
ENV_SPAWN_RATE = "LLMSUITE_SPAWN_RATE"
ENV_LOAD = "LLMSUITE_LOAD"  # LoadOptions as JSON (suite.driver.control.loadopts)
ENV_REQUEST = "LLMSUITE_REQUEST"  # RequestOptions as JSON (may hold credential headers: env only)

DEFAULT_TARGET_PATH = "/v1/chat/completions"
DEFAULT_TIMEOUT_S = 120.0  # --timeout: send → last byte of one request (the suite's value since 0.1)


@dataclass(frozen=True)
class DriverConfig:
    """What the locustfile needs to replay a corpus and log every request."""

    corpus: Path
    out: Path
    run_meta: Path
    run_id: str
    target_path: str = DEFAULT_TARGET_PATH
    api_key: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    duration_s: float | None = None
    spawn_rate: float | None = None
    load: LoadOptions = field(default_factory=LoadOptions)
    request: RequestOptions = field(default_factory=RequestOptions)
    ttft_timeout_s: float | None = None  # --ttft-timeout: send → first content; None = off

    def __post_init__(self) -> None:
        for option, value in (("--timeout", self.timeout_s), ("--ttft-timeout", self.ttft_timeout_s)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise SpecError(f"{option}: {value} is not valid (must be > 0 seconds, e.g. 30).")
        if self.ttft_timeout_s is not None and self.ttft_timeout_s > self.timeout_s:
            raise SpecError(f"--ttft-timeout: {self.ttft_timeout_s:g} s is longer than --timeout "
                            f"{self.timeout_s:g} s, which would always fire first; lower it or "
                            f"raise --timeout.")

    def to_env(self) -> dict[str, str]:
        env = {ENV_CORPUS: str(self.corpus), ENV_OUT: str(self.out), ENV_RUN_META: str(self.run_meta),
               ENV_RUN_ID: self.run_id, ENV_TARGET_PATH: self.target_path,
               ENV_TIMEOUT: repr(self.timeout_s)}
        if self.api_key:
            env[ENV_API_KEY] = self.api_key
        if self.ttft_timeout_s is not None:
            env[ENV_TTFT_TIMEOUT] = repr(self.ttft_timeout_s)
        if self.duration_s is not None:
            env[ENV_DURATION] = repr(self.duration_s)
        if self.spawn_rate is not None:
            env[ENV_SPAWN_RATE] = repr(self.spawn_rate)
        if self.load != LoadOptions():
            env[ENV_LOAD] = self.load.to_json()
        if self.request != RequestOptions():
            env[ENV_REQUEST] = self.request.to_json()
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DriverConfig:
        missing = [k for k in (ENV_CORPUS, ENV_OUT) if not env.get(k)]
        if missing:
            raise SpecError(f"the driver's locustfile needs {' and '.join(missing)} in its "
                            f"environment; start runs with `llmsuite run` or suite.driver.run_load.")
        out = Path(env[ENV_OUT])
        request = RequestOptions.from_json(env[ENV_REQUEST]) if env.get(ENV_REQUEST) else RequestOptions()
        path = env.get(ENV_TARGET_PATH) or request.path or default_path(request.kind)
        if not path.startswith("/"):
            raise SpecError(f"{ENV_TARGET_PATH}={path!r} must start with '/', "
                            f"e.g. {DEFAULT_TARGET_PATH}")
        return cls(
            corpus=Path(env[ENV_CORPUS]), out=out,
            run_meta=Path(env.get(ENV_RUN_META) or out.with_name("run.json")),
            run_id=env.get(ENV_RUN_ID) or out.parent.name, target_path=path,
            api_key=env.get(ENV_API_KEY) or None,
            timeout_s=_float(env, ENV_TIMEOUT, DEFAULT_TIMEOUT_S),
            ttft_timeout_s=_float(env, ENV_TTFT_TIMEOUT, None),
            duration_s=_float(env, ENV_DURATION, None), spawn_rate=_float(env, ENV_SPAWN_RATE, None),
            load=LoadOptions.from_json(env[ENV_LOAD]) if env.get(ENV_LOAD) else LoadOptions(),
            request=request,
        )


def _float(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SpecError(f"{name}={raw!r} is not a number.") from None
    if value <= 0:
        raise SpecError(f"{name}={raw!r} must be > 0.")
    return value
