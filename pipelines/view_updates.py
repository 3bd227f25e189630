"""Row-level upkeep of the author-keyed analysis views in an incremental build.

An incremental build (``pipelines/publish.py``) replaces the changed rows of
each table; this module keeps, per table, what those rows name (temp table
``changed_rows_<table>``: the paper_id, author_id and category_code of every
row added or removed). From them ``sql/incremental/touched_authors.sql``
finds, per table, the authors whose rows in an author-keyed view a change to
that table can alter; a view's *scope* (temp relation ``scope_<view>``) is
the authors touched through the tables it reads.

A view declared ``Incremental:`` in its header (``pipelines/sqlgraph.py``)
is then recomputed for its scope only: its own SQL runs, unchanged, in an
attached in-memory database where the per-paper and per-author relations
hold just the rows of the scope's papers, and its stored rows for the scope
are replaced by the result. Such a view's rows read only the rows of their
authors' papers, so the smaller inputs give the same rows. A scope of more
than half the authors is recomputed whole instead (cheaper), and keeps its
scope for the data tests.

Data tests filter a view on its scope to check only the authors it can have
changed. In a full build, or after a change this module cannot follow (a
table reloaded whole, or one it keeps no changed rows for), a view's scope
is every author.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from pipelines.errors import PaperlakeError
from pipelines.sqlgraph import Mart, scope_of
from pipelines.sqlquote import identifier, literal, qualified

# The tables whose changed rows are kept, and the columns kept of each.
TRACKED: dict[str, tuple[str, ...]] = {
    "papers": ("paper_id",),
    "paper_authors": ("paper_id", "author_id"),
    "paper_topics": ("paper_id",),
    "authors": ("author_id",),
    "author_network": ("author_id",),
    "categories": ("category_code",),
}
# The relations an incremental view is recomputed on, restricted to the scope:
# "papers" keeps the rows of the scope's papers, "authors" those of every
# author printed on them.
SHADOWED = {
    "papers": "papers",
    "paper_authors": "papers",
    "paper_topics": "papers",
    "authors": "authors",
    "author_network": "authors",
}
SCOPE_DATABASE = "paperlake_scope"
TOUCHED_SQL = Path("incremental") / "touched_authors.sql"
# A view whose scope holds more than this share of the authors is recomputed whole.
WHOLE_SHARE = 0.5


def changed_rows(name: str) -> str:
    """The temp table of the rows of table ``name`` an incremental build changed."""
    return f"changed_rows_{name}"


def keep_changed_rows(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Keep what the changed rows of table ``name`` name, from the temp tables
    ``old_rows`` and ``new_rows`` (its rows in removed and in added files)."""
    if name not in TRACKED:
        return
    columns = ", ".join(identifier(c) for c in TRACKED[name])
    target = identifier(changed_rows(name))
    # identifiers only: the table and column names through identifier()
    con.execute(
        f"create or replace temp table {target} as select distinct {columns} from ("
        f"(select * from old_rows except all select * from new_rows) "
        f"union all (select * from new_rows except all select * from old_rows))"
    )


def changed_by_hash(
    con: duckdb.DuckDBPyConnection,
    name: str,
    stored: tuple[str, str],
    paths: list[str],
    key: tuple[str, ...],
) -> None:
    """The changed rows of table ``name`` when most of its files changed: its stored
    rows (``stored``: schema and table, still the old rows) against the new data
    files ``paths``, compared by each row's 64-bit hash (a diff of whole rows
    would read every abstract twice). Leaves their keys in temp table ``changed_keys``, and keeps
    what they name when the table is in TRACKED."""
    names = list(dict.fromkeys([*key, *TRACKED.get(name, ())]))
    columns = ", ".join(identifier(c) for c in names)
    table = qualified(*stored)
    # identifiers only: the names through identifier()/qualified()
    con.execute(
        f"create or replace temp table old_hashes as select {columns}, hash(r) as h from {table} r"
    )
    con.execute(
        f"create or replace temp table new_hashes as "
        f"select {columns}, hash(r) as h from read_parquet(?) r",
        [paths],
    )
    con.execute(
        "create or replace temp table changed_hashes as "
        "(select * from old_hashes except all select * from new_hashes) "
        "union all (select * from new_hashes except all select * from old_hashes)"
    )
    keys = ", ".join(identifier(c) for c in key)
    con.execute(
        f"create or replace temp table changed_keys as select distinct {keys} from changed_hashes"
    )
    if name in TRACKED:
        tracked = ", ".join(identifier(c) for c in TRACKED[name])
        target = identifier(changed_rows(name))
        con.execute(
            f"create or replace temp table {target} as "
            f"select distinct {tracked} from changed_hashes"
        )
    con.execute("drop table old_hashes; drop table new_hashes; drop table changed_hashes")


def _has_temp(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from (select view_name as name from duckdb_views() where temporary "
            "union all select table_name from duckdb_tables() where temporary) where name = ?",
            [name],
        ).fetchone()[0]
    )


def scope_every_author(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    """The view's scope as every author (a full build, or a change not followed)."""
    scope = identifier(scope_of(mart.name))
    con.execute(
        f"create or replace temp view {scope} as select author_id from authors"
    )  # identifiers only


def default_scopes(con: duckdb.DuckDBPyConnection, marts: list[Mart]) -> None:
    """Every author as the scope of each incremental view that has none on this connection."""
    for mart in marts:
        if mart.incremental and not _has_temp(con, scope_of(mart.name)):
            scope_every_author(con, mart)


def find_touched(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    """Run ``touched_authors.sql`` over the changed rows kept (none kept: none changed)."""
    for name, columns in TRACKED.items():
        table = identifier(changed_rows(name))
        typed = ", ".join(f"{identifier(c)} varchar" for c in columns)
        con.execute(f"create temp table if not exists {table} ({typed})")  # identifiers only
    path = sql_dir / TOUCHED_SQL
    try:
        con.execute(path.read_text(encoding="utf-8"))
    except (OSError, duckdb.Error) as err:
        raise PaperlakeError(f"{path}: {err}") from None


def scope_touched(con: duckdb.DuckDBPyConnection, mart: Mart, tables: set[str]) -> int:
    """The view's scope as the authors touched through ``tables``; returns its size."""
    scope = identifier(scope_of(mart.name))
    # identifiers only: the relation's name through identifier(); the tables bound
    con.execute(
        f"create or replace temp table {scope} as select distinct author_id "
        "from touched_authors where list_contains(?, table_name) order by author_id",
        [sorted(tables)],
    )
    return int(con.execute(f"select count(*) from {scope}").fetchone()[0])  # identifiers only


def is_small(con: duckdb.DuckDBPyConnection, n_scope: int) -> bool:
    """Whether a scope is small enough to recompute row by row."""
    n_authors = con.execute("select count(*) from authors").fetchone()[0]
    return n_scope <= WHOLE_SHARE * n_authors


def update_rows(
    con: duckdb.DuckDBPyConnection,
    marts: list[Mart],
    stored: Callable[[str], tuple[str, str]],
    apply: Callable[[duckdb.DuckDBPyConnection, Path], None],
) -> None:
    """Recompute the scope's rows of each incremental view in ``marts``.

    ``stored(view)``: the (schema, table) of a view's stored rows; ``apply(con, path)``
    runs a SQL file. The views' own SQL runs in an attached in-memory database
    whose shadowed relations hold only the rows of the scopes' papers (the
    union of the views' scopes); names it lacks resolve to the warehouse's own
    views.
    """
    if not marts:
        return
    home = con.execute("select current_database()").fetchone()[0]
    scope_db = identifier(SCOPE_DATABASE)
    scopes = " union ".join(f"select author_id from {identifier(scope_of(m.name))}" for m in marts)
    con.execute(f"attach ':memory:' as {scope_db}")  # identifiers only
    try:
        con.execute(f"create temp table scope_union as {scopes}")  # identifiers only
        con.execute(
            "create temp table scope_papers as select distinct paper_id from paper_authors "
            "where author_id in (select author_id from scope_union)"
        )
        printed = qualified(SCOPE_DATABASE, "main", "paper_authors")
        # paper_authors first: the author relations keep the authors it names.
        for name in sorted(SHADOWED, key=lambda n: (SHADOWED[n] != "papers", n)):
            target = qualified(SCOPE_DATABASE, "main", name)
            source = qualified(home, "main", name)
            where = "paper_id in (select paper_id from scope_papers)"
            if SHADOWED[name] == "authors":
                where = (
                    f"author_id in (select author_id from {printed} "
                    "union select author_id from scope_union)"
                )
            # The names come through qualified(); the conditions are the constants above.
            con.execute(
                f"create table {target} as select * from {source} where {where}"
            )  # identifiers only
        con.execute(f"use {scope_db}")  # identifiers only
        path = f"{SCOPE_DATABASE}.main,{identifier(home)}.main"
        con.execute(f"set search_path = {literal(path)}")  # identifiers only
        try:
            for mart in marts:
                apply(con, mart.path)
        finally:
            con.execute(f"use {identifier(home)}")  # identifiers only
            con.execute("reset search_path")
        for mart in marts:
            rows = qualified(*stored(mart.name))
            scope = identifier(scope_of(mart.name))
            # The row belongs to an author in the view's scope.
            belongs = " or ".join(
                f"{identifier(c)} in (select author_id from {scope})" for c in mart.incremental
            )
            computed = qualified(SCOPE_DATABASE, "main", mart.name)
            # identifiers only: names through identifier()/qualified()
            con.execute(f"delete from {rows} where {belongs}")  # identifiers only
            sql = f"insert into {rows} select * from {computed} where {belongs}"
            con.execute(sql)  # identifiers only
    finally:
        con.execute("drop table if exists scope_union")
        con.execute("drop table if exists scope_papers")
        con.execute(f"detach database if exists {scope_db}")  # identifiers only
