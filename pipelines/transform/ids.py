"""Stable identifiers: a prefix plus the first 16 hex digits of MD5 of a key.

MD5 here names things, it does not protect them. DuckDB computes it over the
whole column; Polars' own hash is not stable across Polars versions.
"""

from __future__ import annotations

import threading

import duckdb
import polars as pl

# One in-memory DuckDB per thread (a connection is not shared between threads):
# opening one costs more than hashing a few thousand keys.
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    return con


def stable_ids(keys: pl.Series, prefix: str) -> pl.Series:
    """Map each key to ``<prefix><16 hex digits>``; equal keys, equal ids, on any run."""
    frame = keys.rename("key").to_frame().with_row_index("row")
    con = _connection()
    con.register("stable_id_keys", frame)
    try:
        ids = con.sql(
            "select $prefix || substr(md5(key), 1, 16) as id from stable_id_keys order by row",
            params={"prefix": prefix},
        ).pl()
    finally:
        con.unregister("stable_id_keys")
    return ids["id"].rename(keys.name)
