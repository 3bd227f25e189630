"""Publish the warehouse: build and test the DuckDB file of a version.

The file is self-contained (it opens from any working directory, read-only,
in DuckDB releases from 1.0 on) and laid out so that BI tools list only the
views:

    lake.<table>_data          the rows of each warehouse table, read by DuckDB
                               from the table's data files
    materialized.<view>_rows   the stored rows of each analysis view
    main.<view>                the views of sql/staging and sql/marts, with comments

No internal table has a view's name: duckdb-engine looks columns up by name
alone, so a shared name would list every column twice (README, "BI tools").

A full build loads every table, applies ``sql/`` layer by layer, computes each
analysis view's rows once (dbt's "table" materialization) and runs every SQL
data test. An incremental build starts from a copy of the published file:
it replaces only the rows of the changed tables whose key changed, recomputes
only the analysis views that read a changed table, and runs only the data
tests that read one. Either way the new file is renamed into place only when
every test passed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__, progress, table_updates, view_updates
from pipelines.delta import TableFiles
from pipelines.errors import PaperlakeError
from pipelines.layout import HINTED_BY_PAPER, TABLES
from pipelines.sqlgraph import (
    Mart,
    SqlGraph,
    marts_of,
    sql_digest,
    sql_files,
)
from pipelines.sqlquote import identifier, literal, qualified
from pipelines.store import BUILD_INFO, BUILDING, DATABASE, TABLE_FILES, utc_now, write_build_info
from pipelines.table_updates import LAKE

# Readable by DuckDB 1.0 and later, which is what BI tools bundle.
STORAGE_VERSION = "v1.0.0"
# The structure of the DuckDB file; a build may start from a copy of a
# published file only when that file has this layout.
LAYOUT = 3
MATERIALIZED = "materialized"
# DuckDB's memory while it builds (the linked frames are out of memory by
# then: see staging.write_version): this many times the bytes of the tables'
# Parquet files, at least MIN_MEMORY and at most MEMORY_FRACTION of physical
# memory. At 1 GB of dumps (311 MB of tables) DuckDB took 2.65 GB when given a
# quarter of memory; 1.4 GB (4.5 times) and 1.9 GB built it as fast, and the
# process peaked 0.18 GB lower at 1.4; 1 GB ran out of memory in a data test
# (a join that does not spill). A build that runs out of memory under the
# proportional limit is made again at the fraction.
MEMORY_PER_TABLE_BYTE = 4.5
MIN_MEMORY = 2**30
MEMORY_FRACTION = 0.25
# Tables whose rows belong to one paper each and change only when the link
# re-derives or removes it (``linkage.WriteHints.papers``).
PAPER_ROWS = HINTED_BY_PAPER
# Rows deleted in place leave free blocks behind: once a file updated in place
# has grown past this multiple of its size when last built in full, the next
# build is a full one again.
MAX_GROWTH = 2.0


def stored_rows(name: str) -> str:
    """The internal table holding analysis view ``name``'s computed rows."""
    return f"{name}_rows"


@dataclass(frozen=True)
class DataTestFailure:
    name: str
    n_rows: int
    sample: list[tuple]


@dataclass(frozen=True)
class BuildReport:
    """What a build of the DuckDB file did."""

    n_views: int
    mode: str  # "full" or "incremental"
    changed_tables: list[str] = field(default_factory=list)
    recomputed_views: list[str] = field(default_factory=list)
    # Views whose rows were recomputed only for the authors in scope.
    updated_views: list[str] = field(default_factory=list)
    # Authors in each incremental view's scope (absent: every author).
    scopes: dict[str, int] = field(default_factory=dict)
    # How each changed table's changed rows were found: "files" (rows of the
    # changed files compared), "papers" (only the re-derived papers' rows of
    # them), "hashes" (row hashes of the whole table) or "reloaded" (no key).
    row_diffs: dict[str, str] = field(default_factory=dict)
    tests_run: int = 0
    # Size of the file when it was last built in full (incremental builds grow it).
    full_build_bytes: int = 0
    # DuckDB's memory limit in bytes for the build that succeeded, and the how-manyth
    # try it was (a second when the proportional limit ran out: ``memory_limits``).
    memory_limit: int = 0
    memory_attempts: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "changed_tables": self.changed_tables,
            "recomputed_views": self.recomputed_views,
            "updated_views": self.updated_views,
            "scopes": self.scopes,
            "row_diffs": self.row_diffs,
            "tests_run": self.tests_run,
            "full_build_bytes": self.full_build_bytes,
            "memory_limit": self.memory_limit,
            "memory_attempts": self.memory_attempts,
        }


def _one_line(err: Exception) -> str:
    """An engine error as one line: its first line, without a C++ stack trace."""
    text = str(err).split("Stack Trace", 1)[0].strip()
    return " ".join(text.splitlines()[0].split()) if text else type(err).__name__


def _apply(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.execute(path.read_text(encoding="utf-8"))
    except duckdb.Error as err:
        raise PaperlakeError(f"{path}: {_one_line(err)}") from None


def run_data_tests(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, only: set[Path] | None = None
) -> list[DataTestFailure]:
    """Run each ``sql/tests/*.sql`` query (or those in ``only``); a test fails when it
    returns rows. Tests that filter a view on its scope (``scope_<view>``) check
    every author unless the build has scoped them (``pipelines/view_updates.py``)."""
    view_updates.default_scopes(con, marts_of(sql_dir))
    failures = []
    for path in sql_files(sql_dir, "tests"):
        if only is not None and path not in only:
            continue
        try:
            rows = con.sql(path.read_text(encoding="utf-8")).fetchall()
        except duckdb.Error as err:
            raise PaperlakeError(f"{path}: {_one_line(err)}") from None
        if rows:
            failures.append(DataTestFailure(path.stem, len(rows), rows[:3]))
    return failures


def materialize_views(con: duckdb.DuckDBPyConnection, marts: list[Mart]) -> None:
    """Compute each analysis view once, into table ``materialized.<view>_rows``.

    The view keeps its name, columns and comments but reads the stored rows
    (dbt's "table" materialization): a dashboard's query and the data tests
    no longer recompute co-author pairs or yearly counts over the whole
    warehouse. The view's SQL stays in ``sql/marts``; only its result is stored.
    A view declared ``Materialized: no`` stays as it is. Like a table's, a
    view's rows come in no set order: an incremental build replaces some in
    place (queries that need an order say ``order by``).
    """
    con.execute(f"create schema if not exists {identifier(MATERIALIZED)}")  # identifiers only
    for mart in marts:
        if not mart.materialized:
            continue
        name = mart.name
        view_comment = con.execute(
            "select comment from duckdb_views() "
            "where view_name = ? and schema_name = 'main' and database_name = current_database()",
            [name],
        ).fetchone()
        if view_comment is None:
            raise PaperlakeError(f"sql/marts/{name}.sql defines no view named {name}")
        columns = con.execute(
            "select column_name, comment from duckdb_columns() where table_name = ? "
            "and schema_name = 'main' and database_name = current_database() "
            "order by column_index",
            [name],
        ).fetchall()
        view, rows = qualified("main", name), qualified(MATERIALIZED, stored_rows(name))
        con.execute(f"create or replace table {rows} as select * from {view}")  # identifiers only
        con.execute(f"create or replace view {view} as select * from {rows}")  # identifiers only
        if view_comment[0] is not None:
            # identifiers only: identifier()/qualified(); the comment text through literal()
            con.execute(f"comment on view {view} is {literal(view_comment[0])}")  # identifiers only
        for column, comment in columns:
            if comment is not None:
                target = qualified("main", name, column)
                # identifiers only: identifier()/qualified(); the comment text through literal()
                con.execute(f"comment on column {target} is {literal(comment)}")  # identifiers only


def memory_limits(tables: dict[str, TableFiles]) -> list[int]:
    """DuckDB's memory limits in bytes for building ``tables``, to try in order: in
    proportion to their files, then (when that is less) a share of physical memory."""
    try:
        ceiling = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * MEMORY_FRACTION)
    except (ValueError, OSError):
        ceiling = 2 * MIN_MEMORY
    table_bytes = sum(f.size for t in tables.values() for f in t.files)
    proportional = max(MIN_MEMORY, int(MEMORY_PER_TABLE_BYTE * table_bytes))
    return [proportional, ceiling] if proportional < ceiling else [ceiling]


@dataclass(frozen=True)
class _Attempt:
    """One try at building the DuckDB file: where it goes, where DuckDB spills and
    how much memory DuckDB may use."""

    database: Path
    scratch: Path
    memory_limit: int

    def connect(self) -> duckdb.DuckDBPyConnection:
        # Paths go to DuckDB as arguments, never inside SQL text.
        return duckdb.connect(
            str(self.database),
            config={
                "storage_compatibility_version": STORAGE_VERSION,
                "memory_limit": f"{max(1, self.memory_limit // 2**20)}MB",
                "temp_directory": str(self.scratch),
            },
        )


@dataclass(frozen=True)
class Previous:
    """The published version a build may start from."""

    database: Path
    info: dict[str, Any]

    def tables(self) -> dict[str, TableFiles]:
        from pipelines.store import table_files

        return table_files(self.info)


def _can_update(previous: Previous | None, tables: dict[str, TableFiles], sql_digest: str) -> bool:
    if previous is None or not previous.database.is_file():
        return False
    info = previous.info
    if (info.get("layout"), info.get("sql_digest"), info.get("paperlake_version")) != (
        LAYOUT,
        sql_digest,
        __version__,
    ):
        return False
    full_bytes = int(info.get("publish", {}).get("full_build_bytes") or 0)
    if previous.database.stat().st_size > MAX_GROWTH * full_bytes:
        return False
    old = previous.tables()
    return set(old) == set(tables) and all(old[n].schema == t.schema for n, t in tables.items())


def build_database(
    tables: dict[str, TableFiles],
    tables_dir: Path,
    database_path: Path,
    sql_dir: Path,
    previous: Previous | None = None,
    changed_papers: Collection[str] | None = None,
) -> BuildReport:
    """Build and test the DuckDB file at ``database_path``, from ``previous`` when it can.

    ``changed_papers``: the papers an incremental link re-derived or removed
    (``WriteHints.papers``), when the tables come from such a link from
    ``previous``'s state; only their rows of the paper tables are compared.

    Raises PaperlakeError naming the file when a data test fails or the file
    cannot be written; nothing is left at ``database_path`` then.
    """
    database_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = database_path.with_name(f".{database_path.name}.tmp-{os.getpid()}")
    scratch = database_path.with_name(f".{database_path.name}.spill-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    digest = sql_digest(sql_dir)
    incremental = _can_update(previous, tables, digest)
    graph = SqlGraph.of(sql_dir, set(tables))
    limits = memory_limits(tables)
    for n_attempt, memory_limit in enumerate(limits, start=1):
        attempt = _Attempt(tmp, scratch, memory_limit)
        try:
            if incremental:
                try:
                    shutil.copyfile(previous.database, tmp)
                except OSError as err:
                    raise PaperlakeError(
                        f"{tmp}: could not be written: {err.strerror or err}"
                    ) from None
                report = _update(
                    attempt, tables, tables_dir, sql_dir, previous, graph, changed_papers
                )
            else:
                report = _build(attempt, tables, tables_dir, sql_dir, graph)
            break
        except duckdb.Error as err:
            _discard(tmp)
            if isinstance(err, duckdb.OutOfMemoryException) and n_attempt < len(limits):
                continue  # again from the start, with more memory
            verb = "written" if isinstance(err, duckdb.IOException) else "built"
            raise PaperlakeError(
                f"{database_path}: could not be {verb}: {_one_line(err)}"
            ) from None
        except BaseException:
            _discard(tmp)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    report = replace(report, memory_limit=memory_limit, memory_attempts=n_attempt)
    progress.checkpoint("publish")
    os.replace(tmp, database_path)
    if report.mode == "full":
        return replace(report, full_build_bytes=database_path.stat().st_size)
    full_bytes = int(previous.info.get("publish", {}).get("full_build_bytes") or 0)
    return replace(report, full_build_bytes=full_bytes)


def _discard(database: Path) -> None:
    """Delete a DuckDB file that will not be published, and its write-ahead log."""
    database.unlink(missing_ok=True)
    database.with_name(f"{database.name}.wal").unlink(missing_ok=True)


def _finish(con, sql_dir: Path, only: set[Path] | None) -> tuple[int, int]:
    """Run the data tests (all, or ``only``) and count the views; raise on a failure."""
    failures = run_data_tests(con, sql_dir, only)
    progress.advance("publish")
    if failures:
        detail = "; ".join(f"{f.name}: {f.n_rows} rows, e.g. {f.sample[0]}" for f in failures)
        raise PaperlakeError(f"SQL data tests failed, warehouse not published: {detail}")
    n_views = con.sql(
        "select count(*) from duckdb_views() where not internal and not temporary "
        "and database_name = current_database()"
    ).fetchone()[0]
    con.execute("checkpoint")
    n_tests = len(sql_files(sql_dir, "tests")) if only is None else len(only)
    return int(n_views), n_tests


def _build(attempt: _Attempt, tables, tables_dir, sql_dir, graph: SqlGraph) -> BuildReport:
    # Staging views, then the marts in the order of what they read: DuckDB
    # binds a view when it is created, so a mart's inputs come first.
    files = [*sql_files(sql_dir, "staging"), *(m.path for m in graph.marts)]
    progress.start("publish", len(tables) + len(files) + 1)
    con = attempt.connect()
    try:
        con.execute(f"create schema {identifier(LAKE)}")  # identifiers only
        # SQLAlchemy's PostgreSQL dialect casts to REGCLASS when it asks for
        # keys and comments; DuckDB has no such type (README, "BI tools").
        con.execute("create type regclass as varchar")
        for name, files_of in sorted(tables.items()):
            table_updates.load_table(con, tables_dir, name, files_of)
            progress.advance("publish")
        for path in files:
            _apply(con, path)
            progress.advance("publish")
        materialize_views(con, graph.marts)
        _check_names(con)
        view_updates.default_scopes(con, graph.marts)
        n_views, n_tests = _finish(con, sql_dir, None)
    finally:
        con.close()
    names = [m.name for m in graph.marts if m.materialized]
    return BuildReport(n_views, "full", sorted(tables), names, tests_run=n_tests)


def _update(
    attempt: _Attempt, tables, tables_dir, sql_dir, previous, graph: SqlGraph, papers
) -> BuildReport:
    old = previous.tables()
    changed = sorted(n for n, t in tables.items() if not t.same_content(old[n]))
    affected = graph.affected(set(changed))
    marts = [m for m in graph.marts if m.name in affected and m.materialized]
    tests = {p for p, reads in graph.tests.items() if not reads or reads & affected}
    progress.start("publish", len(changed) + len(marts) + 1)
    con = attempt.connect()
    try:
        diffs = {}
        if papers is not None:
            con.execute(
                "create temp table changed_papers as select unnest(?::varchar[]) as paper_id",
                [sorted(papers)],
            )
        for name in changed:
            key = TABLES[name].order if name in TABLES else ()
            by_paper = papers is not None and name in PAPER_ROWS
            diffs[name] = table_updates.update_table(
                con, tables_dir, name, old[name], tables[name], key, by_paper
            )
            progress.advance("publish")
        view_updates.find_touched(con, sql_dir)
        diffed = {name for name, how in diffs.items() if how != "reloaded"}
        scopes = _scope(con, graph, set(tables), set(changed), diffed)
        recomputed, updated, pending = [], [], []
        for mart in marts:
            if mart.name in scopes and view_updates.is_small(con, scopes[mart.name]):
                pending.append(mart)
                continue
            if any(p.name in graph.reads[mart.name] for p in pending):
                updated += _update_rows(con, pending)
                pending = []
            _apply(con, mart.path)
            materialize_views(con, [mart])
            recomputed.append(mart.name)
            progress.advance("publish")
        updated += _update_rows(con, pending)
        progress.advance("publish", len(pending))
        n_views, _ = _finish(con, sql_dir, tests)
    finally:
        con.close()
    return BuildReport(
        n_views,
        "incremental",
        changed,
        recomputed,
        updated,
        scopes,
        dict(sorted(diffs.items())),
        tests_run=len(tests),
    )


def _scope(con, graph: SqlGraph, tables: set[str], changed: set[str], diffed: set[str]):
    """Each incremental view's scope: the authors touched through the changed tables it
    reads, when every one of them was diffed into changed rows; else every author."""
    followed = diffed & set(view_updates.TRACKED)
    scopes = {}
    for mart in graph.marts:
        if not (mart.incremental and mart.materialized):
            continue
        reads = graph.tables_read({mart.name}, tables) & changed
        if reads <= followed:
            scopes[mart.name] = view_updates.scope_touched(con, mart, reads)
        else:
            view_updates.scope_every_author(con, mart)
    return scopes


def _update_rows(con, marts: list[Mart]) -> list[str]:
    view_updates.update_rows(con, marts, lambda view: (MATERIALIZED, stored_rows(view)), _apply)
    return [m.name for m in marts]


def _check_names(con) -> None:
    """No view may take a name the file's internal tables use (see the module's doc)."""
    clash = con.execute(
        "select v.view_name from duckdb_views() v join duckdb_tables() t "
        "on t.table_name = v.view_name and t.database_name = v.database_name "
        "where not v.internal and v.database_name = current_database() limit 1"
    ).fetchone()
    if clash:
        raise PaperlakeError(f"view {clash[0]} has the name of an internal table; rename it")


def fingerprint(tables: dict[str, TableFiles], sql_dir: Path) -> str:
    """A hash of everything a version's content depends on: table files, sql/, the code version.

    Data files are named by their content, so their names stand for their bytes.
    Two builds with equal fingerprints publish the same warehouse, so the second is skipped.
    """
    digest = hashlib.sha256(
        f"paperlake {__version__} storage {STORAGE_VERSION} layout {LAYOUT}\n".encode()
    )
    for name, table in sorted(tables.items()):
        digest.update(f"table {name} {table.schema} {sorted(table.names)}\n".encode())
    digest.update(sql_digest(sql_dir).encode())
    return digest.hexdigest()


def finish_version(
    staging: Path,
    tables: dict[str, TableFiles],
    tables_dir: Path,
    sql_dir: Path,
    info: dict[str, Any],
    previous: Previous | None = None,
    changed_papers: Collection[str] | None = None,
) -> BuildReport:
    """Build the DuckDB file in ``staging``, run the data tests, write build.json.

    ``tables`` carry the Delta version each table will have once committed;
    ``changed_papers`` as for ``build_database``.
    Raises PaperlakeError (nothing published) when a test fails.
    """
    database = staging / DATABASE
    report = build_database(tables, tables_dir, database, sql_dir, previous, changed_papers)
    record = {
        **info,
        "version": staging.name.removeprefix(BUILDING),
        "built_at": utc_now(),
        "n_views": report.n_views,
        "layout": LAYOUT,
        "sql_digest": sql_digest(sql_dir),
        "paperlake_version": __version__,
        "tables": {name: t.rows for name, t in sorted(tables.items())},
        TABLE_FILES: {name: t.to_json() for name, t in sorted(tables.items())},
        "publish": report.to_json(),
    }
    try:
        write_build_info(staging, record)
    except OSError as err:
        path = staging / BUILD_INFO
        raise PaperlakeError(f"{path}: could not be written: {err.strerror or err}") from None
    return report
