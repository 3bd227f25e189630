"""The tables as Delta Lake tables: content-named data files per bucket, commits
only for what changed, the Delta tables following the published version
(publish, rollback, crashes), data files deleted only when no kept version
needs them, and incremental DuckDB builds equal to builds from scratch."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import CAPTURE, PAPERLAKE, RAW
from deltalake import DeltaTable
from typer.testing import CliRunner

from pipelines import delta, layout, load, publish, store, table_updates
from pipelines.cli import EXIT_FAILED, app
from pipelines.progress import PAUSE_AT, PAUSE_FILE
from pipelines.refresh import combine, extract_batch, link_tables
from pipelines.sources import resolve_dumps

runner = CliRunner()
DROPPED = "004_3fe40d5a5f467540.txt"
PATIENCE = 180


def _refresh(raw: Path, warehouse: Path, *extra: str) -> str:
    result = runner.invoke(
        app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _two_versions(raw: Path, warehouse: Path) -> None:
    """Version 1 from the five sample dumps, version 2 without one of them."""
    _refresh(raw, warehouse)
    (raw / DROPPED).unlink()
    _refresh(raw, warehouse)


def _files(warehouse: Path, version: str | None = None) -> dict[str, delta.TableFiles]:
    version = version or store.current_version(warehouse)
    return store.table_files(store.read_build_info(warehouse, version))


def _newest(warehouse: Path, name: str) -> pl.DataFrame:
    return pl.read_delta(str(warehouse / "tables" / name))


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    out = tmp_path / "raw"
    shutil.copytree(RAW, out)
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    dumps, _ = resolve_dumps(RAW, CAPTURE)
    linked, _ = link_tables(combine(extract_batch(dumps)), RAW)
    return linked


# --- writing table files ----------------------------------------------------------


def test_same_rows_give_the_same_files_however_they_come(tables, tmp_path: Path) -> None:
    eager = load.write_tables(tables, tmp_path / "eager")
    lazy = load.write_tables({n: f.lazy() for n, f in tables.items()}, tmp_path / "lazy")
    # Many chunks, rows in reverse: the layout sorts them, bytes do not depend on it.
    shuffled = {
        n: pl.concat([f.reverse().slice(0, f.height // 2), f.reverse().slice(f.height // 2)])
        for n, f in tables.items()
    }
    chunked = load.write_tables(shuffled, tmp_path / "chunked")
    assert eager == lazy == chunked
    records = eager["records"]
    # One file per bucket that has rows; each file's rows are in that bucket.
    assert len(records.files) == len({f.bucket for f in records.files}) > 1
    for file in records.files:
        rows = pl.read_parquet(tmp_path / "eager" / "records" / file.name)
        assert rows.height == file.rows == json.loads(file.stats)["numRecords"]
        buckets = {layout.bucket_of(s, 64) for s in rows["source_file"].unique()}
        assert buckets == {file.bucket}
        assert rows.equals(rows.sort("source_file", "record_index"))
    # Papers sit in their home dump's bucket: the smallest source_file of their records.
    homes = tables["paper_sources"].group_by("paper_id").agg(pl.col("source_file").min())
    for file in eager["papers"].files:
        ids = pl.read_parquet(tmp_path / "eager" / "papers" / file.name)["paper_id"]
        home = homes.filter(pl.col("paper_id").is_in(ids.implode()))["source_file"]
        assert {layout.bucket_of(h, layout.PAPER_BUCKETS) for h in home} == {file.bucket}
    # An empty table is one empty file, so its schema is on disk too.
    assert eager["rejects"].rows == 0 and len(eager["rejects"].files) == 1


def test_a_lazy_table_is_split_in_one_read_whatever_its_batches(
    tables, tmp_path: Path, monkeypatch
) -> None:
    """A LazyFrame goes to per-bucket spill files batch by batch: tiny batches, many
    spill files per bucket, the same data files as the table written whole."""
    monkeypatch.setattr(load, "STREAM_BATCH_ROWS", 7)
    monkeypatch.setattr(load, "SPILL_BATCH_BYTES", 3000)
    names = ["records", "papers", "rejects", "paper_authors"]
    eager = load.write_tables({n: tables[n] for n in names}, tmp_path / "eager")
    lazy = load.write_tables({n: tables[n].lazy() for n in names}, tmp_path / "lazy")
    assert eager == lazy
    # Spill folders are gone after the write.
    assert not [p for p in (tmp_path / "lazy").rglob(".tmp-*")]


def test_a_spill_left_by_a_killed_run_is_removed(tables, tmp_path: Path) -> None:
    root = tmp_path / "tables"
    files = load.write_tables({"records": tables["records"]}, root)["records"]
    spill = root / "records" / ".tmp-spill-4242"
    spill.mkdir()
    (spill / "00001-0000000.arrow").write_bytes(b"half")
    removed = delta.delete_unreferenced(root / "records", files.names)
    assert ".tmp-spill-4242" in removed and not spill.exists()
    assert {p.name for p in (root / "records").glob("*.parquet")} == files.names


def test_buckets_known_unchanged_are_not_computed(tables, tmp_path: Path) -> None:
    first = load.write_tables(tables, tmp_path / "t")
    bucket = layout.bucket_of(DROPPED, 64)
    # The caller says the dropped dump's bucket is unchanged: its old file stays,
    # although the rows handed in no longer hold it, and no other file changes.
    changed = tables["records"].with_columns(
        title=pl.when(pl.col("source_file") == DROPPED)
        .then(pl.lit("edited"))
        .otherwise(pl.col("title"))
    )
    hinted = load.write_table(
        "records", changed.lazy(), tmp_path / "t" / "records", first["records"], {bucket}
    )
    assert hinted == first["records"]
    plain = load.write_table("records", changed, tmp_path / "t" / "records", first["records"])
    differs = [f.bucket for f in plain.files if f not in first["records"].files]
    assert differs == [bucket]


# --- commits and versions ---------------------------------------------------------


def test_only_what_changed_is_committed(prefect_harness, raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse)
    before = _files(warehouse)
    (raw / DROPPED).unlink()
    _refresh(raw, warehouse)
    after = _files(warehouse)
    # The topic taxonomy did not change: no commit, same Delta version and file.
    assert after["topics"] == before["topics"]
    assert DeltaTable(warehouse / "tables" / "topics").version() == before["topics"].delta_version
    # records: only the dropped dump's bucket changed; the other files are kept.
    bucket = layout.bucket_of(DROPPED, 64)
    assert {f for f in before["records"].files if f.bucket != bucket} == set(after["records"].files)
    assert after["records"].delta_version == before["records"].delta_version + 1
    # Each Delta version holds exactly the files its warehouse version names.
    for version, files in (("1", before), ("2", after)):
        for name, table in files.items():
            snapshot = delta.snapshot(warehouse / "tables" / name, table.delta_version)
            assert set(snapshot.sizes) == table.names, (version, name)
    info = store.read_build_info(warehouse, "2")
    assert info["publish"]["mode"] == "incremental"
    assert "topics" not in info["publish"]["changed_tables"]


def _views(database: Path) -> dict[str, list]:
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            r[0]
            for r in con.sql(
                "select view_name from duckdb_views() where not internal and schema_name = 'main'"
            ).fetchall()
        ]
        return {n: sorted(map(repr, con.sql(f"select * from {n}").fetchall())) for n in names}


@pytest.mark.parametrize("tables", ["diffed", "hashed"])
def test_an_incremental_build_equals_a_build_from_scratch(
    prefect_harness, raw: Path, tmp_path: Path, monkeypatch, tables: str
) -> None:
    if tables == "hashed":
        # Every changed table's changed rows found by row hashes (what large
        # tables do when most of their files changed), paper tables included:
        # the link's changed papers are not used.
        monkeypatch.setattr(table_updates, "RELOAD_SHARE", 0.0)
        monkeypatch.setattr(table_updates, "ALWAYS_DIFF_ROWS", 0)
        monkeypatch.setattr(publish, "PAPER_ROWS", ())
    warehouse, scratch = tmp_path / "wh", tmp_path / "scratch"
    _refresh(raw, warehouse)
    # A new description of one topic changes the topics table alone.
    topics = (RAW.parent / "pipelines" / "data" / "topics.toml").read_text(encoding="utf-8")
    edited = topics.replace("Drafting tokens with a cheap model", "Drafting tokens cheaply", 1)
    assert edited != topics
    (raw / "topics.toml").write_text(edited, encoding="utf-8")
    _refresh(raw, warehouse)
    record = store.read_build_info(warehouse, "2")["publish"]
    assert record["mode"] == "incremental" and record["changed_tables"] == ["topics"]
    # Views that read topics are computed again; co-author pairs are not.
    assert "topic_year" in record["recomputed_views"]
    assert "coauthor_pairs" not in record["recomputed_views"]
    assert 0 < record["tests_run"] < len(list((RAW.parent / "sql" / "tests").glob("*.sql")))

    # Dumps changed and removed: many tables change, rows replaced by key.
    text = (raw / "001_f44773a72a01ad56.txt").read_text(encoding="utf-8")
    (raw / "001_f44773a72a01ad56.txt").write_text(text.replace("MGG:", "MGG-2:"))
    (raw / DROPPED).unlink()
    _refresh(raw, warehouse)
    record = store.read_build_info(warehouse, "3")["publish"]
    assert record["mode"] == "incremental"
    # Co-author pairs and authors' activity are updated for the authors the
    # change touched only (author_summary, which adds the network's numbering
    # that moves for most, keeps no rows: it joins the two when read).
    n_authors = store.read_build_info(warehouse, "3")["tables"]["authors"]
    for view in ("coauthor_pairs", "author_activity"):
        assert view in record["updated_views"]
        assert 0 < record["scopes"][view] < n_authors
    assert "author_summary" not in record["recomputed_views"] + record["updated_views"]
    # Paper tables compare only the papers the link re-derived, unless told not to.
    expected = {"diffed": "papers", "hashed": "hashes"}[tables]
    assert record["row_diffs"]["papers"] == record["row_diffs"]["paper_authors"] == expected
    assert record["row_diffs"]["records"] == {"diffed": "files", "hashed": "hashes"}[tables]

    _refresh(raw, scratch)
    assert store.read_build_info(scratch, "1")["publish"]["mode"] == "full"
    assert _views(warehouse / "paperlake.duckdb") == _views(scratch / "paperlake.duckdb")
    assert {n: t.names for n, t in _files(warehouse).items()} == {
        n: t.names for n, t in _files(scratch).items()
    }


def test_rollback_moves_the_delta_tables(prefect_harness, raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    _two_versions(raw, warehouse)
    assert _newest(warehouse, "sources").height == 4
    result = runner.invoke(app, ["rollback", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    # Readers of the newest snapshots see version 1 again, by a new commit.
    assert _newest(warehouse, "sources").height == 5
    sources = DeltaTable(warehouse / "tables" / "sources")
    assert sources.version() == _files(warehouse, "2")["sources"].delta_version + 1
    # The recipe: each table at the Delta version build.json names.
    published = store.published_tables(warehouse)
    assert published["sources"].delta_version == _files(warehouse, "1")["sources"].delta_version
    pinned = pl.read_delta(
        str(published["sources"].path), version=published["sources"].delta_version
    )
    assert pinned.sort("source_file").equals(_newest(warehouse, "sources").sort("source_file"))
    assert all(p.is_file() for t in published.values() for p in t.files)


def test_data_files_are_deleted_only_when_no_kept_version_needs_them(
    prefect_harness, raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh"
    edited = raw / "001_f44773a72a01ad56.txt"
    text = edited.read_text(encoding="utf-8")
    for i in range(4):
        # Four different versions of one dump: its files differ every time.
        edited.write_text(text.replace("MGG:", f"MGG-{i}:"), encoding="utf-8")
        _refresh(raw, warehouse, "--keep", "1")
    assert store.version_ids(warehouse) == ["4"]
    kept = _files(warehouse)
    for name, table in kept.items():
        folder = warehouse / "tables" / name
        on_disk = {p.name for p in folder.glob("*.parquet")}
        # The published files, plus the snapshot before the newest (for readers
        # still reading it); nothing else.
        newest = delta.snapshot(folder)
        previous = delta.snapshot(folder, newest.version - 1) if newest.version else newest
        assert table.names <= on_disk, name
        assert on_disk == set(newest.sizes) | set(previous.sizes), name
    pruned = {f.name for f in _files_of_removed(warehouse)}
    assert pruned  # something was deleted at all


def _files_of_removed(warehouse: Path) -> list[delta.DataFile]:
    """Files some Delta version named that are no longer on disk."""
    gone = []
    for folder in (warehouse / "tables").iterdir():
        table = DeltaTable(folder)
        for version in range(table.version() + 1):
            for name in delta.snapshot(folder, version).sizes:
                if not (folder / name).exists():
                    gone.append(delta.DataFile(name, 0, 0, 0, ""))
    return gone


def test_a_0_1_warehouse_is_taken_over(prefect_harness, raw: Path, tmp_path: Path) -> None:
    """0.1 kept Parquet files in each version and linked <table>.parquet to current/."""
    warehouse = tmp_path / "wh"
    old = warehouse / "versions" / "1"
    old.mkdir(parents=True)
    pl.DataFrame({"source_file": ["x"]}).write_parquet(old / "sources.parquet")
    (old / "build.json").write_text(json.dumps({"version": "1", "tables": {"sources": 1}}))
    (old / "paperlake.duckdb").write_bytes(b"")
    os.symlink("versions/1", warehouse / "current")
    os.symlink("current/sources.parquet", warehouse / "sources.parquet")
    os.symlink("current/paperlake.duckdb", warehouse / "paperlake.duckdb")
    assert "Published version 2" in _refresh(raw, warehouse)
    assert not (warehouse / "sources.parquet").is_symlink()
    assert store.version_ids(warehouse) == ["2"]  # 0.1's version: no rollback target, pruned
    assert _newest(warehouse, "sources").height == 5


# --- crashes, with real processes ----------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _kill_at(stage: str, args: list[str], env: dict, marker: Path, processes: list) -> None:
    """Run `paperlake ARGS` until it reaches ``stage``, then kill -9 its process group."""
    proc = subprocess.Popen(
        [*PAPERLAKE, *args],
        env={**env, PAUSE_AT: stage, PAUSE_FILE: str(marker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    processes.append(proc)
    deadline = time.monotonic() + PATIENCE
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"exited before {stage}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"did not reach {stage}"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    marker.unlink()


def test_a_version_never_published_is_no_rollback_target(
    subprocess_env, processes, raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh"
    _two_versions(raw, warehouse)
    shutil.copy(RAW / DROPPED, raw / DROPPED)
    # Killed after version 3 was renamed into place and committed, before `current`.
    args = ["refresh", "--raw", str(raw), "--warehouse", str(warehouse)]
    _kill_at("commit", args, subprocess_env, tmp_path / "paused", processes)
    assert (warehouse / "versions" / "3" / "build.json").is_file()
    assert store.current_version(warehouse) == "2"
    assert store.version_ids(warehouse) == ["1", "2"]
    status = runner.invoke(app, ["status", "--warehouse", str(warehouse)])
    first_cells = [row.split("│")[1].strip() for row in status.output.splitlines() if "│" in row]
    assert status.exit_code == 0 and "2" in first_cells and "3" not in first_cells

    refused = runner.invoke(app, ["rollback", "--to", "3", "--warehouse", str(warehouse)])
    assert refused.exit_code == EXIT_FAILED and "version 3 is not kept" in refused.output
    # That rollback recovered first: version 3 is gone and the Delta tables,
    # committed ahead by the killed run, hold version 2 again.
    assert not (warehouse / "versions" / "3").exists()
    assert _newest(warehouse, "sources").height == 4
    back = runner.invoke(app, ["rollback", "--warehouse", str(warehouse)])
    assert back.exit_code == 0 and "version 1 is published (was 2)" in back.output
    assert _newest(warehouse, "sources").height == 5


def test_a_rollback_killed_half_way_is_undone(
    subprocess_env, processes, raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh"
    _two_versions(raw, warehouse)
    # Killed after moving the Delta tables to version 1, before switching `current`.
    args = ["rollback", "--warehouse", str(warehouse)]
    _kill_at("rollback", args, subprocess_env, tmp_path / "paused", processes)
    assert store.current_version(warehouse) == "2"
    assert _newest(warehouse, "sources").height == 5  # ahead of the published version
    with store.warehouse_lock(warehouse):
        notes = store.recover(warehouse)
    assert any("brought back to published version 2" in n for n in notes)
    assert _newest(warehouse, "sources").height == 4
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from sources").fetchone()[0] == 4
