"""The warehouse store: the folder and everything paperlake keeps in it between runs.

Stages never build paths inside the warehouse themselves; they ask this
module. Its layout:

    warehouse/
      paperlake.duckdb -> current/paperlake.duckdb     the DuckDB file users open
      tables/<table>/                                  Delta Lake tables: data files
                                                       b<bucket>-<hash>.parquet and
                                                       _delta_log/ (pipelines.delta)
      current -> versions/7                            the published version
      versions/<id>/                                   kept versions: paperlake.duckdb,
                                                       build.json (each table's files and
                                                       Delta version), published (marker),
                                                       state/ (what the next run reuses)
      versions/.building-<id>/                         the version being built
      versions/.building-link-state/                   state frames a link spilled
                                                       (moved into the version built)
      cache/extract/<pack>/                            dumps' extractions, a pack of them
      cache/file_hashes.json                           each dump's hash, with the file's
                                                       status (pipelines.file_hashes)
      .lock                                            held by a running refresh

The published version is the truth: its build.json names, per table, the
data files and the Delta version whose snapshot they are. Publishing a
version (``promote``): rename its staging folder to ``versions/<id>``, commit
each changed table's files to its Delta log, switch ``current`` with one
rename, then mark the version published. ``recover`` (at the start of every
refresh and rollback, under the lock) makes the Delta tables follow the
published version again after a crash anywhere in between, removes versions
that were never published, and ``rollback`` moves both the DuckDB file and
the Delta tables to an older published version. Only published versions are
rollback targets.

State between runs: the extraction cache (keyed by content, so shared by all
versions), the dumps' hashes (``read_file_hashes`` / ``write_file_hashes``:
facts about files, so shared too) and per-version state frames
(``pipelines.state_files``: read from the published version, written into the
version being built), which therefore always match the published tables,
also after a rollback.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

from pipelines import progress
from pipelines.delta import TableFiles, delete_unreferenced, follow, snapshot
from pipelines.durable import fsync_dir as fsync_dir
from pipelines.durable import write_text_atomically
from pipelines.errors import PaperlakeError
from pipelines.extract_cache import CACHE as CACHE
from pipelines.extract_cache import ExtractCache as ExtractCache
from pipelines.extract_cache import cache_dir as cache_dir
from pipelines.extract_cache import clean_extract_cache as clean_extract_cache
from pipelines.extract_cache import prune_extract_cache as prune_extract_cache
from pipelines.extract_cache import write_extract_pack as write_extract_pack
from pipelines.file_hashes import FILE_HASHES as FILE_HASHES
from pipelines.file_hashes import FileHashes as FileHashes
from pipelines.file_hashes import read_file_hashes as read_file_hashes
from pipelines.file_hashes import write_file_hashes as write_file_hashes
from pipelines.warehouse_lock import LOCK as LOCK
from pipelines.warehouse_lock import WarehouseBusy as WarehouseBusy
from pipelines.warehouse_lock import check_location as check_location
from pipelines.warehouse_lock import lock_holder as lock_holder
from pipelines.warehouse_lock import warehouse_lock as warehouse_lock

DATABASE = "paperlake.duckdb"
BUILD_INFO = "build.json"
VERSIONS = "versions"
CURRENT = "current"
BUILDING = ".building-"
TRASH = ".trash-"
TABLES = "tables"
# A version's marker: it was published (so it is a rollback target).
PUBLISHED = "published"
# build.json: each table's data files and Delta version.
TABLE_FILES = "table_files"
# The files of a version that get a stable name ``<name> -> current/<name>``
# in the warehouse folder (the report is pipelines.look.report's).
STABLE_NAMES = (DATABASE, "report.html")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def versions_dir(warehouse_dir: Path) -> Path:
    """Where the versions are kept: ``versions/<id>/``."""
    return warehouse_dir / VERSIONS


def tables_dir(warehouse_dir: Path) -> Path:
    """Where the Delta tables live: ``tables/<table>/``."""
    return warehouse_dir / TABLES


def _complete_versions(warehouse_dir: Path) -> list[str]:
    """Every complete version folder, published or not, oldest first."""
    root = versions_dir(warehouse_dir)
    if not root.is_dir():
        return []
    ids = [p.name for p in root.iterdir() if p.name.isdigit() and p.is_dir()]
    return sorted(ids, key=int)


def _is_published(warehouse_dir: Path, version: str) -> bool:
    return (versions_dir(warehouse_dir) / version / PUBLISHED).is_file()


def version_ids(warehouse_dir: Path) -> list[str]:
    """Versions that were published, oldest first: what ``rollback`` can publish again.

    A complete version that was never published (a run killed between its
    rename and the switch of ``current``) is not one of them.
    """
    return [v for v in _complete_versions(warehouse_dir) if _is_published(warehouse_dir, v)]


def current_version(warehouse_dir: Path) -> str | None:
    """The published version's id, or None before the first versioned publish."""
    link = warehouse_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def read_build_info(warehouse_dir: Path, version: str) -> dict[str, Any]:
    """A version's build.json: when, from which inputs and with which counts it was built."""
    path = versions_dir(warehouse_dir) / version / BUILD_INFO
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PaperlakeError(f"{path}: cannot read the build record: {err}") from None


def write_build_info(folder: Path, record: dict[str, Any]) -> None:
    """Write a version's build.json atomically (temp file, fsync, rename)."""
    write_text_atomically(folder / BUILD_INFO, json.dumps(record, indent=2, sort_keys=True) + "\n")


def table_files(info: dict[str, Any]) -> dict[str, TableFiles]:
    """Each table's data files and Delta version, from a build record ({} before 0.2)."""
    return {name: TableFiles.from_json(t) for name, t in info.get(TABLE_FILES, {}).items()}


@dataclass(frozen=True)
class PublishedTable:
    """A table of the published version: its Delta table, Delta version and data files."""

    path: Path
    delta_version: int
    files: tuple[Path, ...]


def published_tables(warehouse_dir: Path | str) -> dict[str, PublishedTable]:
    """The published version's tables, for reading several of them as one version.

    Read each table at its ``delta_version`` (``pl.scan_delta(path, version=v)``,
    ``DeltaTable(path, version=v)``, Spark's ``versionAsOf``), or read its
    ``files``: they never change and stay while the version is kept.
    """
    warehouse_dir = Path(warehouse_dir)
    for _ in range(10):
        version = current_version(warehouse_dir)
        if version is None:
            raise PaperlakeError(f"{warehouse_dir}: no published warehouse (run paperlake refresh)")
        try:
            info = read_build_info(warehouse_dir, version)
            break
        except PaperlakeError:
            # Pruned between reading `current` and its record: a newer one is published.
            if current_version(warehouse_dir) == version:
                raise
    files = table_files(info)
    root = tables_dir(warehouse_dir).resolve()
    out = {}
    for name, table in sorted(files.items()):
        paths = tuple(root / name / f.name for f in table.files)
        out[name] = PublishedTable(root / name, int(table.delta_version or 0), paths)
    return out


def read_table(
    warehouse_dir: Path | str, name: str, columns: list[str] | None = None
) -> pl.DataFrame:
    """Table ``name`` as published (at its published Delta version), as one frame.

    A warehouse built without versions (``refresh.load_and_publish``) gives
    the table's newest snapshot.
    """
    warehouse_dir = Path(warehouse_dir)
    if current_version(warehouse_dir) is None:
        path, version = tables_dir(warehouse_dir) / name, None
    else:
        table = published_tables(warehouse_dir)[name]
        path, version = table.path, table.delta_version
    # deltalake, not pl.read_delta: Polars cannot open a table whose path has a space.
    arrow = DeltaTable(path.resolve(), version=version).to_pyarrow_table(columns=columns)
    return pl.from_arrow(arrow)


def begin_version(warehouse_dir: Path) -> Path:
    """An empty staging folder for the next version (``versions/.building-<id>``)."""
    root = versions_dir(warehouse_dir)
    root.mkdir(parents=True, exist_ok=True)
    # The newest version is never pruned, so max + 1 never reuses a published id.
    ids = [int(v) for v in _complete_versions(warehouse_dir)]
    staging = root / f"{BUILDING}{max(ids, default=0) + 1}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def discard_version(staging: Path) -> None:
    """Delete a staging folder that will not be published."""
    shutil.rmtree(staging, ignore_errors=True)


def _switch_current(warehouse_dir: Path, version: str) -> None:
    """Point ``current`` at ``versions/<version>`` with one atomic rename."""
    tmp = warehouse_dir / f".{CURRENT}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{VERSIONS}/{version}", tmp)
    os.replace(tmp, warehouse_dir / CURRENT)
    fsync_dir(warehouse_dir)


def _mark_published(warehouse_dir: Path, version: str) -> None:
    """Record durably that ``version`` was published (it becomes a rollback target)."""
    folder = versions_dir(warehouse_dir) / version
    marker = folder / PUBLISHED
    if marker.is_file():
        return
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(f"{utc_now()}\n")
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(folder)


def sync_links(warehouse_dir: Path) -> list[str]:
    """Give the DuckDB file and the report their stable names ``<name> -> current/<name>``.

    Also removes the ``<table>.parquet`` names of paperlake 0.1 (links into
    ``current``) and the plain ones of 0.0: the tables are the Delta tables
    under ``tables/`` now. Returns what it removed.
    """
    removed = []
    for name in STABLE_NAMES:
        link, target = warehouse_dir / name, f"{CURRENT}/{name}"
        if not (warehouse_dir / CURRENT / name).exists():
            if link.is_symlink():  # the published version has none (an older build)
                link.unlink()
            continue
        if not (link.is_symlink() and os.readlink(link) == target):
            tmp = warehouse_dir / f".{name}.tmp-{os.getpid()}"
            tmp.unlink(missing_ok=True)
            os.symlink(target, tmp)
            os.replace(tmp, link)
    for path in sorted(warehouse_dir.glob("*.parquet")):
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed.append(f"removed {path}: tables are Delta tables under {TABLES}/ now")
    fsync_dir(warehouse_dir)
    return removed


def _follow(warehouse_dir: Path, version: str) -> dict[str, int]:
    """Make every Delta table's newest snapshot that of ``version``. Returns Delta versions."""
    files = table_files(read_build_info(warehouse_dir, version))
    root = tables_dir(warehouse_dir)
    return {
        name: follow(root / name, table, f"paperlake version {version}")
        for name, table in sorted(files.items())
    }


def promote(warehouse_dir: Path, staging: Path) -> str:
    """Publish a finished staging folder: rename it, commit its tables, switch ``current``.

    Safe to call again after a failure part-way (the task retries on OSError).
    """
    version = staging.name.removeprefix(BUILDING)
    final = versions_dir(warehouse_dir) / version
    if staging.exists():
        os.replace(staging, final)
        fsync_dir(final.parent)
    if not (final / BUILD_INFO).exists():
        raise PaperlakeError(f"{final}: version is incomplete, not published")
    progress.checkpoint("promote")
    committed = _follow(warehouse_dir, version)
    info = read_build_info(warehouse_dir, version)
    recorded = {n: t.get("delta_version") for n, t in info.get(TABLE_FILES, {}).items()}
    if recorded != committed:
        # Not published yet, so its record may still be corrected.
        for name, delta_version in committed.items():
            info[TABLE_FILES][name]["delta_version"] = delta_version
        write_build_info(final, info)
    progress.checkpoint("commit")
    _switch_current(warehouse_dir, version)
    _mark_published(warehouse_dir, version)
    progress.checkpoint("switch")
    sync_links(warehouse_dir)
    return version


def prune_versions(warehouse_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` published versions (never the current one),
    then the data files no kept version needs. Returns the versions removed."""
    ids = version_ids(warehouse_dir)
    current = current_version(warehouse_dir)
    keep_ids = set(ids[-max(keep, 1) :]) | {current}
    removed = []
    for version in _complete_versions(warehouse_dir):
        if version in keep_ids:
            continue
        _remove_version(warehouse_dir, version)
        removed.append(version)
    delete_unused_files(warehouse_dir)
    return removed


def _remove_version(warehouse_dir: Path, version: str) -> None:
    # Rename first: a half-deleted version must never look like a whole one.
    trash = versions_dir(warehouse_dir) / f"{TRASH}{version}"
    os.replace(versions_dir(warehouse_dir) / version, trash)
    shutil.rmtree(trash, ignore_errors=True)


def delete_unused_files(warehouse_dir: Path) -> list[str]:
    """Delete table data files that no kept version names (nor the Delta tables' newest
    two snapshots, which readers may still be reading). Returns ``table/file`` names."""
    root = tables_dir(warehouse_dir)
    if not root.is_dir():
        return []
    needed: dict[str, set[str]] = {}
    for version in _complete_versions(warehouse_dir):
        try:
            info = read_build_info(warehouse_dir, version)
        except PaperlakeError:
            continue
        for name, table in table_files(info).items():
            needed.setdefault(name, set()).update(table.names)
    removed = []
    for table in sorted(p for p in root.iterdir() if p.is_dir()):
        removed += [
            f"{table.name}/{n}" for n in delete_unreferenced(table, needed.get(table.name, set()))
        ]
    return removed


def _has_tables(info: dict[str, Any]) -> bool:
    """Whether a build record names its tables' files (paperlake 0.1's do not)."""
    return TABLE_FILES in info


def recover(warehouse_dir: Path) -> list[str]:
    """Clean what a killed run left and make the tables follow the published version.

    Removes staging folders, temp files and versions that were never published;
    records the publication of ``current`` if a run died just after the switch;
    commits to each Delta table whatever makes it hold the published version's
    files again (a run killed after its commit but before the switch, or a
    rollback killed half-way). Call only while holding the lock.
    """
    notes = []
    root = versions_dir(warehouse_dir)
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.name.startswith((BUILDING, TRASH)):
                shutil.rmtree(path, ignore_errors=True)
                notes.append(f"removed {path} left by an interrupted run")
    if warehouse_dir.is_dir():
        for path in sorted(warehouse_dir.glob(".*.tmp*")):
            path.unlink(missing_ok=True)
            notes.append(f"removed {path} left by an interrupted run")
        for path in sorted(tables_dir(warehouse_dir).glob("*/.tmp-*")):
            path.unlink(missing_ok=True)
            notes.append(f"removed {path} left by an interrupted run")
    current = current_version(warehouse_dir)
    if current is None or not (warehouse_dir / CURRENT).exists():
        return notes
    try:
        info = read_build_info(warehouse_dir, current)
    except PaperlakeError as err:
        # A damaged record must not block the next version, which replaces it.
        notes.append(f"{err}; the Delta tables were not checked")
        info = {}
    if _has_tables(info):
        _mark_published(warehouse_dir, current)
        for version in _complete_versions(warehouse_dir):
            if version == current or _is_published(warehouse_dir, version):
                continue
            try:
                unpublished = _has_tables(read_build_info(warehouse_dir, version))
            except PaperlakeError:
                unpublished = True  # no readable record: never a whole published version
            if unpublished:
                _remove_version(warehouse_dir, version)
                notes.append(f"removed version {version}: complete but never published")
        before = {}
        for name in table_files(info):
            found = snapshot(tables_dir(warehouse_dir) / name)
            before[name] = None if found is None else found.version
        after = _follow(warehouse_dir, current)
        for name in sorted(after):
            if before[name] != after[name]:
                notes.append(
                    f"table {name}: Delta table brought back to published version {current}"
                )
    notes += sync_links(warehouse_dir)
    return notes


def rollback(warehouse_dir: Path, to: str | None = None) -> tuple[str | None, str]:
    """Publish an older published version again (default: the one before the current).

    Moves the Delta tables first, then ``current``: a reader of either sees the
    old version or the new one. Returns (previous current version, now current
    version). Takes the lock.
    """
    with warehouse_lock(warehouse_dir):
        recover(warehouse_dir)
        ids = [
            v
            for v in version_ids(warehouse_dir)
            if TABLE_FILES in read_build_info(warehouse_dir, v)
        ]
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
        _follow(warehouse_dir, to)
        progress.checkpoint("rollback")
        _switch_current(warehouse_dir, to)
        sync_links(warehouse_dir)
        return current, to
