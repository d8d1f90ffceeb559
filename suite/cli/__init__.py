"""``llmsuite``: a thin click layer over ``suite.api``. Parses, calls the API, renders.

Module map (imports point one way: this package's ``__init__`` → command modules → ``common``):

- ``common``   consoles, progress bar, option groups (run files, bootstrap), value parsers,
               and ``run_command``: the only place a ``SuiteError`` becomes a message and an exit code
- ``targetopts`` the one target option group of run, swap and the sweeps (→ one ``Target``)
- ``synth``    ``synth`` and ``corpus stats``
- ``mock``     ``mock``: the bundled mock LLM server in the foreground
- ``run``      ``run``: replay a corpus with Locust, then analyze
- ``analyze``  ``analyze``: a run folder → summary.json, CSVs, charts, report.html
- ``compare``  ``compare`` and ``sweep cache|load`` (and their shared step options)
- ``swap``     ``swap``: a model swap as an experiment (with the sweeps' step options, from ``compare``)
- ``demo``     ``demo`` (the whole pipeline on loopback) and ``tokenizer``
"""

from __future__ import annotations

import click

from suite import __version__
from suite.cli.analyze import analyze
from suite.cli.compare import compare, sweep
from suite.cli.demo import demo, tokenizer
from suite.cli.mock import mock
from suite.cli.run import run
from suite.cli.swap import swap
from suite.cli.synth import corpus, synth


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="llmsuite")
def cli() -> None:
    """LLM Traffic Suite: synthesize LLM traffic, replay it with Locust, measure latency and cache gains."""


for _command in (synth, mock, analyze, tokenizer, demo, corpus, compare, sweep, swap, run):
    cli.add_command(_command)


def main() -> None:
    cli()
