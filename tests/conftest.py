"""Shared fixtures: the sample dumps and their capture date, Prefect, subprocesses."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"
GOLDEN = Path(__file__).resolve().parent / "golden"
CAPTURE = date(2026, 11, 22)

# No telemetry (there is no internet), quiet logs, and room for a slow
# temporary server start on a 2-core machine.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect backend for every flow test of the session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


# `paperlake ...` in a subprocess, with this interpreter (no PATH lookup).
PAPERLAKE = [sys.executable, "-c", "from pipelines.cli import main; main()"]


@pytest.fixture(scope="session")
def subprocess_env(prefect_harness, tmp_path_factory) -> dict[str, str]:
    """Environment for `paperlake` subprocesses: the harness's API, a private PREFECT_HOME."""
    return {
        **os.environ,
        "PREFECT_API_URL": prefect_harness,
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


@pytest.fixture
def sample_dumps() -> list[Path]:
    return sorted(p for p in RAW.glob("*.txt"))


# --- a warehouse to look at (tests/test_look.py, tests/test_report_browser.py) ---

LOOK_ABSTRACT = (
    "We study {0} in depth and report what we found across many careful experiments. " * 3
)


def _look_page(owner: str, records: list[tuple[str, str, str, str]]) -> str:
    """A profile page (format A) of (category+date, title, authors, topic of abstract)."""
    lines = [owner, "", "LG", "h-index3", "9papers", "40citations", "Novelty5%", "AI Score7", ""]
    lines += [f"{len(records)} Papers", ""]
    for meta, title, authors, topic in records:
        lines += [meta, title, "", authors, "", LOOK_ABSTRACT.format(topic), ""]
    return "\n".join(lines) + "\n"


def write_look_dumps(raw: Path) -> None:
    """Two pages whose records make two review pairs (a.txt#0/b.txt#0: one word
    differs; a.txt#1/b.txt#1: one title, no shared author), and a file no parser
    reads (quarantined whole)."""
    raw.mkdir(parents=True, exist_ok=True)
    memory, kernels = (
        "Efficient Memory Management for LLM Serving",
        "Sparse Attention Kernels for Long Context Models",
    )
    (raw / "a.txt").write_text(
        _look_page(
            "Ana Li",
            [
                ("LGMay 1, 2024", memory, "Ana Li, Bo Chen", "paged memory"),
                ("DCMay 2, 2024", kernels, "Cara Diaz, Dan Evans", "sparse kernels"),
            ],
        ),
        encoding="utf-8",
    )
    (raw / "b.txt").write_text(
        _look_page(
            "Bo Chen",
            [
                ("LGMay 3, 2024", memory.replace("Serving", "Training"), "Ana Li, Bo Chen", "t"),
                ("DCMay 2, 2024", kernels, "Eve Fox, Gil Hart", "attention sparsity"),
            ],
        ),
        encoding="utf-8",
    )
    (raw / "notes.txt").write_text("nothing to see\nhere | <b>there</b>\n", encoding="utf-8")


@pytest.fixture(scope="session")
def look_warehouse(tmp_path_factory, prefect_harness) -> Path:
    """The sample dumps plus write_look_dumps, refreshed through the CLI and the flow."""
    import shutil

    from typer.testing import CliRunner

    from pipelines.cli import app

    raw = tmp_path_factory.mktemp("look-raw")
    for dump in RAW.glob("*.txt"):
        shutil.copy(dump, raw / dump.name)
    write_look_dumps(raw)
    warehouse = tmp_path_factory.mktemp("look-warehouse")
    result = CliRunner().invoke(
        app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse), "--as-of", "2026-11-22"]
    )
    assert result.exit_code == 0, result.output
    return warehouse


def read_table(warehouse: Path, name: str):
    """A published table, read as a user reads it: its Delta table at the published version."""
    from pipelines.store import read_table as read

    return read(warehouse, name)


def table_bytes(warehouse: Path) -> dict[str, bytes]:
    """The published tables' data files, ``table/file`` -> bytes."""
    from pipelines.store import published_tables

    return {
        f"{name}/{path.name}": path.read_bytes()
        for name, table in published_tables(warehouse).items()
        for path in table.files
    }
