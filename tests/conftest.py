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
