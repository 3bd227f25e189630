"""The extract stage: plan, parse and cache the dumps that changed, collect them all.

plan (``plan_extraction``: hash each dump not known unchanged, look its key up
in the extraction cache) -> extract (``extract_batch``: only the dumps not
cached, in chunks of about ``EXTRACT_CHUNK_BYTES``, each chunk written to the
cache as one pack as soon as it is parsed) -> collect (``collect_extractions``:
every dump of the run as a cache entry; the dumps of a damaged pack are parsed
again). Linking then reads the entries it needs from the cache
(``store.ExtractCache``), which owns the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl

import pipelines.extract as extract
from pipelines import progress
from pipelines.extract import DumpBytes, ExtractedDump, extract_dumps
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES
from pipelines.file_hashes import FileHashes
from pipelines.files import read_regular
from pipelines.sources import DumpFile, SkippedEntry, unread_extraction
from pipelines.store import ExtractCache, write_extract_pack

T = TypeVar("T")

# How each dump's extraction was obtained in a run.
PARSED, REUSED = "parsed", "reused"
# What a cached extraction depends on besides the parser version: its schemas.
_SCHEMA_KEY = repr([SOURCES, RECORDS, REJECTS, PROFILES])


@dataclass(frozen=True)
class PlannedDump:
    """A dump, its content hash, and whether its extraction is cached."""

    dump: DumpFile
    sha256: str | None  # None when the file could not be read
    size: int
    key: str | None  # the cache key; None when the file could not be read
    cached: bool


def cache_key(dump: DumpFile, sha256: str, parser_version: str) -> str:
    """The key of a dump's cached extraction.

    Records depend on more than the bytes: the file's name is in every row and
    the capture date resolves year-less dates, so both are part of the key.
    """
    parts = [
        parser_version,
        _SCHEMA_KEY,
        dump.source_file,
        sha256,
        dump.capture_date.isoformat(),
        dump.capture_date_origin,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def plan_extraction(
    dumps: list[DumpFile],
    cache_dir: Path,
    parser_version: str,
    hashes: FileHashes | None = None,
) -> list[PlannedDump]:
    """Hash every dump and say which ones have a cached extraction.

    ``hashes`` (``store.read_file_hashes``) spares reading the dumps it knows
    unchanged, and learns this run's for ``store.write_file_hashes``.
    """
    hashes = hashes if hashes is not None else FileHashes()
    cached = ExtractCache(cache_dir)
    plan = []
    for dump in dumps:
        try:
            sha256, size = hashes.hash(dump.path)
        except OSError:
            # extract_batch reads it again and quarantines it with the reason.
            plan.append(PlannedDump(dump, None, 0, None, False))
            continue
        key = cache_key(dump, sha256, parser_version)
        plan.append(PlannedDump(dump, sha256, size, key, key in cached))
    return plan


# Dumps are parsed together up to this many bytes: large enough that each
# regular expression and group-by runs over long columns, small enough to keep
# the lines of one chunk (and their intermediate columns) a small part of memory.
EXTRACT_CHUNK_BYTES = 16_000_000


@dataclass(frozen=True)
class CachedDump:
    """A dump its extraction task parsed and wrote to the cache itself (threads runner):
    only its name and key travel on, not its frames."""

    source_file: str
    key: str


def entry_key(extracted: ExtractedDump, item: PlannedDump) -> str | None:
    """The cache key of a fresh extraction; None when the file could not be read (it
    has no entry).

    An extraction whose bytes differ from the ones hashed (the file was
    rewritten between the two reads) is cached under the key of what was
    parsed, so it is still linked, and parsed again next run.
    """
    sha256 = extracted.source["sha256"][0]
    if sha256 is None:
        return None
    if sha256 != item.sha256 or item.key is None:
        return cache_key(item.dump, sha256, extract.PARSER_VERSION)
    return item.key


def cache_extractions(
    extracted: list[ExtractedDump], items: list[PlannedDump], cache_dir: Path
) -> list[CachedDump | ExtractedDump]:
    """Write fresh extractions to the cache as one pack; returns their handles (or an
    extraction itself when its file could not be read: it has no entry)."""
    out: list[CachedDump | ExtractedDump] = []
    entries = []
    for e, item in zip(extracted, items, strict=True):
        key = entry_key(e, item)
        if key is None:
            out.append(e)
        else:
            entries.append((key, e))
            out.append(CachedDump(item.dump.source_file, key))
    if entries:
        write_extract_pack(cache_dir, entries)
    return out


def extract_batch(
    dumps: list[DumpFile],
    cache_dir: Path | None = None,
    plan: dict[str, PlannedDump] | None = None,
) -> list[ExtractedDump | CachedDump]:
    """Extract a batch of dumps; a file that cannot be read is quarantined, not raised.

    With ``cache_dir`` (and the ``plan`` of these dumps), each chunk's
    extractions are written to the cache as one pack as soon as they are
    parsed and only their handles are returned, so a batch never holds more
    than one chunk.
    """
    out: list[ExtractedDump | CachedDump] = []
    for chunk in in_chunks(_read_dumps(dumps, out), lambda dump: len(dump.data)):
        extracted = extract_dumps(chunk)
        if cache_dir is not None and plan is not None:
            items = [plan[dump.source_file] for dump in chunk]
            out.extend(cache_extractions(extracted, items, cache_dir))
        else:
            out.extend(extracted)
        progress.advance("extract", len(chunk))
    return out


def _read_dumps(
    dumps: list[DumpFile], unread: list[ExtractedDump | CachedDump]
) -> Iterator[DumpBytes]:
    """Each dump's bytes, read one at a time; a dump that cannot be read goes to
    ``unread`` as a quarantined extraction instead."""
    for dump in dumps:
        try:
            data = read_regular(dump.path)
        except OSError as err:  # gone, unreadable or swapped for a FIFO since it was found
            reason = f"cannot be read: {err.strerror or err}"
            unread.append(unread_extraction(SkippedEntry(dump.source_file, reason), dump))
            progress.advance("extract")
            continue
        yield DumpBytes(data, dump.source_file, dump.capture_date, dump.capture_date_origin)


def in_chunks(items: Iterable[T], size_of: Callable[[T], int]) -> Iterator[list[T]]:
    """``items`` in runs of about EXTRACT_CHUNK_BYTES (each run ends with the item
    that reaches it), taken lazily: a run is handed on before the next is read."""
    chunk: list[T] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += size_of(item)
        if size >= EXTRACT_CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Collected:
    """Every dump of a run as a cache entry, and how its extraction was obtained."""

    entries: list[tuple[str, str]]  # (source_file, cache key), in file order
    how: dict[str, str]  # source_file -> parsed/reused
    uncached: list[ExtractedDump] = field(default_factory=list)  # unreadable files


def collect_extractions(
    plan: list[PlannedDump], fresh: list[ExtractedDump | CachedDump], cache_dir: Path
) -> Collected:
    """Cache the fresh extractions; check the cached ones (the dumps of a damaged pack
    are parsed again). Linking then reads the entries it needs from the cache.

    A file that could not be read has no entry: it is in the run's sources and
    rejects only.
    """
    by_file = {_name_of(e): e for e in fresh}
    cached = ExtractCache(cache_dir)
    items = sorted(plan, key=lambda p: p.dump.source_file)
    # Not cached, or in a damaged pack: parse (again), in one batch.
    missing = [
        i for i in items if i.dump.source_file not in by_file and not (i.key and i.key in cached)
    ]
    if missing:
        plan_of = {i.dump.source_file: i for i in missing}
        by_file.update(
            (_name_of(e), e) for e in extract_batch([i.dump for i in missing], cache_dir, plan_of)
        )
    # Extractions made elsewhere (Dask workers) come back whole: a pack per chunk's
    # worth of them, as the threads' packs.
    whole = [i for i in items if isinstance(by_file.get(i.dump.source_file), ExtractedDump)]
    for group in in_chunks(whole, lambda item: item.size):
        handles = cache_extractions([by_file[i.dump.source_file] for i in group], group, cache_dir)
        by_file.update(zip((i.dump.source_file for i in group), handles, strict=True))
    entries, how, uncached = [], {}, []
    for item in items:
        name = item.dump.source_file
        extracted = by_file.get(name)
        if extracted is None:
            entries.append((name, item.key))
            how[name] = REUSED
        elif isinstance(extracted, CachedDump):
            entries.append((name, extracted.key))
            how[name] = PARSED
        else:
            uncached.append(extracted)
            how[name] = PARSED
    return Collected(entries, how, uncached)


def _name_of(extraction: ExtractedDump | CachedDump) -> str:
    if isinstance(extraction, CachedDump):
        return extraction.source_file
    return extraction.source["source_file"][0]


def batches(dumps: list[DumpFile], n_batches: int) -> list[list[DumpFile]]:
    """Split dumps into at most ``n_batches`` batches of similar total size."""
    n_batches = max(1, min(n_batches, len(dumps)))
    buckets: list[list[DumpFile]] = [[] for _ in range(n_batches)]
    sizes = [0] * n_batches
    # Largest first into the lightest bucket: a greedy, deterministic balance.
    for dump in sorted(dumps, key=lambda d: (-d.path.stat().st_size, d.source_file)):
        i = sizes.index(min(sizes))
        buckets[i].append(dump)
        sizes[i] += dump.path.stat().st_size
    return [b for b in buckets if b]


def combine(extracted: list[ExtractedDump]) -> dict[str, pl.DataFrame]:
    """Stack per-file results into the extraction tables."""

    def stack(frames: list[pl.DataFrame], schema: pl.Schema) -> pl.DataFrame:
        frames = [f for f in frames if f.height]
        return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)

    return {
        "sources": stack([e.source for e in extracted], SOURCES),
        "records": stack([e.records for e in extracted], RECORDS),
        "rejects": stack([e.rejects for e in extracted], REJECTS),
        "profiles": stack([e.profile for e in extracted], PROFILES),
    }
