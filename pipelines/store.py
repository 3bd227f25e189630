"""The warehouse store: the folder and everything paperlake keeps in it between runs.

Stages never build paths inside the warehouse themselves; they ask this
module. Its layout:

    warehouse/
      paperlake.duckdb -> current/paperlake.duckdb     the names users read
      <table>.parquet  -> current/<table>.parquet      (symlinks)
      current -> versions/7                            the published version
      versions/<id>/                                   kept versions: tables,
                                                       paperlake.duckdb, build.json,
                                                       state/ (what the next run reuses)
      versions/.building-<id>/                         the version being built
      cache/extract/<key>/                             per-dump extractions
      .lock                                            held by a running refresh

Each refresh builds a whole version in ``versions/.building-<id>``; only a
complete, tested build is renamed to ``versions/<id>``, and the ``current``
symlink is switched to it with one rename. The names users read are symlinks
through ``current``, so every one of them moves to the new version at that
same instant, and a reader holding a file open keeps the old inode. A
``.lock`` (flock, released by the kernel even on kill -9) lets one refresh or
rollback at a time change the folder.

State between runs: the extraction cache (keyed by content, so shared by all
versions) and per-version state frames (``read_state`` from the published
version, ``write_state`` into the version being built), which therefore
always match the published tables, also after a rollback.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import progress
from pipelines.errors import PaperlakeError
from pipelines.extract import ExtractedDump

DATABASE = "paperlake.duckdb"
BUILD_INFO = "build.json"
VERSIONS = "versions"
CURRENT = "current"
LOCK = ".lock"
BUILDING = ".building-"
TRASH = ".trash-"
# The files of a version that get a stable name in the warehouse folder.
PUBLISHED_SUFFIXES = (".parquet", ".duckdb")


class WarehouseBusy(PaperlakeError):
    """Another refresh or rollback holds the warehouse lock."""


def fsync_dir(path: Path) -> None:
    """Flush a file, or a folder's entries (renames in it), to disk: a crash cannot undo them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def utc_now() -> str:
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
        os.pwrite(fd, f"pid {os.getpid()} since {utc_now()}\n".encode(), 0)
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


def _switch_current(warehouse_dir: Path, version: str) -> None:
    """Point ``current`` at ``versions/<version>`` with one atomic rename."""
    tmp = warehouse_dir / f".{CURRENT}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{VERSIONS}/{version}", tmp)
    os.replace(tmp, warehouse_dir / CURRENT)
    fsync_dir(warehouse_dir)


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
    fsync_dir(warehouse_dir)


def promote(warehouse_dir: Path, staging: Path) -> str:
    """Publish a finished staging folder: rename it to its version, switch ``current``.

    Safe to call again after a failure part-way (the task retries on OSError).
    """
    version = staging.name.removeprefix(BUILDING)
    final = _versions_dir(warehouse_dir) / version
    if staging.exists():
        os.replace(staging, final)
        fsync_dir(final.parent)
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


# --- State between runs -------------------------------------------------------

STATE = "state"


def read_state(warehouse_dir: Path, name: str) -> pl.DataFrame | None:
    """The frame ``name`` that the published version kept for the next run, or None.

    None when nothing is published, the version kept no such frame, or it
    cannot be read: a run must then rebuild it from scratch.
    """
    version = current_version(warehouse_dir)
    if version is None:
        return None
    path = _versions_dir(warehouse_dir) / version / STATE / f"{name}.parquet"
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None


def scan_state(warehouse_dir: Path, name: str) -> pl.LazyFrame | None:
    """Like ``read_state``, lazily: None when the published version kept no such frame."""
    version = current_version(warehouse_dir)
    if version is None:
        return None
    path = _versions_dir(warehouse_dir) / version / STATE / f"{name}.parquet"
    return pl.scan_parquet(path) if path.is_file() else None


def write_state(staging: Path, name: str, frame: pl.DataFrame) -> Path:
    """Keep ``frame`` for the next run in the version being built (published with it)."""
    path = staging / STATE / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp, compression="zstd")
    fsync_dir(tmp)
    os.replace(tmp, path)
    return path


# --- The extraction cache -----------------------------------------------------

CACHE = Path("cache") / "extract"


def cache_dir(warehouse_dir: Path) -> Path:
    """Per-dump extractions, keyed by content, capture date and parser version."""
    return warehouse_dir / CACHE


# One cache entry per (dump content, capture date, parser version): the four
# frames extract_dump returns, and its notes.
CACHE_PARTS = ("source", "records", "rejects", "profile")
TMP_PREFIX = ".tmp-"


def write_extract_cache(cache_dir: Path, key: str, extracted: ExtractedDump) -> Path:
    """Keep one dump's extraction under ``cache_dir/key``, complete or not at all."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f"{TMP_PREFIX}{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    frames = dict(
        zip(
            CACHE_PARTS,
            (extracted.source, extracted.records, extracted.rejects, extracted.profile),
            strict=True,
        )
    )
    for part, frame in frames.items():
        frame.write_parquet(tmp / f"{part}.parquet", compression="zstd")
        fsync_dir(tmp / f"{part}.parquet")
    (tmp / "notes.json").write_text(json.dumps(extracted.notes), encoding="utf-8")
    fsync_dir(tmp / "notes.json")
    progress.checkpoint("cache")
    final = cache_dir / key
    # Same key, same content: an entry already there (a run that died after
    # the rename but before recording it) is simply replaced.
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def read_extract_cache(cache_dir: Path, key: str) -> ExtractedDump | None:
    """One dump's cached extraction, or None when it is missing or unreadable."""
    entry = cache_dir / key
    try:
        frames = [pl.read_parquet(entry / f"{part}.parquet") for part in CACHE_PARTS]
        notes = json.loads((entry / "notes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, pl.exceptions.PolarsError):
        # A damaged entry costs a re-parse, never a failed run.
        return None
    return ExtractedDump(*frames, notes=list(notes))


def extract_cache_whole(cache_dir: Path, key: str) -> bool:
    """Whether the entry ``key`` has every part, each a complete Parquet file (its
    magic bytes at both ends) and readable notes: cheap enough for every dump of a run."""
    entry = cache_dir / key
    try:
        for part in CACHE_PARTS:
            with open(entry / f"{part}.parquet", "rb") as handle:
                head = handle.read(4)
                handle.seek(-4, os.SEEK_END)
                if head != b"PAR1" or handle.read(4) != b"PAR1":
                    return False
        json.loads((entry / "notes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def scan_extract_cache(
    cache_dir: Path, keys: list[str], part: str, schema: pl.Schema
) -> pl.LazyFrame:
    """One part (``records``, ``rejects``, ``source``, ``profile``) of the entries
    ``keys``, entry after entry in that order, with a ``cache_key`` column; ``schema``
    when there are none."""
    if not keys:
        return pl.LazyFrame(schema={**schema, "cache_key": pl.String})
    paths = [str(cache_dir / key / f"{part}.parquet") for key in keys]
    return (
        pl.scan_parquet(paths, include_file_paths="_entry_path")
        .with_columns(cache_key=pl.col("_entry_path").str.extract(r"([^/\\]+)[/\\][^/\\]+$"))
        .drop("_entry_path")
    )


def read_extract_notes(cache_dir: Path, key: str) -> list[str]:
    """The notes kept with one cached extraction (empty when unreadable)."""
    try:
        notes = json.loads((cache_dir / key / "notes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(n) for n in notes]


def prune_extract_cache(cache_dir: Path, keep: set[str]) -> list[str]:
    """Delete cache entries (and leftovers of killed runs) not in ``keep``. Returns them."""
    if not cache_dir.is_dir():
        return []
    removed = []
    for entry in sorted(cache_dir.iterdir()):
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
            removed.append(entry.name)
    return removed


def clean_extract_cache(cache_dir: Path) -> list[str]:
    """Delete half-written cache entries a killed run left. Returns their names."""
    if not cache_dir.is_dir():
        return []
    stale = sorted(p for p in cache_dir.iterdir() if p.name.startswith(TMP_PREFIX))
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return [p.name for p in stale]
