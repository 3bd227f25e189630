"""The data dictionary: every view of the DuckDB file with its columns, types and
comments, as Markdown generated from the database itself, so the documentation
is whatever the published file says and cannot drift from it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.sqlgraph import LAYERS

HEADER = """\
# Data dictionary

Generated from `warehouse/paperlake.duckdb` by `paperlake dictionary`; do not
edit by hand. Every view and column below carries the same text as a
`COMMENT ON` in the database, which BI tools show as descriptions. The SQL of
each view is in `sql/<layer>/<view>.sql`.
"""

LAYER_TITLES = {
    "staging": "Staging views (one per warehouse table; rename and cast only)",
    "marts": "Analysis views",
}


def _cell(text: str | None) -> str:
    """Table-cell safe text: pipes escaped, line breaks flattened."""
    return (text or "").replace("|", "\\|").replace("\n", " ")


def view_layers(sql_dir: Path) -> dict[str, str]:
    """Which layer of ``sql/`` defines each view (by file name)."""
    return {path.stem: layer for layer in LAYERS for path in (sql_dir / layer).glob("*.sql")}


def data_dictionary(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> str:
    """Markdown describing every view of the connected database, grouped by layer."""
    views = con.sql(
        """
        select view_name, comment from duckdb_views()
        where not internal and database_name = current_database() and schema_name = 'main'
        order by view_name
        """
    ).fetchall()
    columns = con.sql(
        """
        select v.view_name, c.column_name, c.data_type, c.comment
        from duckdb_views() v
        join duckdb_columns() c on c.table_oid = v.view_oid
        where not v.internal and v.database_name = current_database()
          and v.schema_name = 'main'
        order by v.view_name, c.column_index
        """
    ).fetchall()
    by_view: dict[str, list[tuple[str, str, str | None]]] = {}
    for view, column, data_type, comment in columns:
        by_view.setdefault(view, []).append((column, data_type, comment))
    layers = view_layers(sql_dir)
    sections = [*LAYERS, "other"]
    titles = {**LAYER_TITLES, "other": "Other views"}
    out = [HEADER]
    for section in sections:
        members = [(v, c) for v, c in views if layers.get(v, "other") == section]
        if not members:
            continue
        out.append(f"## {titles.get(section, section)}\n")
        out.append(", ".join(f"[`{v}`](#{v})" for v, _ in members) + "\n")
        for view, comment in members:
            out.append(f"### {view}\n")
            out.append(f"{comment or ''}\n")
            out.append("| column | type | description |")
            out.append("| --- | --- | --- |")
            for column, data_type, col_comment in by_view.get(view, []):
                out.append(f"| `{column}` | {_cell(data_type)} | {_cell(col_comment)} |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def dictionary_of(database: Path, sql_dir: Path) -> str:
    """The data dictionary of a DuckDB file, opened read-only."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return data_dictionary(con, sql_dir)
    finally:
        con.close()
