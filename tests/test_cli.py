"""The command line itself: help that says what a user needs, -h and --version,
and the same exit code for the same problem in every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from conftest import ROOT
from typer.testing import CliRunner

from pipelines import __version__
from pipelines.cli import EXIT_FAILED, app
from pipelines.cli.common import EXIT_CODES
from pipelines.extract import formats

runner = CliRunner()
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


ALL_COMMANDS = [words for words, _ in _commands(typer.main.get_command(app))]


@pytest.mark.parametrize("words", ALL_COMMANDS, ids=" ".join)
def test_help_shows_flags_without_a_value(words: tuple[str, ...]) -> None:
    for flag in ("--help", "-h"):
        result = runner.invoke(app, [*words, flag])
        assert result.exit_code == 0, result.output
        assert "Usage: root" in result.output or "Usage:" in result.output
        # A flag takes no value: Typer used to print `--strict <bool>`.
        assert "<bool>" not in result.output, result.output


def test_top_level_help_says_the_formats_and_exit_codes() -> None:
    result = runner.invoke(app, ["-h"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in formats():
        assert name in text, name
    for code in EXIT_CODES:
        assert f"{code}: " in text, code
    assert "<bool>" not in result.output


def test_version_option_and_command_agree() -> None:
    assert runner.invoke(app, ["--version"]).output.strip() == __version__
    assert runner.invoke(app, ["version"]).output.strip() == __version__


def test_detect_on_a_missing_file_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", str(tmp_path / "nope.txt")])
    assert result.exit_code == EXIT_FAILED
    assert "No such file" in result.output


# What a command that reads a warehouse needs besides --warehouse to get that far.
ARGUMENTS = {("author",): ["Zhihao Jia"], ("review",): ["--list"]}
# Every command that reads a published warehouse (takes --warehouse, and does not build one).
READERS = [
    [*words, *ARGUMENTS.get(words, [])]
    for words, command in _commands(typer.main.get_command(app))
    if words[0] not in ("refresh", "serve")
    and any("--warehouse" in param.opts for param in command.params)
] + [["rollback", "--to", "1"]]


def test_every_reading_command_is_checked() -> None:
    names = {words[0] for words in READERS}
    assert {"status", "rollback", "dictionary", "export"} <= names


@pytest.mark.parametrize("words", READERS, ids=" ".join)
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_nothing_published_is_the_same_exit_code_everywhere(
    tmp_path: Path, words: list[str], state: str
) -> None:
    warehouse = tmp_path / "wh"
    if state == "empty":
        warehouse.mkdir()
    result = runner.invoke(app, [*words, "--warehouse", str(warehouse)])
    assert result.exit_code == EXIT_FAILED, result.output
    assert "run `paperlake refresh` first" in result.output
    assert "None" not in result.output
    # Reading commands never create what they read.
    assert warehouse.exists() == (state == "empty")
    if state == "empty":
        assert list(warehouse.iterdir()) == []


def test_the_readme_exit_code_table_matches_the_cli() -> None:
    rows = dict(re.findall(r"^\| (\d) \| (.+) \|$", README, re.M))
    assert sorted(int(code) for code in rows) == sorted(EXIT_CODES)
    assert "nothing published" in rows[str(EXIT_FAILED)]
