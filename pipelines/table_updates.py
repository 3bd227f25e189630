"""The warehouse tables inside a DuckDB build (``lake.<table>_data``): loaded whole from
their data files, or, in an incremental build, only their changed rows replaced.

How the changed rows were found is kept for the row-level view upkeep
(``pipelines/view_updates.py``), which recomputes the analysis views only for
what those rows touch.
"""

from __future__ import annotations

from pathlib import Path

from pipelines import view_updates
from pipelines.delta import TableFiles
from pipelines.sqlgraph import lake_table
from pipelines.sqlquote import identifier, qualified

LAKE = "lake"
# An incremental build reloads a table whole when more than this share of its
# rows is in changed files: diffing would cost more than loading.
RELOAD_SHARE = 0.5
# Tables this small are diffed whatever share changed: the changed rows are
# cheap to find, and row-level view updates need them.
ALWAYS_DIFF_ROWS = 100_000


def _paths(tables_dir: Path, name: str, names: list[str]) -> list[str]:
    return [str((tables_dir / name / n).resolve()) for n in names]


def load_table(con, tables_dir: Path, name: str, files: TableFiles) -> None:
    target = qualified(LAKE, lake_table(name))
    paths = _paths(tables_dir, name, [f.name for f in files.files])
    # identifiers only: the table name through qualified(); paths bound
    sql = f"create or replace table {target} as select * from read_parquet(?)"
    con.execute(sql, [paths])  # identifiers only


def update_table(
    con,
    tables_dir: Path,
    name: str,
    old: TableFiles,
    new: TableFiles,
    key: tuple[str, ...],
    by_paper: bool = False,
) -> str:
    """Replace the rows of ``lake.<name>_data`` whose key changed between two file sets.

    The changed rows are those of the changed files that differ. With
    ``by_paper`` (the link named the papers whose rows can differ, in temp
    table ``changed_papers``) only those papers' rows of the changed files
    are compared, however many files changed: one dump's papers touch most
    buckets of a paper table. Otherwise, when most files changed, the rows
    whose hash differs between the stored rows and the new files, so that
    only their keys are replaced rather than the table loaded again. Returns
    how the changed rows were found (``BuildReport.row_diffs``); all but
    "reloaded" keep what they name (``view_updates``).
    """
    target = qualified(LAKE, lake_table(name))
    removed = [f for f in old.files if f.name not in new.names]
    added = [f.name for f in new.files if f.name not in old.names]
    share = sum(f.rows for f in removed) / max(old.rows, 1)
    if not key:
        paths = _paths(tables_dir, name, [f.name for f in new.files])
        con.execute(f"delete from {target}")  # identifiers only
        sql = f"insert into {target} select * from read_parquet(?)"
        con.execute(sql, [paths])  # identifiers only
        return "reloaded"
    match = " and ".join(f"t.{identifier(c)} is not distinct from k.{identifier(c)}" for c in key)
    if not by_paper and share > RELOAD_SHARE and old.rows > ALWAYS_DIFF_ROWS:
        paths = _paths(tables_dir, name, [f.name for f in new.files])
        view_updates.changed_by_hash(con, name, (LAKE, lake_table(name)), paths, key)
        sql = f"delete from {target} t using changed_keys k where {match}"
        con.execute(sql)  # identifiers only
        con.execute(
            f"insert into {target} select t.* from read_parquet(?) t "
            f"semi join changed_keys k on {match}",
            [paths],
        )
        con.execute("drop table changed_keys")
        return "hashes"
    only = "where paper_id in (select paper_id from changed_papers)" if by_paper else ""
    for temp, names in (("old_rows", [f.name for f in removed]), ("new_rows", added)):
        rows = identifier(temp)
        sql = f"create or replace temp table {rows} as select * from {target} limit 0"
        con.execute(sql)  # identifiers only
        if names:
            paths = _paths(tables_dir, name, names)
            insert = f"insert into {rows} select * from read_parquet(?) {only}"
            con.execute(insert, [paths])  # identifiers only: paths bound
    columns = ", ".join(identifier(c) for c in key)
    con.execute(
        f"create or replace temp table changed_keys as "
        f"select {columns} from (select * from old_rows except all select * from new_rows) "
        f"union select {columns} from (select * from new_rows except all select * from old_rows)"
    )
    con.execute(f"delete from {target} t using changed_keys k where {match}")  # identifiers only
    con.execute(
        f"insert into {target} select t.* from new_rows t semi join changed_keys k on {match}"
    )
    view_updates.keep_changed_rows(con, name)
    con.execute("drop table old_rows; drop table new_rows; drop table changed_keys")
    return "papers" if by_paper else "files"
