"""Top-level help a newcomer can act on: every command with its whole one-line summary (click cuts
docstrings at ~45 characters), in the order they are used, ending with where to start."""

from __future__ import annotations

import re
import shlex
from collections import Counter

import click
import pytest
from click.testing import CliRunner

from suite.cli import EPILOG, SUMMARIES, cli
from suite.cli.helpgroups import EXAMPLES, ORDER, OTHER, GroupedCommand, section_of


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
    assert listed[:4] == ["demo", "init", "synth", "run"]
    assert sorted(listed) == sorted(cli.commands)


def test_help_ends_pointing_at_the_demo_and_the_docs() -> None:
    assert EPILOG == "Start with: llmsuite demo — docs: docs/cli.md"
    assert _help().rstrip().splitlines()[-1].strip() == EPILOG


def test_summaries_fit_an_80_column_terminal() -> None:
    assert max(map(len, SUMMARIES.values())) <= 62


# --- `run --help` and friends for humans (issue 15, item 4): options under headed sections, examples.

_TERM = re.compile(r"^  (-[^ ].*?)(?:\s{2,}|$)")  # an option's own line: its flags, then its help


def _command(path: str) -> click.Command:
    command: click.Command = cli
    for name in path.split():
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def _listed_options(text: str) -> Counter[str]:
    """Every flag as written in the option column (flags named inside help text do not count)."""
    listed: Counter[str] = Counter()
    for line in text.splitlines():
        match = _TERM.match(line)
        if match:
            listed.update(flag.split()[0] for flag in match.group(1).split(", "))
    return listed


@pytest.mark.parametrize("path", list(EXAMPLES))
def test_help_shows_every_section_heading_in_order(path: str) -> None:
    lines = _help(*path.split()).splitlines()
    positions = [lines.index(f"{section}:") for section in ORDER]
    assert positions == sorted(positions)
    assert lines.index("Examples:") > positions[-1]


@pytest.mark.parametrize("path", [*EXAMPLES, "compare"])
def test_help_lists_every_option_exactly_once(path: str) -> None:
    command = _command(path)
    expected = Counter(flag for p in command.params if isinstance(p, click.Option) for flag in p.opts)
    expected.update(["-h", "--help"])
    assert _listed_options(_help(*path.split())) == expected


def test_every_option_of_every_command_has_a_section_but_help() -> None:
    """A new option must be given a section in suite/cli/helpgroups.py's SECTIONS."""
    grouped = [(n, c) for n, c in _all_commands(cli) if isinstance(c, GroupedCommand)]
    assert {n for n, _ in grouped} >= {*EXAMPLES, "compare"}
    ctx = click.Context(cli)
    for name, command in grouped:
        homeless = [p.opts for p in command.get_params(ctx)
                    if isinstance(p, click.Option) and section_of(p) == OTHER]
        assert homeless == [["-h", "--help"]], f"{name}: give {homeless[:-1]} a section"


@pytest.mark.parametrize("path", list(EXAMPLES))
def test_examples_are_whole_command_lines_of_their_command(path: str) -> None:
    text = _help(*path.split(), columns=80)
    command = _command(path)
    flags = {flag for p in command.params for flag in getattr(p, "opts", ())}
    assert 2 <= len(EXAMPLES[path]) <= 3
    for what, line in EXAMPLES[path]:
        assert f"  # {what}\n  {line}\n" in text  # never re-wrapped: copyable as shown
        words = shlex.split(line)
        assert words[:1 + len(path.split())] == ["llmsuite", *path.split()]
        assert {w for w in words if w.startswith("-")} <= flags


def test_sections_keep_one_help_column_like_clicks_flat_list() -> None:
    starts = set()
    for line in _help("run", columns=120).splitlines():
        match = _TERM.match(line)
        if match and len(match.group(0)) < 40 and not match.group(0).endswith(match.group(1)):
            starts.add(len(match.group(0)))
    assert len(starts) == 1


def test_an_option_without_a_section_lands_in_other_and_no_examples_means_no_block() -> None:
    @click.command(cls=GroupedCommand)
    @click.option("--brand-new-option", help="Not in SECTIONS yet.")
    @click.option("--users", type=int)
    def toy(brand_new_option: str | None, users: int | None) -> None:
        """A toy."""

    text = CliRunner().invoke(toy, ["--help"]).output
    order = [text.index(s) for s in ("Load:", "--users", "Other:", "--brand-new-option")]
    assert order == sorted(order)
    assert "Examples:" not in text
