"""The repository keeps its promises: docs match the CLI, lint is clean."""

from __future__ import annotations

import re
import subprocess
import sys

import typer.main
from conftest import ROOT

from pipelines.cli import app

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```\n(.*?)\n```\s*<!-- /{marker} -->", README, re.S)
    assert match, marker
    return match.group(1).strip()


def test_readme_has_exactly_two_quick_start_commands() -> None:
    run, test = _block("run-command"), _block("test-command")
    assert "pip install -e ." in run and "paperlake refresh" in run
    assert "'.[test]'" in test and "pytest" in test
    assert len(run.splitlines()) == len(test.splitlines()) == 1


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "test-command" in ci  # it reads the command from the README


def _commands(group, prefix: str = "paperlake"):
    """Every command as (its full invocation, the command), sub-commands included."""
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix} {name}")


def test_every_command_and_option_is_documented() -> None:
    group = typer.main.get_command(app)
    assert len(group.commands) >= 4
    assert "paperlake export coauthors" in dict(_commands(group))
    for name, command in _commands(group):
        assert name in README, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, (name, opt)


def test_lint_is_clean() -> None:
    cmd = [sys.executable, "-m", "ruff"]
    result = subprocess.run([*cmd, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    fmt = subprocess.run([*cmd, "format", "--check", str(ROOT)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
