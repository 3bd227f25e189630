"""Write the warehouse's Parquet tables (and text files such as exports).

Every write goes to a temporary name and is renamed into place, so a reader
(or the next run, after a crash) sees the old file or the new one, never half.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pipelines import progress
from pipelines.store import fsync_dir

# The tables a refresh writes, with the columns that order their rows.
TABLE_ORDER: dict[str, list[str]] = {
    "sources": ["source_file"],
    "records": ["source_file", "record_index"],
    "rejects": ["source_file", "line_start"],
    "profiles": ["source_file"],
    "papers": ["paper_id"],
    "authors": ["author_id"],
    "paper_authors": ["paper_id", "author_position"],
    "paper_sources": ["paper_id", "source_file", "record_index"],
    "paper_matches": ["record_id_a", "record_id_b"],
    "paper_field_sources": ["paper_id", "field"],
    "categories": ["category_code"],
    "topics": ["topic_position"],
    "paper_topics": ["paper_id", "topic", "method"],
    "author_network": ["author_id"],
    "profile_owners": ["source_file"],
}


def _tmp_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _move_into_place(tmp: Path, path: Path) -> None:
    fsync_dir(tmp)
    os.replace(tmp, path)


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write one Parquet file atomically: readers see the old file or the new one."""
    tmp = _tmp_path(path)
    frame.write_parquet(tmp, compression="zstd", statistics=True)
    _move_into_place(tmp, path)


def write_text(text: str, path: Path) -> None:
    """Write a UTF-8 text file (an export, the data dictionary) atomically."""
    tmp = _tmp_path(path)
    tmp.write_text(text, encoding="utf-8", newline="\n")
    _move_into_place(tmp, path)


def in_order(frame: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """``frame`` sorted by ``order`` (stable, nulls last), and not copied when it already is.

    The big tables (records, papers: every abstract) usually arrive in order;
    a sort would still copy them whole.
    """
    if not order or frame.height < 2:
        return frame
    rows = frame.select(pl.arg_sort_by(order, nulls_last=True, maintain_order=True)).to_series()
    if (rows.diff().drop_nulls() == 1).all():
        return frame
    return frame[rows]


def write_tables(tables: dict[str, pl.DataFrame], warehouse_dir: Path) -> dict[str, Path]:
    """Write every table, rows in a fixed order so equal input gives equal bytes."""
    written = {}
    progress.start("load", len(tables))
    for name, frame in tables.items():
        order = [c for c in TABLE_ORDER.get(name, []) if c in frame.columns]
        path = warehouse_dir / f"{name}.parquet"
        write_table(in_order(frame, order), path)
        written[name] = path
        progress.advance("load")
    return written
