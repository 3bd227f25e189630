"""Publish the warehouse: the DuckDB file, and the versions readers see.

The Parquet tables are copied into schema ``lake`` of a new database file, the
views in ``sql/`` are applied layer by layer (staging, then marts), the marts'
rows are computed once into schema ``materialized``, the SQL data tests in
``sql/tests`` must return no rows, and only then is the new file
renamed into place. The file is self-contained: it opens from any working
directory, read-only, and in DuckDB releases from 1.0 on.

Each refresh builds a whole version (tables, DuckDB file, build.json) in
``versions/.building-<id>``; only a complete, tested build is renamed to
``versions/<id>``, and the ``current`` symlink is switched to it with one
rename. The names users read, ``<table>.parquet`` and ``paperlake.duckdb``,
are symlinks through ``current``, so every one of them moves to the new
version at that same instant, and a reader holding a file open keeps the old
inode. A ``.lock`` (flock, released by the kernel even on kill -9) lets one
refresh or rollback at a time change the folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__, progress
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


# --- The versioned warehouse folder -------------------------------------------

DATABASE = "paperlake.duckdb"
BUILD_INFO = "build.json"
VERSIONS = "versions"
CURRENT = "current"
LOCK = ".lock"
BUILDING = ".building-"
TRASH = ".trash-"
# The files of a version that get a stable name in the warehouse folder
# (the .html is the version's report, pipelines.look.report).
PUBLISHED_SUFFIXES = (".parquet", ".duckdb", ".html")


class WarehouseBusy(PaperlakeError):
    """Another refresh or rollback holds the warehouse lock."""


def _fsync_dir(path: Path) -> None:
    """Make renames inside ``path`` durable (a crash cannot undo a switch we reported)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def lock_holder(warehouse_dir: Path) -> str | None:
    """Who holds the warehouse lock ("pid 12 since ..."), or None when nobody does."""
    path = warehouse_dir / LOCK
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        # A shared probe: it never blocks, and it fails only while a writer holds it.
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
    finally:
        os.close(fd)  # closing drops the probe's lock
    return None


@contextmanager
def warehouse_lock(
    warehouse_dir: Path, wait: bool = False, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's exclusive lock; raise WarehouseBusy (or wait) if another has it."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        acquired = False
        # A few quick tries: `paperlake status` probing at the same instant must
        # not make a refresh give up.
        for _ in range(10):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                acquired = True
                break
            except BlockingIOError:
                time.sleep(0.05)
        if not acquired:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            if not wait:
                raise WarehouseBusy(
                    f"{path}: another refresh or rollback is running ({holder}); "
                    "try again when it ends, or pass --wait"
                )
            if on_wait:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_now()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the kernel does the same on kill -9


def _versions_dir(warehouse_dir: Path) -> Path:
    return warehouse_dir / VERSIONS


def version_ids(warehouse_dir: Path) -> list[str]:
    """Complete versions, oldest first (a version dir exists only once it is whole)."""
    root = _versions_dir(warehouse_dir)
    if not root.is_dir():
        return []
    ids = [p.name for p in root.iterdir() if p.name.isdigit() and p.is_dir()]
    return sorted(ids, key=int)


def current_version(warehouse_dir: Path) -> str | None:
    """The published version's id, or None before the first versioned publish."""
    link = warehouse_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def read_build_info(warehouse_dir: Path, version: str) -> dict[str, Any]:
    """A version's build.json: when, from which inputs and with which counts it was built."""
    path = _versions_dir(warehouse_dir) / version / BUILD_INFO
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PaperlakeError(f"{path}: cannot read the build record: {err}") from None


def begin_version(warehouse_dir: Path) -> Path:
    """An empty staging folder for the next version (``versions/.building-<id>``)."""
    root = _versions_dir(warehouse_dir)
    root.mkdir(parents=True, exist_ok=True)
    # The newest version is never pruned, so max + 1 never reuses an id.
    ids = [int(v) for v in version_ids(warehouse_dir)]
    staging = root / f"{BUILDING}{max(ids, default=0) + 1}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def discard_version(staging: Path) -> None:
    """Delete a staging folder that will not be published."""
    shutil.rmtree(staging, ignore_errors=True)


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
        "built_at": _now(),
        "n_views": n_views,
    }
    tmp = staging / f".{BUILD_INFO}.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, staging / BUILD_INFO)
    _fsync_dir(staging)
    return n_views


def _switch_current(warehouse_dir: Path, version: str) -> None:
    """Point ``current`` at ``versions/<version>`` with one atomic rename."""
    tmp = warehouse_dir / f".{CURRENT}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{VERSIONS}/{version}", tmp)
    os.replace(tmp, warehouse_dir / CURRENT)
    _fsync_dir(warehouse_dir)


def sync_links(warehouse_dir: Path) -> None:
    """Give every published file of ``current`` its stable name ``<name>`` -> ``current/<name>``.

    The links only change when a table appears or disappears (or on the first
    versioned publish, replacing the plain files an older paperlake wrote);
    switching versions is the ``current`` rename alone.
    """
    current = warehouse_dir / CURRENT
    names = sorted(p.name for p in current.iterdir() if p.suffix in PUBLISHED_SUFFIXES)
    for name in names:
        link, target = warehouse_dir / name, f"{CURRENT}/{name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        tmp = warehouse_dir / f".{name}.tmp-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)
    for link in warehouse_dir.iterdir():
        # A table the published version no longer has: drop its dangling name.
        if link.is_symlink() and os.readlink(link).startswith(f"{CURRENT}/") and not link.exists():
            link.unlink()
    _fsync_dir(warehouse_dir)


def promote(warehouse_dir: Path, staging: Path) -> str:
    """Publish a finished staging folder: rename it to its version, switch ``current``.

    Safe to call again after a failure part-way (the task retries on OSError).
    """
    version = staging.name.removeprefix(BUILDING)
    final = _versions_dir(warehouse_dir) / version
    if staging.exists():
        os.replace(staging, final)
        _fsync_dir(final.parent)
    if not (final / BUILD_INFO).exists():
        raise PaperlakeError(f"{final}: version is incomplete, not published")
    progress.checkpoint("promote")
    _switch_current(warehouse_dir, version)
    progress.checkpoint("switch")
    sync_links(warehouse_dir)
    return version


def prune_versions(warehouse_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` versions (never the current one). Returns them."""
    ids = version_ids(warehouse_dir)
    current = current_version(warehouse_dir)
    keep_ids = set(ids[-max(keep, 1) :]) | {current}
    removed = []
    for version in ids:
        if version in keep_ids:
            continue
        # Rename first: a half-deleted version must never look like a whole one.
        trash = _versions_dir(warehouse_dir) / f"{TRASH}{version}"
        os.replace(_versions_dir(warehouse_dir) / version, trash)
        shutil.rmtree(trash, ignore_errors=True)
        removed.append(version)
    return removed


def recover(warehouse_dir: Path) -> list[str]:
    """Clean what a killed run left (staging folders, temp files); repair the names.

    Call only while holding the lock: then nothing else is writing these.
    """
    notes = []
    root = _versions_dir(warehouse_dir)
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.name.startswith((BUILDING, TRASH)):
                shutil.rmtree(path, ignore_errors=True)
                notes.append(f"removed {path} left by an interrupted run")
    if warehouse_dir.is_dir():
        for path in sorted(warehouse_dir.glob(".*.tmp*")):
            path.unlink(missing_ok=True)
            notes.append(f"removed {path} left by an interrupted run")
    if (warehouse_dir / CURRENT).exists():
        sync_links(warehouse_dir)
    return notes


def rollback(warehouse_dir: Path, to: str | None = None) -> tuple[str | None, str]:
    """Publish an older kept version again (default: the one before the current).

    Returns (previous current version, now current version). Takes the lock.
    """
    with warehouse_lock(warehouse_dir):
        recover(warehouse_dir)
        ids = version_ids(warehouse_dir)
        current = current_version(warehouse_dir)
        if to is None:
            older = [v for v in ids if current is None or int(v) < int(current)]
            if not older:
                raise PaperlakeError(
                    f"{warehouse_dir}: no version older than {current} is kept "
                    f"(kept: {', '.join(ids) or 'none'})"
                )
            to = older[-1]
        if to not in ids:
            raise PaperlakeError(
                f"{warehouse_dir}: version {to} is not kept (kept: {', '.join(ids) or 'none'})"
            )
        _switch_current(warehouse_dir, to)
        sync_links(warehouse_dir)
        return current, to
