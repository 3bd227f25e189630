"""A file system that refuses writes during publish: one line naming the file
that could not be written and why, no engine stack trace, and the published
version stays as it was."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import duckdb
import pytest
from conftest import PAPERLAKE, RAW, read_table
from typer.testing import CliRunner

from pipelines import publish, store
from pipelines.cli import app
from pipelines.config import default_sql_dir
from pipelines.errors import PaperlakeError

runner = CliRunner()
DROPPED = "004_3fe40d5a5f467540.txt"
LIMIT = 1_000_000  # bytes any one file may have in the child process


def _small_files_only() -> None:
    # Writing past RLIMIT_FSIZE fails with EFBIG ("File too large") instead of
    # killing the process with SIGXFSZ: what a full disk looks like to a writer.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _published(warehouse: Path) -> tuple[str | None, int]:
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        return store.current_version(warehouse), con.sql("select count(*) from sources").fetchone()[
            0
        ]


def test_a_write_refused_during_publish_is_one_line(subprocess_env, tmp_path: Path) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(RAW, raw)
    result = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    before = _published(warehouse)
    (raw / DROPPED).unlink()
    # As a user runs it: Prefect's own logging level left to the command.
    env = {k: v for k, v in subprocess_env.items() if k != "PREFECT_LOGGING_LEVEL"}
    failed = subprocess.run(
        [*PAPERLAKE, "refresh", "--raw", str(raw), "--warehouse", str(warehouse)],
        env=env,
        preexec_fn=_small_files_only,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, failed.stderr
    assert "paperlake.duckdb" in errors[0] and "could not be written" in errors[0]
    assert "File too large" in errors[0]
    assert "Traceback" not in failed.stderr and "Stack Trace" not in failed.stderr
    # Nothing changed for readers, and the next run (room again) publishes.
    assert _published(warehouse) == before
    assert read_table(warehouse, "sources").height == 5
    result = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert _published(warehouse)[1] == 4


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB tmpfs, when this process may mount one (root, outside a locked-down sandbox)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs ({done.stderr.decode().strip()}): CI runs as root")
        pytest.skip(
            f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); "
            "test_a_write_refused_during_publish_is_one_line covers the same path"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_during_the_duckdb_build_is_one_line(small_disk: Path, tmp_path: Path) -> None:
    from pipelines.load import write_tables
    from pipelines.refresh import combine, extract_batch, link_tables
    from pipelines.sources import resolve_dumps

    dumps, _ = resolve_dumps(RAW, None)
    tables, _ = link_tables(combine(extract_batch(dumps)), RAW)
    written = write_tables(tables, tmp_path / "tables")
    target = small_disk / "paperlake.duckdb"  # the file is ~6 MB: it cannot fit
    with pytest.raises(PaperlakeError) as caught:
        publish.build_database(written, tmp_path / "tables", target, default_sql_dir())
    message = str(caught.value)
    assert "\n" not in message and "Stack Trace" not in message
    assert str(target) in message and "No space left on device" in message
    assert list(small_disk.iterdir()) == []  # no half-written file left
