"""SQLAlchemy plugin ``paperlake``: column inspection of DuckDB files for BI tools.

With the SQLAlchemy (2.0.58) and duckdb-engine (0.17.0) that paperlake pins,
``inspect(engine).get_columns(view)`` fails on every view of every DuckDB
file: SQLAlchemy's PostgreSQL dialect, which duckdb-engine builds on, asks
``pg_catalog.pg_collation`` for each column's collation, and DuckDB has no
such table. No change to the file can add one (DuckDB refuses new entries in
its system catalog), so this plugin drops that one column of the query and
says "no collation", which is true of every DuckDB column. Everything else,
comments included, comes from duckdb-engine unchanged.

Enable it by name in the URL (it must be installed where the BI tool runs)::

    duckdb:////data/warehouse/paperlake.duckdb?plugin=paperlake

The other problems BI tools met are fixed in the file itself
(``pipelines.publish``): internal tables never share a view's name, and the
file defines the ``regclass`` type SQLAlchemy casts to for keys and comments.
"""

from __future__ import annotations

import types
from typing import Any

from sqlalchemy import null
from sqlalchemy.engine import CreateEnginePlugin, Engine


def _columns_query_without_collation(original):
    def columns_query(self, *args: Any, **kwargs: Any):
        query = original(*args, **kwargs)
        columns = [
            null().label("collation") if column.key == "collation" else column
            for column in query.selected_columns
        ]
        return query.with_only_columns(*columns)

    return columns_query


class PaperlakeInspection(CreateEnginePlugin):
    """Entry point ``sqlalchemy.plugins: paperlake``; acts on duckdb engines only."""

    def update_url(self, url):
        return url  # SQLAlchemy has already taken ``plugin`` out of the query

    def engine_created(self, engine: Engine) -> None:
        dialect = engine.dialect
        if dialect.name != "duckdb" or not hasattr(dialect, "_columns_query"):
            return
        # This engine's dialect only: other engines of the process are untouched.
        patched = _columns_query_without_collation(dialect._columns_query)
        dialect._columns_query = types.MethodType(patched, dialect)
