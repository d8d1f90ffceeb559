"""Top-level help a newcomer can act on: every command with its whole one-line summary (click cuts
docstrings at ~45 characters), in the order they are used, ending with where to start."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from suite.cli import EPILOG, SUMMARIES, cli


def _help(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def _all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        out.append((prefix + name, command))
        if isinstance(command, click.Group):
            out += _all_commands(command, f"{prefix}{name} ")
    return out


def test_every_command_has_a_summary_and_every_summary_a_command() -> None:
    names = {name for name, _ in _all_commands(cli)}
    assert names == set(SUMMARIES)


@pytest.mark.parametrize("columns", [80, 200])
def test_top_level_help_lists_every_summary_whole_on_one_line(columns: int) -> None:
    lines = _help(columns=columns).splitlines()
    for name in cli.commands:
        row = next(line for line in lines if line.split()[:1] == [name])
        assert row.split(None, 1)[1] == SUMMARIES[name]  # whole, not cut with "..."
    assert not any(line.rstrip().endswith("...") for line in lines[1:])  # but the usage line's ARGS...


def test_group_help_lists_its_subcommands_whole() -> None:
    for group in ("sweep", "corpus"):
        text = _help(group)
        for sub in cli.commands[group].commands:  # type: ignore[attr-defined]
            assert SUMMARIES[f"{group} {sub}"] in text


def test_commands_come_in_the_order_they_are_used_demo_first() -> None:
    lines = _help().splitlines()
    start = lines.index("Commands:") + 1
    listed = [line.split()[0] for line in lines[start:start + len(cli.commands)]]
    assert listed[:3] == ["demo", "synth", "run"]
    assert sorted(listed) == sorted(cli.commands)


def test_help_ends_pointing_at_the_demo_and_the_docs() -> None:
    assert EPILOG == "Start with: llmsuite demo — docs: docs/cli.md"
    assert _help().rstrip().splitlines()[-1].strip() == EPILOG


def test_summaries_fit_an_80_column_terminal() -> None:
    assert max(map(len, SUMMARIES.values())) <= 62
