"""The extraction cache: the dumps' parsed records, kept between runs by content.

Part of the warehouse store (``pipelines.store`` re-exports these functions).
A dump's entry is its *key*: (dump content, name, capture date, parser
version; ``extraction.cache_key``). Dumps parsed together are kept together, as
one *pack*, written whole or not at all:

    cache/extract/<pack>/source.parquet    the four frames of each of its dumps,
                         records.parquet   stacked, each row with its dump's
                         rejects.parquet   ``cache_key``
                         profile.parquet
                         index.json        its keys, in order, and each one's notes

A pack is named by the keys it holds. Why packs rather than a folder per
dump: four Parquet files and five fsyncs per dump cost as much as parsing it
(100 MB of dumps: 5.3 s of writes against 5.6 s of parsing, and 1.0 s as
one file per part), and every later scan opened four files per dump.

A key found in two packs (a pack re-written around it) is read from the
first by name. Pruning deletes the packs that hold no kept key, and re-writes
a pack most of whose keys are gone with only the kept ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from pipelines import progress
from pipelines.durable import fsync_dir
from pipelines.extract import ExtractedDump

CACHE = Path("cache") / "extract"
CACHE_PARTS = ("source", "records", "rejects", "profile")
INDEX = "index.json"
TMP_PREFIX = ".tmp-"
KEY = "cache_key"


def cache_dir(warehouse_dir: Path) -> Path:
    """The extraction cache of a warehouse: packs of dumps' extractions."""
    return warehouse_dir / CACHE


def pack_name(keys: Sequence[str]) -> str:
    """A pack's name: a digest of the keys it holds, in order."""
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]


def write_extract_pack(cache_dir: Path, entries: Sequence[tuple[str, ExtractedDump]]) -> str:
    """Keep the extractions ``entries`` ((key, extraction); a key given twice is kept
    once) as one pack, complete or not at all. Returns its name."""
    by_key = dict(entries)  # the same key is the same content
    parts = {
        part: pl.concat(
            [
                getattr(e, part).with_columns(pl.lit(k, pl.String).alias(KEY))
                for k, e in by_key.items()
            ],
            how="vertical",
        )
        for part in CACHE_PARTS
    }
    return _write_pack(cache_dir, parts, {k: list(e.notes) for k, e in by_key.items()})


def _write_pack(
    cache_dir: Path, parts: dict[str, pl.DataFrame], notes: dict[str, list[str]]
) -> str:
    """Write one pack: each part's rows (with ``cache_key``) and the keys' notes, the
    keys in the order of ``notes``."""
    keys = list(notes)
    name = pack_name(keys)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f"{TMP_PREFIX}{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for part in CACHE_PARTS:
        parts[part].write_parquet(tmp / f"{part}.parquet", compression="zstd")
        fsync_dir(tmp / f"{part}.parquet")
    (tmp / INDEX).write_text(json.dumps({"keys": keys, "notes": notes}), encoding="utf-8")
    fsync_dir(tmp / INDEX)
    progress.checkpoint("cache")
    final = cache_dir / name
    # Same name, same keys, same content: a pack already there (a run that died
    # after the rename but before recording it) is simply replaced.
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    fsync_dir(cache_dir)
    return name


def _read_index(pack: Path) -> dict | None:
    """A pack's index when the pack is whole: readable index, and each part a complete
    Parquet file (its magic bytes at both ends). None when not."""
    try:
        index = json.loads((pack / INDEX).read_text(encoding="utf-8"))
        for part in CACHE_PARTS:
            with open(pack / f"{part}.parquet", "rb") as handle:
                head = handle.read(4)
                handle.seek(-4, os.SEEK_END)
                if head != b"PAR1" or handle.read(4) != b"PAR1":
                    return None
    except (OSError, ValueError):
        return None
    keys, notes = index.get("keys"), index.get("notes")
    if not (isinstance(keys, list) and isinstance(notes, dict)):
        return None
    return index


class ExtractCache:
    """What the cache holds: each key's pack, and its notes. Read once, when made;
    cheap (one small index file per pack) so made once per step that needs it."""

    def __init__(self, cache_dir: Path) -> None:
        self.dir = cache_dir
        self.pack_of: dict[str, str] = {}
        self._notes: dict[str, list[str]] = {}
        self.packs: dict[str, list[str]] = {}  # every whole pack: its keys
        if not cache_dir.is_dir():
            return
        for pack in sorted(p for p in cache_dir.iterdir() if not p.name.startswith(".")):
            index = _read_index(pack) if pack.is_dir() else None
            if index is None:
                continue  # damaged or foreign: its keys are parsed again
            self.packs[pack.name] = [str(k) for k in index["keys"]]
            for key in self.packs[pack.name]:
                if key not in self.pack_of:
                    self.pack_of[key] = pack.name
                    self._notes[key] = [str(n) for n in index["notes"].get(key, [])]

    def __contains__(self, key: object) -> bool:
        return key in self.pack_of

    def notes(self, key: str) -> list[str]:
        """The notes kept with one cached extraction."""
        return list(self._notes.get(key, []))

    def by_pack(self, keys: Iterable[str]) -> list[list[str]]:
        """``keys`` grouped by the pack that holds them, packs by name.

        Raises KeyError for a key the cache does not hold.
        """
        return list(self._grouped(keys).values())

    def _grouped(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Pack name -> the ``keys`` it holds, packs by name."""
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(self.pack_of[key], []).append(key)
        return {pack: groups[pack] for pack in sorted(groups)}

    def scan(self, keys: Iterable[str], part: str, schema: pl.Schema) -> pl.LazyFrame:
        """One part (``records``, ``rejects``, ``source``, ``profile``) of the entries
        ``keys``, with a ``cache_key`` column; ``schema`` when there are none. Rows
        come pack after pack (by name), each pack's in its order: callers that
        need an order sort.

        Raises KeyError for a key the cache does not hold.
        """
        scans = []
        for pack, mine in self._grouped(keys).items():
            scan = pl.scan_parquet(self.dir / pack / f"{part}.parquet")
            if len(mine) < len(self.packs[pack]):
                scan = scan.filter(pl.col(KEY).is_in(mine))
            scans.append(scan)
        if not scans:
            return pl.LazyFrame(schema={**schema, KEY: pl.String})
        return pl.concat(scans, how="vertical")

    def prune(self, keep: set[str]) -> list[str]:
        """Delete what holds no kept key (packs, damaged packs, leftovers), and re-write
        a pack more than half of whose keys are gone with only its kept ones.
        Returns the names of what was deleted."""
        if not self.dir.is_dir():
            return []
        removed = []
        for entry in sorted(self.dir.iterdir()):
            name = entry.name
            live = [k for k in self.packs.get(name, []) if k in keep and self.pack_of[k] == name]
            if live and 2 * len(live) < len(self.packs[name]):
                self._repack(name, live)
                live = []
            if not live:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
                removed.append(name)
        return removed

    def _repack(self, pack: str, keys: list[str]) -> None:
        """A new pack of ``keys`` from ``pack`` (whose other keys are gone)."""
        parts = {
            part: pl.read_parquet(self.dir / pack / f"{part}.parquet").filter(
                pl.col(KEY).is_in(keys)
            )
            for part in CACHE_PARTS
        }
        new = _write_pack(self.dir, parts, {key: self.notes(key) for key in keys})
        for key in keys:
            self.pack_of[key] = new
        self.packs[new] = keys


def prune_extract_cache(cache_dir: Path, keep: set[str]) -> list[str]:
    """``ExtractCache.prune``: keep only the entries ``keep``. Returns what was deleted."""
    return ExtractCache(cache_dir).prune(keep)


def clean_extract_cache(cache_dir: Path) -> list[str]:
    """Delete half-written packs a killed run left. Returns their names."""
    if not cache_dir.is_dir():
        return []
    stale = sorted(p for p in cache_dir.iterdir() if p.name.startswith(TMP_PREFIX))
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return [p.name for p in stale]
