"""Bad input through the real ``llmsuite`` commands: every case exits 2 (docs/cli.md) with a message
naming the input and the bad value — never 70 (an internal error) and never a traceback.

Cases: numeric options out of range (0, negatives, NaN, inf, ports), a target URL with a bad port,
a ``--run-id`` that is a path, files that are not UTF-8 (SLO, scenario, import, corpus), and corpus
lines whose fields have the wrong type or range, read by every command that reads a corpus (run,
corpus stats, swap, sweep load -c). Commands run in-process through click's ``CliRunner``; none of
these cases gets as far as sending a request (the target is a closed loopback port).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from suite import api
from suite.cli import cli

DEAD = "http://127.0.0.1:9"  # never reached: every case fails before any request


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good corpus, one bad corpus per field case, and files that are not UTF-8."""
    root = tmp_path_factory.mktemp("bad_input")
    good = api.synthesize("ops-assistant", root / "good.jsonl", n=4, seed=1).corpus
    first = orjson.loads(good.read_bytes().splitlines()[0])
    for name, (field, value) in FIELD_CASES.items():
        bad = orjson.dumps(first) + b"\n" + orjson.dumps({**first, field: value}) + b"\n"
        (root / f"{name}.jsonl").write_bytes(bad)
    (root / "latin1.yaml").write_bytes("name: caf\xe9\nchecks: []\n".encode("latin-1"))
    (root / "latin1.csv").write_bytes("prompt\ncaf\xe9 ol\xe9\n".encode("latin-1"))
    (root / "latin1.jsonl").write_bytes(b'{"id": "caf\xe9"}\n')
    return root


FIELD_CASES = {
    "id-list": ("id", ["a"]),
    "messages-ints": ("messages", [1, 2]),
    "model-int": ("model", 42),
    "stream-yes": ("stream", "yes"),
    "max-tokens-zero": ("max_tokens", 0),
    "temperature-high": ("temperature", 9),
    "t-negative": ("t", -2),
}
FIELD_MESSAGES = {
    "id-list": 'id: ["a"] is not valid (must be a non-empty string)',
    "messages-ints": "messages: [1,2] is not valid (must be a non-empty list of",
    "model-int": "model: 42 is not valid (must be a non-empty model name)",
    "stream-yes": 'stream: "yes" is not valid (must be true or false)',
    "max-tokens-zero": "max_tokens: 0 is not valid (must be an integer >= 1)",
    "temperature-high": "temperature: 9 is not valid (must be a number in [0, 2])",
    "t-negative": "t: -2 is not valid (must be seconds >= 0, or null (closed loop))",
}

RUN = ["run", "-c", "{dir}/good.jsonl", "-t", DEAD, "--out", "{dir}/reports", "--monitor-interval", "0"]
# (argv with {dir} for the files folder, the message it must print)
OPTION_CASES: dict[str, tuple[list[str], str]] = {
    "run -d 0": ([*RUN, "-d", "0"], "Invalid value for '--duration' / '-d': '0' must be a duration > 0"),
    "run -u 0": ([*RUN, "-u", "0"], "Invalid value for '--users' / '-u': 0 is not in the range x>=1."),
    "run -u -3": ([*RUN, "-u", "-3"], "Invalid value for '--users' / '-u': -3 is not in the range x>=1."),
    "run --abort-window 0s": ([*RUN, "--abort-window", "0s"],
                              "Invalid value for '--abort-window': '0s' must be a duration > 0"),
    "run --health-interval 0": ([*RUN, "--health-interval", "0"],
                                "Invalid value for '--health-interval': '0' must be a duration > 0"),
    "run -r nan": ([*RUN, "-r", "nan"], "Invalid value for '--spawn-rate' / '-r': 'nan' is not a finite"),
    "run --rate inf": ([*RUN, "--rate", "inf"], "Invalid value for '--rate': 'inf' is not a finite number."),
    "run --lag-warn -1": ([*RUN, "--lag-warn", "-1"], "Invalid value for '--lag-warn': -1.0 is not in the"),
    "run --max-requests 0": ([*RUN, "--max-requests", "0"],
                             "Invalid value for '--max-requests': 0 is not in the range x>=1."),
    "run --abort-error-ratio 2": ([*RUN, "--abort-error-ratio", "2"],
                                  "Invalid value for '--abort-error-ratio': 2.0 is not in the range"),
    "run --web-port 70000": ([*RUN, "--web-port", "70000"],
                             "Invalid value for '--web-port': 70000 is not in the range 1<=x<=65535."),
    "run --prometheus-port 0": ([*RUN, "--prometheus-port", "0"],
                                "Invalid value for '--prometheus-port': 0 is not in the range"),
    "run --master-port -1": ([*RUN, "--master-port", "-1"], "Invalid value for '--master-port': -1 is"),
    "run --processes -1": ([*RUN, "--processes", "-1"], "Invalid value for '--processes': -1 is not in"),
    "run --token-check-sample nan": ([*RUN, "--token-check-sample", "nan"],
                                     "Invalid value for '--token-check-sample': 'nan' is not a finite"),
    "run --min-length -1": ([*RUN, "--min-length", "-1"], "Invalid value for '--min-length': -1 is not"),
    "run bad port": (["run", "-c", "{dir}/good.jsonl", "-t", "http://127.0.0.1:99999"],
                     "Invalid value for '--target' / '-t': 'http://127.0.0.1:99999' is not a valid URL "
                     "(Port out of range 0-65535)"),
    "run --run-id ../../x": ([*RUN, "--run-id", "../../x"],
                             "Invalid value for '--run-id': '../../x' is not a plain name"),
    "run --run-id ..": ([*RUN, "--run-id", ".."], "Invalid value for '--run-id': '..' is not a plain name"),
    "run --slo latin-1": ([*RUN, "--slo", "{dir}/latin1.yaml"],
                          "SLO file {dir}/latin1.yaml: not UTF-8 text"),
    "run latin-1 corpus": (["run", "-c", "{dir}/latin1.jsonl", "-t", DEAD, "--monitor-interval", "0"],
                           "{dir}/latin1.jsonl:1: not valid JSON"),
    "mock --profiles latin-1": (["mock", "--port", "0", "--profiles", "{dir}/latin1.yaml"],
                                "{dir}/latin1.yaml: not UTF-8 text"),
    "analyze --slo latin-1": (["analyze", "{dir}", "--slo", "{dir}/latin1.yaml"],
                              "SLO file {dir}/latin1.yaml: not UTF-8 text"),
    "synth --n 0": (["synth", "--n", "0", "-o", "{dir}/x.jsonl"], "Invalid value for '--n': 0 is not in"),
    "synth --repeat-ratio 1.5": (["synth", "--repeat-ratio", "1.5", "-o", "{dir}/x.jsonl"],
                                 "Invalid value for '--repeat-ratio': 1.5 is not in the range 0<=x<=1."),
    "synth --seed -1": (["synth", "--seed", "-1", "-o", "{dir}/x.jsonl"],
                        "Invalid value for '--seed': -1 is not in the range x>=0."),
    "synth --models a:nan": (["synth", "--models", "gpt-4o:nan", "-o", "{dir}/x.jsonl"],
                             "--models: 'gpt-4o:nan' has a bad name or weight"),
    "synth scenario latin-1": (["synth", "-s", "{dir}/latin1.yaml", "-o", "{dir}/x.jsonl"],
                               "{dir}/latin1.yaml: not UTF-8 text"),
    "synth import latin-1": (["synth", "--import", "{dir}/latin1.csv", "--format", "csv", "--column",
                              "prompt", "-o", "{dir}/x.jsonl"], "{dir}/latin1.csv: not UTF-8 text"),
    "compare --conf 1": (["compare", "{dir}", "{dir}", "--conf", "1"],
                         "Invalid value for '--conf': 1.0 is not in the range 0<x<1."),
    "compare --n-boot 0": (["compare", "{dir}", "{dir}", "--n-boot", "0"],
                           "Invalid value for '--n-boot': 0 is not in the range x>=1."),
    "sweep load -d 0": (["sweep", "load", "-u", "1", "-d", "0"],
                        "Invalid value for '--duration' / '-d': 0.0 is not in the range x>0."),
    "sweep load --rates nan": (["sweep", "load", "--rates", "nan", "-o", "{dir}/sw"],
                               "--rates: 'nan' is not a finite number (in 'nan')."),
    "sweep cache --ratios inf": (["sweep", "cache", "--ratios", "inf", "-o", "{dir}/sw"],
                                 "--ratios: 'inf' is not a finite number (in 'inf')."),
    "sweep load bad target": (["sweep", "load", "-u", "1", "-t", "http://127.0.0.1:99999"],
                              "Invalid value for '--target' / '-t': 'http://127.0.0.1:99999' is not a"),
    "demo --users 0": (["demo", "--users", "0"], "Invalid value for '--users': 0 is not in the range x>=1."),
    "demo --duration inf": (["demo", "--duration", "inf"],
                            "Invalid value for '--duration': 'inf' is not a finite number."),
}


def invoke(args: list[str], folder: Path) -> tuple[int, str]:
    argv = [a.replace("{dir}", str(folder)) for a in args]
    result = CliRunner().invoke(cli, argv, env={"LLMSUITE_DEBUG": None})
    return result.exit_code, result.output


def check(code: int, output: str, message: str) -> None:
    assert "Internal error" not in output and "Traceback" not in output, output
    assert code == 2, output
    assert message in " ".join(output.split()), output


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_bad_option_or_file_exits_2_naming_it(case: str, files: Path) -> None:
    args, message = OPTION_CASES[case]
    code, output = invoke(args, files)
    check(code, output, message.replace("{dir}", str(files)))


READERS = {
    "run": ["run", "-c", "{corpus}", "-t", DEAD, "--out", "{dir}/reports", "--monitor-interval", "0"],
    "corpus stats": ["corpus", "stats", "{corpus}"],
    "swap": ["swap", "--models", "gpt-4o,gpt-5-mini", "-c", "{corpus}", "-t", DEAD, "-o", "{dir}/swap"],
    "sweep load -c": ["sweep", "load", "-u", "1", "-c", "{corpus}", "-t", DEAD, "-o", "{dir}/sweep"],
}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("field_case", list(FIELD_CASES))
def test_a_bad_corpus_field_is_named_by_every_reader(reader: str, field_case: str, files: Path) -> None:
    corpus = files / f"{field_case}.jsonl"
    args = [a.replace("{corpus}", str(corpus)) for a in READERS[reader]]
    code, output = invoke(args, files)
    check(code, output, f"{corpus}:2: {FIELD_MESSAGES[field_case]}")
