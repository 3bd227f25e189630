"""The published DuckDB file, opened read-only, and what is known about its build.

Paths are given to DuckDB as connection arguments and values as bound
parameters; no SQL here is built from a path or a value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.errors import PaperlakeError

DATABASE = "paperlake.duckdb"
BUILD_INFO = "build.json"


def database_of(warehouse: Path) -> Path:
    """The DuckDB file of a warehouse folder."""
    return warehouse / DATABASE


@contextmanager
def reading(database: Path, views: Sequence[str] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to ``database``; PaperlakeError when it is missing,
    not a DuckDB file, or lacks one of ``views`` (built by an older paperlake)."""
    if not database.is_file():
        raise PaperlakeError(f"{database}: no such database; run `paperlake refresh` first")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as err:
        raise PaperlakeError(f"{database}: cannot open: {err}") from None
    try:
        if views:
            present = {
                row[0]
                for row in con.execute(
                    "select view_name from duckdb_views() where not internal"
                ).fetchall()
            }
            missing = sorted(set(views) - present)
            if missing:
                raise PaperlakeError(
                    f"{database}: no view {', '.join(missing)}: it was built by an older "
                    "paperlake; run `paperlake refresh` to rebuild it"
                )
        yield con
    except duckdb.Error as err:
        raise PaperlakeError(f"{database}: {type(err).__name__}: {err}") from None
    finally:
        con.close()


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run one query with bound ``$name`` parameters and return its rows as Polars."""
    return con.execute(sql, params or {}).pl()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None):
    """The first column of the first row of a query."""
    row = con.execute(sql, params or {}).fetchone()
    return None if row is None else row[0]


@dataclass(frozen=True)
class Build:
    """What the build record beside a DuckDB file says; all None when there is none."""

    version: str | None = None
    built_at: str | None = None
    raw_dir: str | None = None
    flow_run_id: str | None = None
    paperlake_version: str | None = None


def build_of(database: Path) -> Build:
    """The build record (``build.json``) of the version ``database`` belongs to.

    The record sits beside the real file (a published name is a symlink into
    its version folder); a warehouse without one gives an empty Build.
    """
    path = Path(os.path.realpath(database)).parent / BUILD_INFO
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Build()
    if not isinstance(info, dict):
        return Build()
    return Build(
        version=_text(info.get("version")),
        built_at=_text(info.get("built_at")),
        raw_dir=_text(info.get("raw_dir")),
        flow_run_id=_text(info.get("flow_run_id")),
        paperlake_version=_text(info.get("paperlake_version")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
