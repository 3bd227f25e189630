"""Published versions: a failed run changes nothing, old versions are kept for
rollback and pruned, `paperlake status` says what is published, the lock
refuses a second writer, and a warehouse written before versions is taken over."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import RAW, table_bytes
from typer.testing import CliRunner

import pipelines.durable
import pipelines.flows
import pipelines.load
import pipelines.staging
from pipelines import state_files, store
from pipelines.cli import EXIT_FAILED, EXIT_USAGE, app
from pipelines.config import default_sql_dir
from pipelines.errors import PaperlakeError
from pipelines.flows import refresh_flow

runner = CliRunner()
DROPPED = "004_3fe40d5a5f467540.txt"


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _refresh(raw: Path, warehouse: Path, *extra: str) -> str:
    result = _invoke("refresh", "--raw", str(raw), "--warehouse", str(warehouse), *extra)
    assert result.exit_code == 0, result.output
    return result.output


def _n_sources(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        return con.sql("select count(*) from sources").fetchone()[0]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    out = tmp_path / "raw"
    shutil.copytree(RAW, out)
    return out


def _toggle(raw: Path) -> None:
    """Switch raw/ between all five sample dumps and four of them."""
    if (raw / DROPPED).exists():
        (raw / DROPPED).unlink()
    else:
        shutil.copy(RAW / DROPPED, raw / DROPPED)


def test_a_failing_data_test_leaves_the_warehouse_untouched(
    prefect_harness, raw: Path, tmp_path: Path, monkeypatch
) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse)
    staged: list[Path] = []
    real = pipelines.flows.publish_version

    def counting(written, *args):
        staged.append(written.staging)
        return real(written, *args)

    monkeypatch.setattr(pipelines.flows, "publish_version", counting)
    before = table_bytes(warehouse)
    sql = tmp_path / "sql"
    shutil.copytree(default_sql_dir(), sql)
    (sql / "tests" / "no_scholar_profiles.sql").write_text(
        "select source_file from sources where format = 'scholar_profile'\n"
    )
    # A changed sql/ is a change: the run gets as far as the data tests.
    with pytest.raises(PaperlakeError, match="no_scholar_profiles: 1 rows"):
        refresh_flow(raw_dir=str(raw), warehouse_dir=str(warehouse), sql_dir=str(sql))
    # Bad data fails the same way twice: it is not retried.
    assert len(staged) == 1
    assert store.current_version(warehouse) == "1"
    assert store.version_ids(warehouse) == ["1"]
    assert [p.name for p in (warehouse / "versions").iterdir()] == ["1"]  # no staging left
    assert table_bytes(warehouse) == before
    assert _n_sources(warehouse) == 5


def test_a_file_system_error_is_retried(
    prefect_harness, raw: Path, tmp_path: Path, monkeypatch
) -> None:
    # The writer tries a table again itself, with its frame still in hand: it lets
    # each frame go once written, so a retry of the whole task could not redo it.
    warehouse = tmp_path / "wh"
    calls: list[str] = []
    real = pipelines.load.write_table

    def flaky(name, frame, folder, *args):
        calls.append(name)
        if calls == ["sources"]:
            raise OSError(errno.EIO, "Input/output error", str(folder))
        return real(name, frame, folder, *args)

    monkeypatch.setattr(pipelines.load, "write_table", flaky)
    monkeypatch.setattr(pipelines.durable, "FS_RETRY_SECONDS", 0.1)
    assert "Published version 1" in _refresh(raw, warehouse)
    assert calls[:2] == ["sources", "sources"] and len(calls) == len(set(calls)) + 1
    assert [p.name for p in (warehouse / "versions").iterdir()] == ["1"]


def test_a_table_the_file_system_keeps_failing_fails_the_run(
    prefect_harness, raw: Path, tmp_path: Path, monkeypatch
) -> None:
    warehouse = tmp_path / "wh"
    calls: list[str] = []

    def broken(name, frame, folder, *args):
        calls.append(name)
        raise OSError(errno.EIO, "Input/output error", str(folder))

    monkeypatch.setattr(pipelines.load, "write_table", broken)
    monkeypatch.setattr(pipelines.durable, "FS_RETRY_SECONDS", 0.1)
    result = _invoke("refresh", "--raw", str(raw), "--warehouse", str(warehouse))
    assert result.exit_code == EXIT_FAILED, result.output
    assert "Input/output error" in result.output and "Traceback" not in result.output
    # Tried once and again FS_RETRIES times, then given up: no version, no staging left.
    assert calls == ["sources"] * (1 + pipelines.durable.FS_RETRIES)
    assert not (warehouse / "versions").exists() or not any((warehouse / "versions").iterdir())


def test_versions_are_kept_pruned_and_rolled_back(
    prefect_harness, raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh"
    for expected in ("1", "2", "3", "4"):
        output = _refresh(raw, warehouse, "--keep", "2")
        assert f"Published version {expected}" in output
        _toggle(raw)
    # Versions 1 and 3 had five dumps, 2 and 4 had four.
    assert store.version_ids(warehouse) == ["3", "4"]
    assert _n_sources(warehouse) == 4

    result = _invoke("rollback", "--warehouse", str(warehouse))
    assert result.exit_code == 0, result.output
    assert "version 3 is published (was 4)" in result.output
    assert _n_sources(warehouse) == 5

    status = _invoke("status", "--warehouse", str(warehouse))
    assert status.exit_code == 0, status.output
    assert "Published version 3" in status.output and DROPPED in status.output
    assert "No refresh is running" in status.output

    missing = _invoke("rollback", "--warehouse", str(warehouse), "--to", "1")
    assert missing.exit_code == EXIT_FAILED and "version 1 is not kept" in missing.output
    assert _invoke("rollback", "--to", "latest").exit_code == EXIT_USAGE

    assert _invoke("rollback", "--warehouse", str(warehouse), "--to", "4").exit_code == 0
    assert _n_sources(warehouse) == 4


def test_status_without_a_warehouse(tmp_path: Path) -> None:
    result = _invoke("status", "--warehouse", str(tmp_path / "none"))
    assert result.exit_code == EXIT_FAILED and "no such warehouse folder" in result.output
    assert not (tmp_path / "none").exists()


def test_the_lock_refuses_a_second_writer(prefect_harness, raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse)
    with store.warehouse_lock(warehouse):
        refused = _invoke("refresh", "--raw", str(raw), "--warehouse", str(warehouse))
        assert refused.exit_code == EXIT_FAILED
        assert "another refresh or rollback is running" in refused.output
        assert f"pid {os.getpid()}" in refused.output
        assert "Traceback" not in refused.output
        busy = _invoke("rollback", "--warehouse", str(warehouse))
        assert busy.exit_code == EXIT_FAILED and "is running" in busy.output
    assert store.version_ids(warehouse) == ["1"]
    (raw / "extra.txt").write_bytes((RAW / "004_3fe40d5a5f467540.txt").read_bytes())
    _refresh(raw, warehouse)  # the lock is free again
    assert store.version_ids(warehouse) == ["1", "2"]


def test_a_warehouse_from_before_versions_is_taken_over(
    prefect_harness, raw: Path, tmp_path: Path
) -> None:
    # v0 wrote plain files straight into the folder.
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    (warehouse / "records.parquet").write_bytes(b"old")
    (warehouse / "paperlake.duckdb").write_bytes(b"old")
    (warehouse / ".paperlake.duckdb.tmp-1234").write_bytes(b"left by a killed v0 run")
    status = _invoke("status", "--warehouse", str(warehouse))
    assert status.exit_code == 0 and "without versions" in status.output

    _refresh(raw, warehouse)
    assert os.readlink(warehouse / "paperlake.duckdb") == "current/paperlake.duckdb"
    # The tables are Delta tables under tables/ now; no <table>.parquet names remain.
    assert not (warehouse / "records.parquet").exists()
    assert (warehouse / "tables" / "records" / "_delta_log").is_dir()
    assert not (warehouse / ".paperlake.duckdb.tmp-1234").exists()
    assert _n_sources(warehouse) == 5


def test_state_is_kept_with_the_version_it_was_built_with(tmp_path):
    """A run reads the state of the published version; a rollback brings its state back."""
    warehouse = tmp_path / "warehouse"
    assert state_files.read_state(warehouse, "links") is None  # nothing published yet
    for n in (1, 2):
        staging = store.begin_version(warehouse)
        state_files.write_state(staging, "links", pl.DataFrame({"run": [n]}))
        (staging / store.BUILD_INFO).write_text('{"table_files": {}}', encoding="utf-8")
        store.promote(warehouse, staging)
        assert state_files.read_state(warehouse, "links")["run"].to_list() == [n]
    assert state_files.read_state(warehouse, "no such state") is None
    store.rollback(warehouse)
    assert state_files.read_state(warehouse, "links")["run"].to_list() == [1]
