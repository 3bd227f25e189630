"""Publish the warehouse: build and test the DuckDB file of a version.

The Parquet tables are copied into schema ``lake`` of a new database file, the
views in ``sql/`` are applied layer by layer (staging, then marts), the marts'
rows are computed once into schema ``materialized``, the SQL data tests in
``sql/tests`` must return no rows, and only then is the new file
renamed into place. The file is self-contained: it opens from any working
directory, read-only, and in DuckDB releases from 1.0 on.

The versioned folder it is built in, and how a build is published, are
``pipelines.warehouse``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__, progress
from pipelines.errors import PaperlakeError
from pipelines.store import BUILD_INFO, BUILDING, DATABASE, fsync_dir, utc_now

# Readable by DuckDB 1.0 and later, which is what BI tools bundle.
STORAGE_VERSION = "v1.0.0"
LAYERS = ("staging", "marts")


@dataclass(frozen=True)
class DataTestFailure:
    name: str
    n_rows: int
    sample: list[tuple]


def _sql_files(sql_dir: Path, layer: str) -> list[Path]:
    return sorted((sql_dir / layer).glob("*.sql"))


def _apply(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.execute(path.read_text(encoding="utf-8"))
    except duckdb.Error as err:
        raise PaperlakeError(f"{path}: {err}") from None


def run_data_tests(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> list[DataTestFailure]:
    """Run each ``sql/tests/*.sql`` query; a test fails when it returns rows."""
    failures = []
    for path in _sql_files(sql_dir, "tests"):
        try:
            rows = con.sql(path.read_text(encoding="utf-8")).fetchall()
        except duckdb.Error as err:
            raise PaperlakeError(f"{path}: {err}") from None
        if rows:
            failures.append(DataTestFailure(path.stem, len(rows), rows[:3]))
    return failures


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def materialize_views(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Compute each analysis view once, into a table of schema ``materialized``.

    The view keeps its name, columns and comments but reads the stored rows
    (dbt's "table" materialization): a dashboard's query and the data tests
    no longer recompute co-author pairs or yearly counts over the whole
    warehouse. The view's SQL stays in ``sql/marts``; only its result is stored.
    """
    con.execute("create schema if not exists materialized")
    for name in names:
        view_comment = con.execute(
            "select comment from duckdb_views() where view_name = ? and schema_name = 'main'",
            [name],
        ).fetchone()
        if view_comment is None:
            raise PaperlakeError(f"sql/marts/{name}.sql defines no view named {name}")
        columns = con.execute(
            "select column_name, comment from duckdb_columns() "
            "where table_name = ? and schema_name = 'main' order by column_index",
            [name],
        ).fetchall()
        con.execute(f'create table materialized."{name}" as select * from main."{name}"')
        con.execute(f'create or replace view main."{name}" as select * from materialized."{name}"')
        if view_comment[0] is not None:
            con.execute(f'comment on view main."{name}" is {_quote(view_comment[0])}')
        for column, comment in columns:
            if comment is not None:
                con.execute(f'comment on column main."{name}"."{column}" is {_quote(comment)}')


def publish(parquet_files: dict[str, Path], database_path: Path, sql_dir: Path) -> int:
    """Build the DuckDB file beside ``database_path`` and swap it in. Returns the view count."""
    database_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = database_path.with_name(f".{database_path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    sql_files = [p for layer in LAYERS for p in _sql_files(sql_dir, layer)]
    progress.start("publish", len(parquet_files) + len(sql_files) + 1)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{tmp}' as warehouse (storage_version '{STORAGE_VERSION}')")
        con.execute("use warehouse")
        con.execute("create schema lake")
        for name, path in sorted(parquet_files.items()):
            con.execute(
                f"create table lake.{name} as select * from read_parquet('{path.resolve()}')"
            )
            progress.advance("publish")
        for path in sql_files:
            _apply(con, path)
            progress.advance("publish")
        materialize_views(con, [p.stem for p in _sql_files(sql_dir, "marts")])
        failures = run_data_tests(con, sql_dir)
        progress.advance("publish")
        n_views = con.sql(
            "select count(*) from duckdb_views() where not internal and database_name = 'warehouse'"
        ).fetchone()[0]
        con.execute("checkpoint")
        con.execute("use memory")
        con.execute("detach warehouse")
    finally:
        con.close()
    if failures:
        tmp.unlink(missing_ok=True)
        detail = "; ".join(f"{f.name}: {f.n_rows} rows, e.g. {f.sample[0]}" for f in failures)
        raise PaperlakeError(f"SQL data tests failed, warehouse not published: {detail}")
    progress.checkpoint("publish")
    os.replace(tmp, database_path)
    return int(n_views)


def fingerprint(parquet_files: dict[str, Path], sql_dir: Path) -> str:
    """A hash of everything a version's content depends on: table bytes, sql/, the code version.

    Two builds with equal fingerprints publish the same warehouse, so the second is skipped.
    """
    digest = hashlib.sha256(f"paperlake {__version__} storage {STORAGE_VERSION}\n".encode())
    for name, path in sorted(parquet_files.items()):
        with open(path, "rb") as handle:
            file_hash = hashlib.file_digest(handle, "sha256").hexdigest()
        digest.update(f"table {name} {file_hash}\n".encode())
    for path in sorted(p for p in sql_dir.rglob("*") if p.is_file()):
        digest.update(f"sql {path.relative_to(sql_dir).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode())
    return digest.hexdigest()


def finish_version(
    staging: Path, parquet_files: dict[str, Path], sql_dir: Path, info: dict[str, Any]
) -> int:
    """Build the DuckDB file in ``staging``, run the data tests, write build.json.

    Returns the number of views. Raises PaperlakeError (nothing published) when a test fails.
    """
    n_views = publish(parquet_files, staging / DATABASE, sql_dir)
    record = {
        **info,
        "version": staging.name.removeprefix(BUILDING),
        "built_at": utc_now(),
        "n_views": n_views,
    }
    tmp = staging / f".{BUILD_INFO}.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, staging / BUILD_INFO)
    fsync_dir(staging)
    return n_views
