"""Every command in the README is run by a test (as sqlite-utils tests its docs).

Each code block of README.md is one of:

- ``sql``: run against a warehouse refreshed from the sample dumps;
- ``toml``: validated as the configuration file it shows;
- ``python``: run as a script in a scratch copy of the repository;
- ``text``, or an indented block right after a ``<!-- not a command -->``
  line: not a command (diagrams, folder trees, URLs);
- anything else: shell commands, one per line (``\\`` continues a line).

A shell command is run here, in a scratch copy of the repository that holds
the sample dumps and a refreshed ``warehouse/``, unless it is in one of:

- ``ELSEWHERE``: commands that need a long-running service or a fresh
  machine, with the test (``path::function``) or CI step that runs them. The
  test must exist, and the command's program, sub-commands and options must
  appear in its file;
- ``SMALLER``: the same command run here on less data (same program and
  options, other values).

So documenting a command means writing one that runs from a checkout, or
adding one entry to ELSEWHERE or SMALLER; a command that is none of these
fails with the entry to add.
"""

from __future__ import annotations

import ast
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import RAW, ROOT
from markdown_it import MarkdownIt

from pipelines.configfiles import check_raw_config

README = ROOT / "README.md"
NOT_A_COMMAND = "<!-- not a command -->"
KINDS = {"sql": "sql", "toml": "toml", "python": "python", "text": "text"}
SHELL = {"", "sh", "shell", "bash", "console"}
PATIENCE = 600  # seconds for one command here


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the block's first line of code
    kind: str  # sql, toml, python, text, shell
    text: str
    marker: str | None  # the <!-- name --> right before it, if any


@dataclass(frozen=True)
class Command:
    line: int
    text: str  # as written, continuation lines joined
    block: Block

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)

    def __str__(self) -> str:
        return f"README.md:{self.line}: {self.text}"


@dataclass(frozen=True)
class InTest:
    """A command run by a test: ``tests/file.py::function`` (a test or a fixture)."""

    where: str


@dataclass(frozen=True)
class Ci:
    """A command CI runs: .ci/run runs the README block between ``<!-- marker -->`` lines
    (``readme_block marker``) in a fresh clone."""

    marker: str


SCHEDULE = "tests/test_schedule.py::test_a_scheduled_deployment_runs_to_completion"
SERVE_STOPS = "tests/test_schedule.py::test_serve_stops_on_sigint_and_pauses_its_schedule"
LOCAL_CLUSTER = "tests/test_dask.py::test_local_cluster_gives_the_same_warehouse"
RUNNING_CLUSTER = "tests/test_dask.py::test_running_cluster_gives_the_same_warehouse"
DASK_CLUSTER = "tests/test_dask.py::dask_cluster"
BENCH_RUNNER = "tests/test_benchmarks.py::test_runner_end_to_end_on_a_tiny_corpus"

# README command -> what runs it. Long-running services, other machines, a fresh clone.
ELSEWHERE: dict[str, InTest | Ci] = {
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/paperlake refresh": Ci(
        "run-command"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && "
    ".venv/bin/python -m pytest -q": Ci("test-command"),
    ".venv/bin/python -m pytest -q": Ci("test-command"),
    ".venv/bin/ruff check . && .venv/bin/ruff format --check .": InTest(
        "tests/test_repo.py::test_lint_is_clean"
    ),
    "export PREFECT_API_URL=http://127.0.0.1:4200/api": InTest(SCHEDULE),
    "prefect server start --host 127.0.0.1 --port 4200": InTest(
        "tests/test_schedule.py::prefect_server"
    ),
    'paperlake serve --cron "0 6 * * *" --raw /data/raw --warehouse /data/warehouse': InTest(
        SERVE_STOPS
    ),
    "paperlake refresh --task-runner dask": InTest(LOCAL_CLUSTER),
    "paperlake refresh --task-runner dask --dask-workers 4": InTest(LOCAL_CLUSTER),
    "paperlake refresh --task-runner dask --dask-address tcp://scheduler.example:8786": InTest(
        RUNNING_CLUSTER
    ),
    "dask scheduler --port 8786": InTest(DASK_CLUSTER),
    "dask worker tcp://scheduler.example:8786 --nthreads 1": InTest(DASK_CLUSTER),
    "prefect server start --host 0.0.0.0 --port 4200": InTest(
        "tests/test_schedule.py::prefect_server"
    ),
    "export PREFECT_API_URL=http://flow-host.example:4200/api": InTest(RUNNING_CLUSTER),
    "paperlake refresh --task-runner dask --dask-address tcp://scheduler.example:8786 "
    "--raw /shared/raw --warehouse /data/warehouse": InTest(RUNNING_CLUSTER),
    "python -m benchmarks.run --corpus /tmp/corpus": InTest(BENCH_RUNNER),
}

# README command -> the same command run here on less data (after `&&`: what it needs first).
# (400 KB: smaller corpora hold no paper twice, and splink cannot train on that.)
SMALLER: dict[str, str] = {
    "python -m benchmarks.generate --size 100MB --out /tmp/corpus --seed 1": (
        "python -m benchmarks.generate --size 400KB --out corpus --seed 1"
    ),
    "python -m benchmarks.peer --corpus /tmp/corpus": "python -m benchmarks.peer --corpus corpus",
    "python -m benchmarks.truth --corpus /tmp/corpus --warehouse /tmp/warehouse": (
        "paperlake refresh --raw corpus/raw --warehouse corpus-warehouse && "
        "python -m benchmarks.truth --corpus corpus --warehouse corpus-warehouse"
    ),
}


def readme_blocks(text: str) -> list[Block]:
    """The code blocks of a Markdown text, each with its kind."""
    lines = text.splitlines()
    blocks = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type not in ("fence", "code_block"):
            continue
        start = token.map[0]
        before = [line.strip() for line in lines[:start] if line.strip()]
        marker = before[-1] if before and before[-1].startswith("<!--") else None
        if token.type == "fence":
            info = token.info.strip().split(" ")[0].lower()
            kind = KINDS.get(info) or ("shell" if info in SHELL else f"unknown ```{info}")
            start += 1  # the fence line itself
        else:
            kind = "text" if marker == NOT_A_COMMAND else "shell"
        name = marker.removeprefix("<!--").removesuffix("-->").strip() if marker else None
        blocks.append(Block(start + 1, kind, token.content, name))
    return blocks


def shell_commands(block: Block) -> list[Command]:
    """One command per line; a line ending with a backslash goes on on the next one."""
    out, pending, first = [], "", 0
    for n, line in enumerate(block.text.splitlines()):
        if not pending:
            first = n
        pending += line.strip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip() + " "
            continue
        try:
            empty = not shlex.split(pending, comments=True)
        except ValueError:  # unbalanced quotes: kept, so that its test says so
            empty = False
        if not empty:
            out.append(Command(block.line + first, pending, block))
        pending = ""
    return out


def _same(a: str, b: str) -> bool:
    try:
        return shlex.split(a, comments=True) == shlex.split(b, comments=True)
    except ValueError:
        return a == b


def _lookup(table: dict, command: Command):
    return next((value for key, value in table.items() if _same(key, command.text)), None)


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
COMMANDS = [c for b in BLOCKS if b.kind == "shell" for c in shell_commands(b)]


def _ids(items) -> list[str]:
    return [f"line {item.line}" for item in items]


def test_every_block_has_a_known_kind() -> None:
    unknown = [f"README.md:{b.line}: {b.kind}" for b in BLOCKS if b.kind.startswith("unknown")]
    assert not unknown, (
        "code blocks of a kind this test cannot run (use sql, toml, python, text, or none "
        "for shell commands):\n" + "\n".join(unknown)
    )
    assert {b.kind for b in BLOCKS} >= {"sql", "toml", "shell", "text"}


def test_the_extractor_reads_every_kind_of_block() -> None:
    text = (
        "Intro\n\n    paperlake formats\n    paperlake detect a.txt \\\n        b.txt  # two\n\n"
        "<!-- not a command -->\n\n    warehouse/\n      x.parquet\n\n"
        "1. A list\n\n   ```sql\n   select 1;\n   ```\n\n"
        "<!-- run-command -->\n```\necho hi\n```\n<!-- /run-command -->\n\n"
        "```python\nprint(1)\n```\n\n```text\nduckdb:///x\n```\n\n```yaml\na: 1\n```\n"
    )
    blocks = readme_blocks(text)
    assert [(b.line, b.kind) for b in blocks] == [
        (3, "shell"),
        (9, "text"),
        (15, "sql"),
        (20, "shell"),
        (25, "python"),
        (29, "text"),
        (33, "unknown ```yaml"),
    ]
    assert blocks[3].marker == "run-command"
    assert [(c.line, c.words) for c in shell_commands(blocks[0])] == [
        (3, ["paperlake", "formats"]),
        (4, ["paperlake", "detect", "a.txt", "b.txt"]),
    ]


def test_every_mapping_entry_is_still_in_the_readme() -> None:
    stale = [key for key in [*ELSEWHERE, *SMALLER] if not any(_same(key, c.text) for c in COMMANDS)]
    assert not stale, (
        "tests/test_readme.py maps commands the README no longer has; remove them:\n"
        + "\n".join(stale)
    )


def _significant(words: list[str]) -> list[str]:
    """What a test running the command must mention: program, sub-commands, options."""
    if words[0] == "export":  # export NAME=value: the test sets NAME
        return [w.split("=")[0] for w in words[1:]]
    program, rest = Path(words[0]).name, words[1:]
    if program.startswith("python") and rest[:1] == ["-m"]:
        program, rest = rest[1], rest[2:]
    elif program.startswith("python") and rest:
        program, rest = Path(rest[0]).stem, rest[1:]
    out = [] if program == "paperlake" else [program]  # tests run it as `app` or PAPERLAKE
    leading = True
    for word in rest:
        if word.startswith("-"):
            leading = False
            out.append(word.split("=")[0])
        elif leading and word.isidentifier():
            out.append(word)
        else:
            leading = False
    return out


def _problem_with(command: Command, where: InTest | Ci) -> str | None:
    """Why ``where`` does not run ``command``, or None."""
    if isinstance(where, Ci):
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        if f"readme_block {where.marker}" not in ci:
            return f".ci/run does not run the README's {where.marker} block"
        ran = [c for c in COMMANDS if c.block.marker == where.marker]
        if not any(" ".join(command.words) in " ".join(c.words) for c in ran):
            return f"the README's {where.marker} block does not hold this command"
        return None
    path, _, name = where.where.partition("::")
    source = (ROOT / path).read_text(encoding="utf-8")
    defined = {
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    if name not in defined:
        return f"{path} has no function {name}"
    missing = [w for w in _significant(command.words) if w not in source]
    if missing:
        return f"{path} never mentions {', '.join(missing)}"
    return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, prefect_harness) -> tuple[Path, dict[str, str]]:
    """A scratch copy of a checkout where the README's commands run: the sample dumps,
    the benchmarks, this virtual environment as .venv, and a refreshed warehouse."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(RAW, root / "raw")
    (root / "benchmarks").symlink_to(ROOT / "benchmarks")
    (root / ".venv").symlink_to(Path(sys.prefix))
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PREFECT_API_URL": prefect_harness,
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
        "PYTHONPATH": str(root),
    }
    # The refresh of the quick start's run-command (its install is CI's).
    _run(".venv/bin/paperlake refresh", root, env)
    return root, env


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", "-c", f"set -eo pipefail; {command}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    )
    return result


@pytest.mark.parametrize("command", COMMANDS, ids=_ids(COMMANDS))
def test_readme_command(command: Command, scratch) -> None:
    where = _lookup(ELSEWHERE, command)
    if where is not None:
        problem = _problem_with(command, where)
        assert problem is None, f"{command}\nis mapped to {where}, but {problem}"
        return
    smaller = _lookup(SMALLER, command)
    if smaller is not None:
        run_here = smaller.split(" && ")[-1]
        assert _significant(shlex.split(run_here)) == _significant(command.words), (
            f"{command}\nSMALLER runs another command: {run_here}"
        )
    root, env = scratch
    try:
        _run(smaller or command.text, root, env)
    except AssertionError as err:
        raise AssertionError(
            f"{command}\nfailed when run in a scratch checkout (sample raw/, refreshed "
            "warehouse/). If it needs a service or another machine, map it in ELSEWHERE in "
            "tests/test_readme.py to the test that runs it; if it needs less data to run "
            f"here, add it to SMALLER.\n{err}"
        ) from None


CODE = [b for b in BLOCKS if b.kind in ("sql", "python")]


@pytest.mark.parametrize("block", CODE, ids=_ids(CODE))
def test_readme_code_runs_on_the_sample_warehouse(block: Block, scratch) -> None:
    """SQL against the refreshed sample warehouse; Python as a script in the scratch checkout."""
    root, env = scratch
    if block.kind == "python":
        result = subprocess.run(
            [sys.executable, "-c", block.text], cwd=root, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"README.md:{block.line}:\n{result.stderr[-2000:]}"
        return
    with duckdb.connect(str(root / "warehouse" / "paperlake.duckdb"), read_only=True) as con:
        rows = con.sql(block.text).fetchall()
    assert rows, f"README.md:{block.line}: the query returns no rows on the samples"


TOML = [b for b in BLOCKS if b.kind == "toml"]
# Which configuration file a TOML example is, by its top-level keys.
CONFIG_FILES = {
    "capture_dates": "manifest.toml",
    "merge": "overrides.toml",
    "apart": "overrides.toml",
    "same": "aliases.toml",
    "split": "aliases.toml",
    "topic": "topics.toml",
}


@pytest.mark.parametrize("block", TOML, ids=_ids(TOML))
def test_readme_toml_is_a_valid_configuration_file(block: Block, tmp_path: Path) -> None:
    keys = set(tomllib.loads(block.text))
    names = {CONFIG_FILES.get(key) for key in keys}
    assert len(names) == 1 and None not in names, (
        f"README.md:{block.line}: keys {sorted(keys)} are not one configuration file's"
    )
    (tmp_path / names.pop()).write_text(block.text, encoding="utf-8")
    check_raw_config(tmp_path)
