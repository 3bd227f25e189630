"""Stable identifiers: a prefix plus the first 16 hex digits of MD5 of a key.

MD5 here names things, it does not protect them. DuckDB computes it over the
whole column; Polars' own hash is not stable across Polars versions.
"""

from __future__ import annotations

import duckdb
import polars as pl


def stable_ids(keys: pl.Series, prefix: str) -> pl.Series:
    """Map each key to ``<prefix><16 hex digits>``; equal keys, equal ids, on any run."""
    frame = keys.rename("key").to_frame().with_row_index("row")
    con = duckdb.connect()
    try:
        con.register("keys", frame)
        ids = con.sql(
            "select $prefix || substr(md5(key), 1, 16) as id from keys order by row",
            params={"prefix": prefix},
        ).pl()
    finally:
        con.close()
    return ids["id"].rename(keys.name)
