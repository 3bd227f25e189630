"""The refresh stages as plain functions; ``flows.py`` runs them under Prefect.

plan (hash each dump not known unchanged, look up the extraction cache) ->
extract (only the dumps not cached, per batch of files, each batch caching
what it parses) -> collect (every dump as a cache entry; damaged entries
parsed again) -> compare (``unchanged_summary``: when the published version
already holds these dumps, the run stops here with its report) -> link
(``pipelines.linking``: from the published version's linkage state) -> stage
(``pipelines.staging``: Parquet, DuckDB, data tests and the next linkage
state in a staging folder) -> promote (rename into place) -> clean-up (prune
old versions and cache entries).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

import pipelines.extract as extract
from pipelines import delta, progress, publish, store
from pipelines.curation import unmatched_references
from pipelines.extract import DumpBytes, ExtractedDump, extract_dumps
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES
from pipelines.file_hashes import FileHashes
from pipelines.files import read_regular

# The link stage lives in pipelines.linking; its entry points stay importable from here.
from pipelines.linking import (  # noqa: F401
    CacheSource,
    collect_tables,
    link_tables,
    link_warehouse,
    unchanged_link,
)
from pipelines.load import write_tables
from pipelines.sources import DumpFile, SkippedEntry, unread_extraction

# The stage step lives in pipelines.staging; its entry points stay importable from here.
from pipelines.staging import (  # noqa: F401
    StagedVersion,
    build_info,
    stage_version,
    unchanged_version,
)
from pipelines.store import ExtractCache, write_extract_pack
from pipelines.taxonomy import Taxonomies
from pipelines.transform.linkage import LinkReport

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


@dataclass
class RunSummary:
    """What a refresh did, for the CLI and the flow's report."""

    sources: pl.DataFrame
    n_records: int = 0
    n_rejected_lines: int = 0
    n_papers: int = 0
    n_authors: int = 0
    n_views: int = 0
    database_path: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Quarantined line runs: source_file, line_start, line_end, reason, raw_text.
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTS))
    # Papers linked from more than one record: paper_id, title, n_records, sources.
    merges: pl.DataFrame = field(default_factory=pl.DataFrame)
    # Records kept with a flag (is_cut, is_future_date): their ids, lines, title, date.
    flagged: pl.DataFrame = field(default_factory=pl.DataFrame)
    extraction: dict[str, str] = field(default_factory=dict)  # source_file -> parsed/reused
    version: str | None = None  # the version published after this run
    previous_version: str | None = None
    published: bool = False  # False: nothing changed, the current version stays
    recovered: list[str] = field(default_factory=list)
    link: LinkReport = field(default_factory=LinkReport)
    extract_runner: str = "threads"  # where changed dumps were parsed: threads, dask ...
    extract_batches: int = 0
    extract_processes: list[str] = field(default_factory=list)  # host:pid that parsed
    # Override and alias entries naming what no record has (they fail --strict).
    config_warnings: list[str] = field(default_factory=list)
    # Which Prefect API the run reported to, and what its start-up cost.
    prefect_server: str | None = None

    @property
    def n_quarantined_files(self) -> int:
        return int(self.sources["format"].is_null().sum())

    @property
    def has_rejects(self) -> bool:
        return self.n_rejected_lines > 0 or self.n_quarantined_files > 0

    @property
    def n_parsed(self) -> int:
        return sum(1 for how in self.extraction.values() if how == PARSED)

    @property
    def n_reused(self) -> int:
        return sum(1 for how in self.extraction.values() if how == REUSED)

    def by_format(self) -> pl.DataFrame:
        """Files, lines, records and rejected lines per format."""
        return (
            self.sources.with_columns(pl.col("format").fill_null("(quarantined)"))
            .group_by("format")
            .agg(
                files=pl.len(),
                lines=pl.col("n_lines").sum(),
                records=pl.col("n_records").sum(),
                rejected_lines=pl.col("n_rejected_lines").sum(),
                furniture_lines=pl.col("n_furniture_lines").sum(),
            )
            .sort("format")
        )


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
    chunk: list[DumpBytes] = []

    def flush() -> None:
        extracted = extract_dumps(chunk)
        if cache_dir is not None and plan is not None:
            items = [plan[dump.source_file] for dump in chunk]
            out.extend(cache_extractions(extracted, items, cache_dir))
        else:
            out.extend(extracted)
        progress.advance("extract", len(chunk))
        chunk.clear()

    size = 0
    for dump in dumps:
        try:
            data = read_regular(dump.path)
        except OSError as err:  # gone, unreadable or swapped for a FIFO since it was found
            reason = f"cannot be read: {err.strerror or err}"
            out.append(unread_extraction(SkippedEntry(dump.source_file, reason), dump))
            progress.advance("extract")
            continue
        chunk.append(DumpBytes(data, dump.source_file, dump.capture_date, dump.capture_date_origin))
        size += len(data)
        if size >= EXTRACT_CHUNK_BYTES:
            flush()
            size = 0
    if chunk:
        flush()
    return out


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
    for group in _chunks(whole):
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


def _chunks(items: list[PlannedDump]) -> Iterator[list[PlannedDump]]:
    """``items`` in runs of about EXTRACT_CHUNK_BYTES of dumps."""
    chunk: list[PlannedDump] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += item.size
        if size >= EXTRACT_CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


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


Tables = dict[str, pl.DataFrame | pl.LazyFrame]


def load_and_publish(tables: Tables, warehouse_dir: Path, sql_dir: Path) -> tuple[Path, int]:
    """Write the tables as Delta tables under ``warehouse_dir/tables`` and the DuckDB
    file as ``warehouse_dir/paperlake.duckdb``, committed at once.

    No versions, lock, cache or rollback: for benchmarks and scratch warehouses.
    The flow publishes through ``write_version``, ``publish_version`` and
    ``store.promote`` instead.
    Returns (database, views).
    """
    root = store.tables_dir(warehouse_dir)
    written = write_tables(tables, root)
    for name, files in written.items():
        delta.follow(root / name, files, "scratch warehouse")
    database = warehouse_dir / store.DATABASE
    report = publish.build_database(written, root, database, sql_dir)
    return database, report.n_views


def table_counts(tables: Tables) -> dict[str, int]:
    """Rows per table (a LazyFrame is counted, not collected)."""
    return {
        name: frame.select(pl.len()).collect().item()
        if isinstance(frame, pl.LazyFrame)
        else frame.height
        for name, frame in sorted(tables.items())
    }


def summarize(
    tables: Tables,
    extraction: dict[str, str],
    notes: list[str],
    counts: dict[str, int] | None = None,
    papers: pl.DataFrame | None = None,
) -> RunSummary:
    """The run's figures from its tables (publishing fields are filled in by the flow).

    ``papers`` (paper_id, title, n_records) saves reading a lazy papers table;
    ``counts`` (rows per table) counting them.
    """
    counts = counts or table_counts(tables)
    papers = tables["papers"] if papers is None else papers
    merged = (
        papers.lazy()
        .filter(pl.col("n_records") > 1)
        .select("paper_id", "title", "n_records")
        .collect()
    )
    sources_of = (
        tables["paper_sources"]
        .lazy()
        .filter(pl.col("paper_id").is_in(merged["paper_id"].implode()))
        .group_by("paper_id")
        .agg(sources=pl.col("source_file").unique().sort().str.join(", "))
        .collect()
    )
    merges = merged.join(sources_of, on="paper_id", how="left").sort(
        "n_records", "paper_id", descending=[True, False]
    )
    rejects = tables["rejects"]
    return RunSummary(
        sources=tables["sources"],
        n_records=counts["records"],
        n_rejected_lines=int(tables["sources"]["n_rejected_lines"].sum()),
        n_papers=counts["papers"],
        n_authors=counts["authors"],
        rejects=rejects.collect() if isinstance(rejects, pl.LazyFrame) else rejects,
        merges=merges,
        flagged=tables["records"]
        .lazy()
        .filter(pl.col("is_cut") | pl.col("is_future_date"))
        .select(
            "source_file",
            "line_start",
            "line_end",
            "title",
            "date_text",
            "is_cut",
            "is_future_date",
        )
        .collect(),
        extraction=extraction,
        warnings=notes,
    )


def unchanged_summary(
    plan: list[PlannedDump],
    collected: Collected,
    warehouse_dir: Path,
    raw_dir: Path,
    sql_dir: Path,
    notes: list[str],
    taxonomies: Taxonomies | None = None,
) -> RunSummary | None:
    """The summary of a run that links and publishes nothing, read from the published
    version, when that version already is what linking and staging these dumps would
    give; None when they must be linked.

    The no-change shortcut's guarantees (``staging._same_as_published``), known
    before linking: the published version was built from the same dumps (cache
    keys), SQL, code version and layout (``staging.unchanged_version``), and
    linking them from its state would change no row (``linking.unchanged_link``).
    """
    published = unchanged_version(warehouse_dir, plan, collected.entries, sql_dir)
    if published is None or not isinstance(published[1].get("tables"), dict):
        return None
    tables = {
        name: pl.scan_parquet([str(f) for f in table.files])
        for name, table in store.published_tables(warehouse_dir).items()
    }
    kept = unchanged_link(collected, warehouse_dir, raw_dir, published, tables, taxonomies)
    if kept is None:
        return None
    link, extraction_notes = kept
    version, record = published
    sources = tables["sources"].sort("source_file").collect()
    summary = summarize(
        {**tables, "sources": sources}, collected.how, notes + extraction_notes, record["tables"]
    )
    summary.link = link
    summary.version = summary.previous_version = version
    summary.n_views = int(record.get("n_views", 0))
    summary.config_warnings = unmatched_references(raw_dir, tables["records"])
    return summary


class StageTimer:
    """Collects wall time per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str) -> _Timing:
        return _Timing(self, stage)


class _Timing:
    def __init__(self, timer: StageTimer, stage: str) -> None:
        self.timer, self.stage = timer, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timer.seconds[self.stage] = self.timer.seconds.get(self.stage, 0.0) + (
            time.perf_counter() - self.start
        )
