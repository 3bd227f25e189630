"""The extraction cache: each dump's parsed records, kept between runs by content.

Part of the warehouse store (``pipelines.store`` re-exports these functions):
one entry per (dump content, name, capture date, parser version) under
``warehouse/cache/extract/<key>/``, written whole or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl

from pipelines import progress
from pipelines.durable import fsync_dir
from pipelines.extract import ExtractedDump

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
