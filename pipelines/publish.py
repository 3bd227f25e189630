"""Publish the warehouse as a DuckDB file that BI tools and the duckdb CLI open.

The Parquet tables are copied into schema ``lake`` of a new database file, the
views in ``sql/`` are applied layer by layer (staging, then marts), the SQL data
tests in ``sql/tests`` must return no rows, and only then is the new file
renamed over the old one. The file is self-contained: it opens from any
working directory, read-only, and in DuckDB releases from 1.0 on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.errors import PaperlakeError

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


def publish(parquet_files: dict[str, Path], database_path: Path, sql_dir: Path) -> int:
    """Build the DuckDB file beside ``database_path`` and swap it in. Returns the view count."""
    database_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = database_path.with_name(f".{database_path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{tmp}' as warehouse (storage_version '{STORAGE_VERSION}')")
        con.execute("use warehouse")
        con.execute("create schema lake")
        for name, path in sorted(parquet_files.items()):
            con.execute(
                f"create table lake.{name} as select * from read_parquet('{path.resolve()}')"
            )
        for layer in LAYERS:
            for path in _sql_files(sql_dir, layer):
                _apply(con, path)
        failures = run_data_tests(con, sql_dir)
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
    os.replace(tmp, database_path)
    return int(n_views)
