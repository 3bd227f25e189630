"""The warehouse's tables as Delta Lake tables: file sets, commits, clean-up.

A table is a folder ``warehouse/tables/<table>/`` of immutable Parquet data
files (written by ``pipelines.load``, named by their content) and a Delta
transaction log (``_delta_log/``) that says which files make each version of
the table. A published warehouse version records, per table, its
``TableFiles``: the data files, the Delta schema and the Delta version whose
snapshot is exactly those files. ``follow`` commits whatever makes a table's
newest snapshot equal a ``TableFiles``, and nothing when it already is, so
the Delta tables can always be brought to the published version: forward
after a publish, back after a rollback or a crash.

Readers resolve the log once per query and then read files that never
change, so a reader gets one version of a table whatever a refresh does
meanwhile (README, "Storage").
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable, Schema
from deltalake.exceptions import DeltaError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    RemoveAction,
    create_table_with_add_actions,
)

from pipelines.errors import PaperlakeError

LOG = "_delta_log"
# Old log entries stay: a kept warehouse version names the Delta version it
# was published as, and reading a table at that version needs its log.
TABLE_CONFIGURATION = {"delta.enableExpiredLogCleanup": "false"}


@dataclass(frozen=True)
class DataFile:
    """One Parquet data file of a table: ``b<bucket>-<content hash>.parquet``."""

    name: str
    bucket: int
    rows: int
    size: int
    stats: str  # Delta's per-file statistics (JSON): numRecords, nullCount, min/max of keys
    # SHA-256 of the rows before compression (Arrow IPC): equal rows are found
    # without compressing them again. Only a shortcut: the name is the truth.
    rows_digest: str = field(default="", compare=False)


@dataclass(frozen=True)
class TableFiles:
    """The data files that make one version of a table, and how to read them."""

    files: tuple[DataFile, ...]
    schema: str  # the Delta schema, JSON
    buckets: int  # how many buckets the layout splits the table into
    delta_version: int | None = None  # the Delta version whose snapshot is ``files``

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def same_content(self, other: TableFiles | None) -> bool:
        return other is not None and self.names == other.names and self.schema == other.schema

    def to_json(self) -> dict[str, Any]:
        return {
            "delta_version": self.delta_version,
            "buckets": self.buckets,
            "schema": json.loads(self.schema),
            "files": [
                {
                    "name": f.name,
                    "bucket": f.bucket,
                    "rows": f.rows,
                    "size": f.size,
                    "stats": f.stats,
                    "rows_digest": f.rows_digest,
                }
                for f in self.files
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableFiles:
        return cls(
            files=tuple(
                DataFile(
                    f["name"],
                    int(f["bucket"]),
                    int(f["rows"]),
                    int(f["size"]),
                    f["stats"],
                    f.get("rows_digest", ""),
                )
                for f in data["files"]
            ),
            schema=json.dumps(data["schema"], sort_keys=True),
            buckets=int(data["buckets"]),
            delta_version=data.get("delta_version"),
        )


def delta_schema(schema: pl.Schema) -> str:
    """The Delta schema (JSON, stable key order) of a Polars schema."""
    arrow = pl.DataFrame(schema=schema).to_arrow().schema
    return json.dumps(json.loads(Schema.from_arrow(arrow).to_json()), sort_keys=True)


@dataclass(frozen=True)
class Snapshot:
    """A Delta table's newest version: its number, files (name -> size) and schema."""

    version: int
    sizes: dict[str, int] = field(default_factory=dict)
    schema: str = ""


def _table_error(path: Path, err: Exception) -> PaperlakeError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return PaperlakeError(f"{path}: Delta table could not be read or committed: {first}")


def snapshot(path: Path, version: int | None = None) -> Snapshot | None:
    """The table's newest snapshot (or ``version``), or None when there is no table yet."""
    if not (path / LOG).is_dir():
        return None
    try:
        # Resolved: deltalake joins a relative path to the working directory,
        # which may hold characters a Delta location cannot (check_location).
        table = DeltaTable(path.resolve(), version=version)
        actions = pl.DataFrame(table.get_add_actions(flatten=True)).select("path", "size_bytes")
        schema = json.dumps(json.loads(table.schema().to_json()), sort_keys=True)
    except (DeltaError, OSError) as err:
        raise _table_error(path, err) from None
    sizes = dict(zip(actions["path"].to_list(), actions["size_bytes"].to_list(), strict=True))
    return Snapshot(table.version(), sizes, schema)


def expected_version(path: Path, target: TableFiles) -> int:
    """The Delta version ``follow(path, target)`` will leave the table at."""
    current = snapshot(path)
    if current is None:
        return 0
    if set(current.sizes) == target.names and current.schema == target.schema:
        return current.version
    return current.version + 1


def _add(path: Path, file: DataFile) -> AddAction:
    mtime = int((path / file.name).stat().st_mtime * 1000)
    return AddAction(file.name, file.size, {}, mtime, True, file.stats)


def follow(path: Path, target: TableFiles, note: str) -> int:
    """Make the table's newest snapshot hold exactly ``target``'s files, in one commit.

    No commit when it already does. ``note`` goes into the commit's metadata
    (which paperlake version it publishes). Returns the Delta version whose
    snapshot is ``target``.
    """
    missing = [f.name for f in target.files if not (path / f.name).is_file()]
    if missing:
        raise PaperlakeError(f"{path}: data file {missing[0]} is missing; cannot publish it")
    schema = Schema.from_json(target.schema)
    properties = CommitProperties(custom_metadata={"userMetadata": note})
    try:
        current = snapshot(path)
        if current is None:
            create_table_with_add_actions(
                str(path.resolve()),
                schema,
                [_add(path, f) for f in target.files],
                mode="error",
                configuration=TABLE_CONFIGURATION,
                commit_properties=properties,
            )
            return 0
        if set(current.sizes) == target.names and current.schema == target.schema:
            return current.version
        table = DeltaTable(path.resolve())
        if current.schema != target.schema:
            # A new schema replaces every file: "overwrite" removes the old ones.
            actions: list = [_add(path, f) for f in target.files]
            table.create_write_transaction(
                actions, mode="overwrite", schema=schema, commit_properties=properties
            )
        else:
            now = int(time.time() * 1000)
            keep = target.names
            actions = [_add(path, f) for f in target.files if f.name not in current.sizes]
            actions += [
                RemoveAction(name, True, now, size)
                for name, size in sorted(current.sizes.items())
                if name not in keep
            ]
            table.create_write_transaction(
                actions, mode="append", schema=schema, commit_properties=properties
            )
    except (DeltaError, OSError) as err:
        raise _table_error(path, err) from None
    return current.version + 1


def with_expected_version(path: Path, target: TableFiles) -> TableFiles:
    return replace(target, delta_version=expected_version(path, target))


def files_in_use(path: Path) -> set[str]:
    """Files of the newest snapshot and the one before it.

    The one before stays for readers still reading it: a query that resolved
    the log just before a commit may open its files after it.
    """
    newest = snapshot(path)
    if newest is None:
        return set()
    names = set(newest.sizes)
    if newest.version > 0:
        try:
            previous = snapshot(path, newest.version - 1)
        except PaperlakeError:
            previous = None
        if previous is not None:
            names |= set(previous.sizes)
    return names


def delete_unreferenced(path: Path, keep: set[str]) -> list[str]:
    """Delete data files (and temp files) of the table that neither ``keep`` nor its
    newest two snapshots need. Returns their names."""
    if not path.is_dir():
        return []
    needed = keep | files_in_use(path)
    removed = []
    for entry in sorted(path.iterdir()):
        if entry.is_file() and entry.name.endswith(".parquet") and entry.name not in needed:
            entry.unlink()
            removed.append(entry.name)
        elif entry.name.startswith(".tmp-"):
            # A half-written data file, or the bucket spill of a killed run.
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
    if removed:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return removed
