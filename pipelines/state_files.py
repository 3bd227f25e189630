"""The linkage state's files: frames a link keeps for the next one, one Parquet file each.

Part of the warehouse store (``pipelines.store``): ``versions/<id>/state/``
holds the frames of the version they were linked for. A link reads the
published version's (``state_path``, ``read_state``) and writes the next
version's into its staging folder (``write_state``); frames it has finished
with before that folder exists go to ``spill_folder`` and are moved in by
``keep_state_file``.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pipelines.durable import fsync_dir
from pipelines.store import BUILDING, current_version, versions_dir

STATE = "state"


def _state_file(version_dir: Path, name: str) -> Path:
    """The file of state frame ``name`` in a version's (or a staging) folder."""
    return version_dir / STATE / f"{name}.parquet"


def read_state(warehouse_dir: Path, name: str) -> pl.DataFrame | None:
    """The frame ``name`` that the published version kept for the next run, or None.

    None when nothing is published, the version kept no such frame, or it
    cannot be read: a run must then rebuild it from scratch.
    """
    path = state_path(warehouse_dir, name)
    if path is None:
        return None
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None


def state_path(warehouse_dir: Path, name: str) -> Path | None:
    """The file of the frame ``name`` the published version kept, or None when there is
    none. The file is the published version's: read it, never move or change it."""
    version = current_version(warehouse_dir)
    if version is None:
        return None
    path = _state_file(versions_dir(warehouse_dir) / version, name)
    return path if path.is_file() else None


# Rows per row group of a state file. Given explicitly, the file's bytes depend on
# the rows alone; left to Polars, on how the frame happens to be chunked (a frame
# merged from old and new rows and the same rows computed at once wrote different files).
STATE_ROW_GROUP_ROWS = 2**17


def write_state(staging: Path, name: str, frame: pl.DataFrame) -> Path:
    """Keep ``frame`` for the next run in the version being built (published with it)."""
    path = _state_file(staging, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp, compression="zstd", row_group_size=STATE_ROW_GROUP_ROWS)
    fsync_dir(tmp)
    os.replace(tmp, path)
    return path


def spill_folder(warehouse_dir: Path) -> Path:
    """Where a link writes the state frames it has finished with before the version
    they belong to exists (``keep_state_file`` moves them in; ``recover`` and the
    writer remove what is left)."""
    return versions_dir(warehouse_dir) / f"{BUILDING}link-state"


def keep_state_file(staging: Path, name: str, path: Path) -> None:
    """Move a frame's file that ``write_state`` wrote elsewhere (``spill_folder``) into
    the version being built, as ``write_state(staging, name, ...)`` would have written it.
    Done again after it succeeded, it finds the file already moved."""
    target = _state_file(staging, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or not target.exists():
        os.replace(path, target)
