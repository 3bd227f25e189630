"""The stage step of a refresh: the next version built and tested in a staging folder.

``write_version`` writes the tables' data files (keeping every bucket that
did not change) and keeps the linkage state with the version, letting each
linked frame go once it is in a file (``LinkResult.hand_over``);
``publish_version`` then builds the DuckDB file from the published one when
it can and runs the data tests (``stage_version`` does both), with none of
the linked frames in memory beside DuckDB's share. When the
link changed nothing and the published version was built from the same
inputs, SQL and code, the published version stays without any of that
(``unchanged_version`` checks the part of that which needs no link, so that
a refresh can stop before linking).
``store.promote`` then publishes a staged version.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines import __version__, delta, progress, publish, state_files, store
from pipelines.delta import TableFiles
from pipelines.durable import retried
from pipelines.errors import PaperlakeError
from pipelines.layout import unchanged_buckets
from pipelines.load import Patch, write_tables
from pipelines.look.report import write_version_report
from pipelines.transform.linkage import FramesToWrite, LinkReport, WriteHints
from pipelines.transform.state import KEY_FRAMES, LinkState, SpilledFrame, read_key_frames

if TYPE_CHECKING:
    from pipelines.extraction import PlannedDump

Tables = dict[str, pl.DataFrame | pl.LazyFrame]


@dataclass(frozen=True)
class StagedVersion:
    """A built, tested version waiting in its staging folder (or none: nothing changed)."""

    path: Path | None  # the staging folder; None when unchanged
    version: str | None  # the id it will get, or the current id when unchanged
    n_views: int
    unchanged: bool


def build_info(
    plan: list[PlannedDump],
    tables: Tables,
    link: LinkReport | None = None,
    **extra: Any,
) -> dict:
    """What build.json records about a version: its inputs and, given the ``link`` that
    made its tables, its mode and notes (publish adds the counts)."""
    sources = {row["source_file"]: row for row in tables["sources"].iter_rows(named=True)}
    inputs = []
    for item in sorted(plan, key=lambda p: p.dump.source_file):
        row = sources.get(item.dump.source_file, {})
        inputs.append(
            {
                "source_file": item.dump.source_file,
                "sha256": item.sha256,
                "bytes": item.size,
                "format": row.get("format"),
                "capture_date": item.dump.capture_date.isoformat(),
                "capture_date_origin": item.dump.capture_date_origin,
                "n_records": row.get("n_records"),
                "cache_key": item.key,
            }
        )
    linked = {} if link is None else {"link_mode": link.mode, "link_notes": link.notes}
    return {"paperlake_version": __version__, "inputs": inputs, **linked, **extra}


@dataclass(frozen=True)
class WrittenVersion:
    """The next version's table files and linkage state, written to its staging folder;
    its DuckDB file not built yet (``publish_version``).

    ``kept`` instead when the build equals the published version: nothing was
    written, and the published version stays.
    """

    staging: Path | None
    tables_dir: Path | None = None
    sql_dir: Path | None = None  # the sql/ folder the DuckDB file is built from
    tables: dict[str, TableFiles] = field(default_factory=dict)
    record: dict = field(default_factory=dict)  # build.json so far
    previous: publish.Previous | None = None
    changed_papers: frozenset[str] | None = None
    kept: StagedVersion | None = None


def stage_version(*args: Any, **kwargs: Any) -> StagedVersion:
    """``write_version`` (the same arguments) then ``publish_version``, for a caller that
    keeps the frames anyway."""
    written = write_version(*args, **kwargs)
    with discarded_on_failure(written):
        return publish_version(written)


@contextlib.contextmanager
def discarded_on_failure(written: WrittenVersion) -> Iterator[None]:
    """Drop the written version when the block (its publish, with any retries) fails."""
    try:
        yield
    except BaseException:
        discard_written(written)
        raise


def write_version(
    frames: FramesToWrite,
    warehouse_dir: Path,
    sql_dir: Path,
    info: dict,
    changed: WriteHints | None = None,
) -> WrittenVersion:
    """Write the next version's files from the published one plus the changes.

    ``frames``: the tables and the linkage state of these tables (kept with
    the version, for the next run), taken out of the box as they are written:
    the state first, the wide tables last (``FramesToWrite``). Table data
    files go straight into the Delta tables' folders (no reader sees a file
    before a commit names it); tables and buckets that did not change keep
    their files, and the buckets ``changed`` (an incremental link's hints,
    from the state of the published version) leaves out are not even
    computed. Each write the file system fails is tried again with its
    frames still in hand (``durable.retried``): once a frame is let go, a
    retry of the whole step could not write it.

    When the build equals the published version it is dropped and the
    current version stays (``kept``): no new version, no new bytes. That is
    known before writing anything when the link changed nothing and the
    published version has the same inputs, SQL and code
    (``_same_as_published``); otherwise by the fingerprint of the files
    written, with a state derived from the same context and dumps
    (``_state_as_published``). The state frames the link spilled are moved
    in (``SpilledFrame``); what is left of the spill folder goes either way.
    """
    try:
        return _write_version(frames, warehouse_dir, sql_dir, info, changed)
    finally:
        store.discard_version(state_files.spill_folder(warehouse_dir))


def _write_version(
    frames: FramesToWrite,
    warehouse_dir: Path,
    sql_dir: Path,
    info: dict,
    changed: WriteHints | None,
) -> WrittenVersion:
    if frames.taken:
        raise PaperlakeError("these linked frames were already written; link them again")
    current, current_info = _published(warehouse_dir)
    n_views = int(current_info.get("n_views", 0))
    tables = frames.tables
    if current is not None and _same_as_published(current_info, info, tables, sql_dir, changed):
        return WrittenVersion(None, kept=StagedVersion(None, current, n_views, True))
    unchanged = unchanged_buckets(changed.sources, changed.homes) if changed else None
    patches = write_patches(changed)
    staging = store.begin_version(warehouse_dir)
    try:
        state = frames.take_state()
        keys = None if state is None else {name: getattr(state, name) for name in KEY_FRAMES}
        if state is not None:
            retried(functools.partial(_write_state, staging, state))
        state = None  # its frames that no table shares go now
        root = store.tables_dir(warehouse_dir)
        previous_files = store.table_files(current_info)
        written = write_tables(tables, root, previous_files, unchanged, patches, let_go=True)
        progress.checkpoint("load")
        fingerprint = publish.fingerprint(written, sql_dir)
        if (
            current is not None
            and current_info.get("fingerprint") == fingerprint
            and _state_as_published(warehouse_dir, keys)
        ):
            store.discard_version(staging)
            return WrittenVersion(None, kept=StagedVersion(None, current, n_views, True))
        written = {n: delta.with_expected_version(root / n, t) for n, t in written.items()}
    except BaseException:
        store.discard_version(staging)
        raise
    previous = None
    if current is not None:
        previous = publish.Previous(
            warehouse_dir / store.VERSIONS / current / store.DATABASE, current_info
        )
    return WrittenVersion(
        staging,
        tables_dir=root,
        sql_dir=sql_dir,
        tables=written,
        record={**info, "fingerprint": fingerprint},
        previous=previous,
        changed_papers=changed.papers if changed is not None else None,
    )


def _write_state(staging: Path, state: LinkState) -> None:
    for name, frame in state.frames().items():
        if isinstance(frame, SpilledFrame):
            state_files.keep_state_file(staging, name, frame.path)
        else:
            state_files.write_state(staging, name, frame)


def publish_version(written: WrittenVersion) -> StagedVersion:
    """Build and test the DuckDB file of a written version, and write its report.

    Safe to run again after a failure (each try builds the file afresh); the
    staging folder stays for that, and ``discard_written`` drops it once the
    caller gives up (``discarded_on_failure``).
    """
    if written.kept is not None:
        return written.kept
    staging = written.staging
    report = publish.finish_version(
        staging,
        written.tables,
        written.tables_dir,
        written.sql_dir,
        written.record,
        written.previous,
        written.changed_papers,
    )
    # The version's report, from its own tested DuckDB file, beside it.
    write_version_report(staging)
    version = staging.name.removeprefix(store.BUILDING)
    return StagedVersion(staging, version, report.n_views, False)


def discard_written(written: WrittenVersion) -> None:
    """Drop a written version that will not be published."""
    if written.staging is not None:
        store.discard_version(written.staging)


def _published(warehouse_dir: Path) -> tuple[str | None, dict]:
    """The published version and its build record ({} when damaged: it must not block
    the next version)."""
    current = store.current_version(warehouse_dir)
    current_info: dict = {}
    if current is not None:
        with contextlib.suppress(PaperlakeError):
            current_info = store.read_build_info(warehouse_dir, current)
    return current, current_info


def _state_as_published(warehouse_dir: Path, keys: dict[str, pl.DataFrame] | None) -> bool:
    """True when a state whose KEY_FRAMES are ``keys`` was derived from what the
    published version's state was: the same context (settings, versions, curation
    files) and dumps. Equal tables from a new context still make a new version, for
    its state: else every later run would find the old context and link everything
    again."""
    if keys is None:
        return True
    published = read_key_frames(lambda n: state_files.read_state(warehouse_dir, n))
    return published is not None and all(
        frame.equals(keys[name]) for name, frame in published.items()
    )


def write_patches(changed: WriteHints | None) -> list[Patch]:
    """The rows a link's hints carry, as the table writer's patches (none: a full link)."""
    if changed is None:
        return []
    return [
        Patch("paper_id", changed.papers, changed.paper_rows),
        Patch("source_file", changed.sources, changed.source_rows),
    ]


def _input_keys(info: dict) -> list[tuple[str, str | None]]:
    return [(i.get("source_file"), i.get("cache_key")) for i in info.get("inputs", [])]


def _plan_keys(plan: list[PlannedDump]) -> list[tuple[str, str | None]]:
    """(source_file, cache key) of each planned dump, as ``build_info`` records them."""
    return [(p.dump.source_file, p.key) for p in sorted(plan, key=lambda p: p.dump.source_file)]


def _same_build(published: dict, keys: list[tuple[str, str | None]], sql_dir: Path) -> bool:
    """True when the published version (its build record ``published``) was built from
    the dumps ``keys`` (source_file, cache key) with the same SQL, code version and
    file layout."""
    return (
        "fingerprint" in published
        and _input_keys(published) == keys
        and published.get("paperlake_version") == __version__
        and published.get("layout") == publish.LAYOUT
        and published.get("sql_digest") == publish.sql_digest(sql_dir)
    )


def _same_as_published(
    published: dict, info: dict, tables: Tables, sql_dir: Path, changed: WriteHints | None
) -> bool:
    """True when this build would equal the published version (its build record
    ``published``), so that writing it would only find the same fingerprint.

    The link ran from the published version's state and changed no row
    (``changed.nothing``: no dump added, removed or re-split, no paper
    re-derived, no file without a cache entry now or then), over the same
    dumps (cache keys), into the same tables, with the same SQL, code
    version and file layout as the published version.
    """
    return (
        changed is not None
        and changed.nothing
        and _same_build(published, _input_keys(info), sql_dir)
        and set(store.table_files(published)) == set(tables)
    )


def unchanged_version(
    warehouse_dir: Path, plan: list[PlannedDump], entries: list[tuple[str, str]], sql_dir: Path
) -> tuple[str, dict] | None:
    """The published version and its build record when it was built from the dumps of
    ``plan`` with this SQL, code version and layout: the no-change shortcut's checks that
    need no link. None when not.

    ``entries`` are the cache entries the run would link (``Collected.entries``):
    they must be the planned keys (an entry re-keyed because its file changed
    while read is a change).
    """
    current, published = _published(warehouse_dir)
    keys = _plan_keys(plan)
    if current is None or sorted(entries) != keys or not _same_build(published, keys, sql_dir):
        return None
    return current, published
