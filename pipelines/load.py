"""Write the warehouse's tables as Parquet data files (and text files such as exports).

A table's rows are split into buckets (``pipelines/layout.py``). Each bucket is
sorted by the table's order and written by Polars (ZSTD, statistics) into a
file named ``b<bucket>-<SHA-256 of its bytes>.parquet``: the same rows give the
same bytes and name, whether the table is written from scratch or after any
history of refreshes. A table with no rows gets one empty file (bucket 0), so
that its schema is in a file too.

Every write goes to a temporary name and is renamed into place, so a reader
(or the next run, after a crash) sees a whole file or none.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipelines import progress
from pipelines.delta import DataFile, TableFiles, delta_schema
from pipelines.durable import retried
from pipelines.layout import (
    BY_AUTHOR,
    BY_PAPER,
    BY_RECORD_A,
    BY_SOURCE,
    ONE_FILE,
    TableLayout,
    bucket_of,
    layout_of,
)
from pipelines.store import fsync_dir

# String columns longer than this get no min/max in the Delta statistics.
STATS_MAX_CHARS = 64


@dataclass(frozen=True)
class Patch:
    """New rows of some keys of the tables a link's hints name (``HINTED_BY_*``).

    ``column``: the key (``paper_id`` for paper tables, ``source_file`` for
    per-dump ones); ``keys``: the papers or dumps whose rows changed;
    ``tables``: their rows now, per table (a removed one has none). Every
    other key's rows are those of the published files
    (``linkage.WriteHints``), so a changed bucket is written as its published
    rows with these keys' rows replaced, without computing the whole table.
    """

    column: str
    keys: frozenset[str]
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame]


def _write_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def _stat_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def file_stats(frame: pl.DataFrame, keys: Collection[str]) -> str:
    """Delta's statistics of one data file: rows, nulls per column, min/max of keys and numbers."""
    simple = [c for c, t in frame.schema.items() if not isinstance(t, pl.List | pl.Struct)]
    ranged = [
        c
        for c, t in frame.schema.items()
        if t.is_integer() or t == pl.Date or (t == pl.String and c in keys)
    ]
    # One query for every figure: a query's fixed cost is most of a small file's.
    found = (
        frame.select(
            *(pl.col(c).null_count().alias(f"n:{c}") for c in simple),
            *(pl.col(c).min().alias(f"lo:{c}") for c in ranged),
            *(pl.col(c).max().alias(f"hi:{c}") for c in ranged),
        ).row(0, named=True)
        if simple or ranged
        else {}
    )
    nulls = {c: found[f"n:{c}"] for c in simple}
    lows: dict[str, object] = {}
    highs: dict[str, object] = {}
    if frame.height:
        for column in ranged:
            lo, hi = found[f"lo:{column}"], found[f"hi:{column}"]
            if lo is None:
                continue
            if frame.schema[column] == pl.String and max(len(lo), len(hi)) > STATS_MAX_CHARS:
                continue
            lows[column], highs[column] = _stat_value(lo), _stat_value(hi)
    stats = {"numRecords": frame.height, "minValues": lows, "maxValues": highs, "nullCount": nulls}
    return json.dumps(stats, sort_keys=True, separators=(",", ":"))


def rows_digest(frame: pl.DataFrame) -> str:
    """SHA-256 of the rows as uncompressed Arrow IPC: cheap next to compressing them."""
    buffer = io.BytesIO()
    # The oldest format: plain offsets and bytes, not views into shared buffers.
    frame.write_ipc(buffer, compression="uncompressed", compat_level=pl.CompatLevel.oldest())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def write_data_file(
    frame: pl.DataFrame,
    bucket: int,
    table_dir: Path,
    keys: Collection[str],
    previous: Collection[DataFile] = (),
) -> DataFile:
    """Write one bucket's rows (already in order) as a content-named file.

    When ``previous`` (the published files of this bucket) holds the same rows,
    its file is kept without compressing them again; an existing file of the
    same name already holds these bytes and is kept too.
    """
    digest = rows_digest(frame)
    for old in previous:
        if old.rows_digest == digest and (table_dir / old.name).is_file():
            return old
    data = _write_parquet(frame)
    name = f"b{bucket:03d}-{hashlib.sha256(data).hexdigest()[:40]}.parquet"
    path = table_dir / name
    if not path.is_file():
        table_dir.mkdir(parents=True, exist_ok=True)
        tmp = table_dir / f".tmp-{name}-{os.getpid()}"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    return DataFile(name, bucket, frame.height, len(data), file_stats(frame, keys), digest)


class _Homes:
    """Each paper's home dump (its smallest source_file), computed once per table set."""

    def __init__(self, paper_sources: pl.DataFrame | pl.LazyFrame | None) -> None:
        self._source = paper_sources
        self._frame: pl.DataFrame | None = None

    def frame(self) -> pl.DataFrame:
        if self._frame is None:
            if self._source is None:
                self._frame = pl.DataFrame(schema={"paper_id": pl.String, "_key": pl.String})
            else:
                self._frame = (
                    self._source.lazy()
                    .group_by("paper_id")
                    .agg(_key=pl.col("source_file").min())
                    .collect()
                )
                self._source = None  # the homes are all the writer needs of it
        return self._frame


def _key_expr(layout: TableLayout) -> pl.Expr:
    if layout.split_by == BY_SOURCE:
        return pl.col("source_file")
    if layout.split_by == BY_RECORD_A:
        return pl.col("record_id_a").str.replace(r"#[^#]*$", "")
    if layout.split_by == BY_AUTHOR:
        return pl.col("author_id")
    return pl.col("_key")  # BY_PAPER: joined from the homes


def _with_key(frame: pl.LazyFrame, layout: TableLayout, homes: _Homes) -> pl.LazyFrame:
    """``frame`` with its bucket key as ``_key``; a row without one keys on ""."""
    if layout.split_by == BY_PAPER:
        # Built on the narrow homes: left to itself, a streaming join may build
        # on the wide side (every abstract in memory).
        frame = frame.join(
            homes.frame().lazy(),
            on="paper_id",
            how="left",
            maintain_order="left",
            build_side="force_right",
        )
    else:
        frame = frame.with_columns(_key=_key_expr(layout))
    return frame.with_columns(pl.col("_key").fill_null(""))


def _bucket_map(keys: pl.Series, buckets: int) -> pl.DataFrame:
    values = keys.unique().to_list()
    return pl.DataFrame(
        {"_key": values, "_bucket": [bucket_of(v, buckets) for v in values]},
        schema={"_key": pl.String, "_bucket": pl.UInt16},
    )


def _sorted(frame: pl.DataFrame, order: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` sorted by ``order`` (stable, nulls last), not copied when it already is."""
    if not order or frame.height < 2:
        return frame
    rows = frame.select(pl.arg_sort_by(order, nulls_last=True, maintain_order=True)).to_series()
    if (rows.diff().drop_nulls() == 1).all():
        return frame
    return frame[rows]


# Buckets written at once: compressing, hashing and syncing a data file
# release the GIL, so a second thread keeps the other core busy; each one
# more holds one more bucket's rows in memory.
WRITE_THREADS = 2


class _BucketWrites:
    """Data files written WRITE_THREADS at a time (``add`` a write, ``files`` at the
    end); a failed write raises from the next ``add`` or from ``files``."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="paperlake-write")
        self._pending: deque[Future[DataFile]] = deque()
        self._done: list[DataFile] = []

    def __enter__(self) -> _BucketWrites:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, write: Callable[[], DataFile]) -> None:
        while len(self._pending) >= WRITE_THREADS:
            self._done.append(self._pending.popleft().result())
        self._pending.append(self._pool.submit(write))

    def files(self) -> list[DataFile]:
        while self._pending:
            self._done.append(self._pending.popleft().result())
        return self._done


def write_table(
    name: str,
    frame: pl.DataFrame | pl.LazyFrame,
    table_dir: Path,
    previous: TableFiles | None = None,
    unchanged: Collection[int] = (),
    homes: _Homes | None = None,
    patch: Patch | None = None,
) -> TableFiles:
    """Write one table's data files, bucket by bucket; return its file set.

    Buckets in ``unchanged`` that hold rows reuse ``previous``'s files without
    being written (a bucket without rows has no file), and a lazy per-dump
    table reads only the dumps of the other buckets; the hint is ignored when
    the schema or bucket count differs, or a file it would keep is gone. A
    LazyFrame is split into buckets in one read (spilled per bucket), so only
    one bucket's rows are in memory at a time. ``patch`` (the keys whose rows
    changed, and those rows) writes each bucket not kept as its published
    rows with those keys' rows replaced, without computing ``frame``.
    """
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    layout = layout_of(name, schema.names())
    table_schema = delta_schema(schema)
    homes = homes or _Homes(None)
    reuse: dict[int, list[DataFile]] = {}  # buckets the caller knows unchanged
    before: dict[int, list[DataFile]] = {}  # the published files, by bucket
    if (
        previous is not None
        and previous.schema == table_schema
        and previous.buckets == layout.buckets
    ):
        for file in previous.files:
            before.setdefault(file.bucket, []).append(file)
        for bucket in unchanged:
            kept = before.get(bucket, [])
            # A file gone from the folder cannot be kept: the bucket is written.
            if all((table_dir / file.name).is_file() for file in kept):
                reuse[bucket] = kept
    files: list[DataFile] = []
    if (
        patch is not None
        and _needs(layout) == {patch.column}
        and before
        and _on_disk(before, table_dir)
    ):
        files = _patched(name, schema, layout, patch, before, reuse, table_dir, homes)
    elif layout.split_by == ONE_FILE:
        if reuse.get(0):
            files = reuse[0]
        else:
            whole = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
            part = _sorted(whole, layout.order)
            files = [write_data_file(part, 0, table_dir, layout.order, before.get(0, ()))]
        return TableFiles(tuple(files), table_schema, layout.buckets)
    elif isinstance(frame, pl.DataFrame):
        keyed = _with_key(
            frame.select(sorted({*layout.order, *_needs(layout)})).lazy(), layout, homes
        )
        keys = keyed.select("_key").collect().to_series()
        mapping = _bucket_map(keys, layout.buckets)
        buckets = keys.to_frame().join(mapping, on="_key", how="left", maintain_order="left")[
            "_bucket"
        ]
        index = frame.select(layout.order).with_columns(_bucket=buckets)
        rows = index.select(
            pl.arg_sort_by(["_bucket", *layout.order], nulls_last=True, maintain_order=True)
        ).to_series()
        sorted_buckets = buckets.gather(rows)
        counts = sorted_buckets.rle()
        start = 0
        with _BucketWrites() as writes:
            for bucket, length in zip(
                counts.struct.field("value"), counts.struct.field("len"), strict=True
            ):
                if bucket in reuse:
                    files += reuse[bucket]
                else:
                    part = frame[rows.slice(start, length)]
                    old = before.get(bucket, ())
                    writes.add(
                        functools.partial(
                            write_data_file, part, bucket, table_dir, layout.order, old
                        )
                    )
                start += length
            files += writes.files()
    else:
        keyed = _with_key(frame, layout, homes)
        keys = keyed.select(pl.col("_key").unique()).collect().to_series()
        mapping = _bucket_map(keys, layout.buckets)
        present = sorted(set(mapping["_bucket"].to_list()))
        for bucket in present:
            if bucket in reuse:
                files += reuse[bucket]
        wanted = [b for b in present if b not in reuse]
        if reuse and layout.split_by == BY_SOURCE:
            # Read only the dumps of the buckets written: a filter the scan of
            # the source (the extraction cache) can use to skip the others.
            mine = mapping.filter(pl.col("_bucket").is_in(wanted))["_key"].implode()
            source = pl.col("source_file")
            keyed = _with_key(frame.filter(source.is_in(mine) | source.is_null()), layout, homes)
        with _BucketWrites() as writes:
            for bucket, part in _spilled_buckets(keyed, mapping, wanted, table_dir):
                old = before.get(bucket, ())
                writes.add(
                    functools.partial(_write_sorted, part, bucket, table_dir, layout.order, old)
                )
                del part
            files += writes.files()
    if not files:
        empty = frame.head(0).collect() if isinstance(frame, pl.LazyFrame) else frame.head(0)
        files = [write_data_file(empty, 0, table_dir, layout.order)]
    files.sort(key=lambda f: (f.bucket, f.name))
    return TableFiles(tuple(files), table_schema, layout.buckets)


def _write_sorted(
    rows: pl.DataFrame,
    bucket: int,
    table_dir: Path,
    order: tuple[str, ...],
    previous: Collection[DataFile],
) -> DataFile:
    """``write_data_file`` of a bucket's rows in the table's order."""
    rows = rows.sort(order, nulls_last=True, maintain_order=True)
    return write_data_file(rows, bucket, table_dir, order, previous)


def _on_disk(before: Mapping[int, list[DataFile]], table_dir: Path) -> bool:
    return all((table_dir / f.name).is_file() for files in before.values() for f in files)


def _patched(
    name: str,
    schema: pl.Schema,
    layout: TableLayout,
    patch: Patch,
    before: Mapping[int, list[DataFile]],
    reuse: Mapping[int, list[DataFile]],
    table_dir: Path,
    homes: _Homes,
) -> list[DataFile]:
    """A table's files as the published rows of each bucket with the keys ``patch``
    names replaced by its rows (see ``write_table``)."""
    rows = patch.tables[name]
    # Not the one empty file of a table that had no rows: it is no bucket's.
    before = {b: kept for b, files in before.items() if (kept := [f for f in files if f.rows])}
    reuse = {b: [f for f in files if f.rows] for b, files in reuse.items()}
    new = _with_key(rows.lazy().select(schema.names()), layout, homes).collect()
    mapping = _bucket_map(new["_key"], layout.buckets)
    new = new.join(mapping, on="_key", how="left", maintain_order="left").drop("_key")
    by_bucket = new.partition_by("_bucket", as_dict=True, include_key=False)
    keys = pl.Series(sorted(patch.keys), dtype=pl.String).implode()
    gone = pl.col(patch.column).is_in(keys)
    files: list[DataFile] = []
    with _BucketWrites() as writes:
        for bucket in sorted({*before, *(int(b) for (b,) in by_bucket)}):
            if bucket in reuse:
                files += reuse[bucket]
                continue
            parts = (
                [
                    pl.read_parquet([table_dir / f.name for f in before.get(bucket, [])])
                    .filter(~gone)
                    .cast(dict(schema))
                ]
                if bucket in before
                else []
            )
            parts += [by_bucket[(bucket,)]] if (bucket,) in by_bucket else []
            part = pl.concat(parts)
            if part.height:
                old = before.get(bucket, ())
                writes.add(
                    functools.partial(_write_sorted, part, bucket, table_dir, layout.order, old)
                )
        files += writes.files()
    return files


# A LazyFrame split into buckets is read in batches of this many rows, and
# spilled once the batches read hold about SPILL_BATCH_BYTES. The streaming
# engine keeps a few batches in flight: at 1 GB of dumps, batches of 100,000
# papers with their abstracts took 0.33 GB above the rows they held, of
# 20,000 rows 0.09 GB, as fast.
STREAM_BATCH_ROWS = 10_000
SPILL_BATCH_BYTES = 64 * 2**20


def _grouped_batches(rows: pl.LazyFrame) -> Iterator[pl.DataFrame]:
    """``rows`` read by the streaming engine in small batches, handed on in order in
    groups of about SPILL_BATCH_BYTES."""
    group: list[pl.DataFrame] = []
    size = 0
    for batch in rows.collect_batches(chunk_size=STREAM_BATCH_ROWS):
        group.append(batch)
        size += batch.estimated_size()
        if size >= SPILL_BATCH_BYTES:
            yield pl.concat(group)
            group, size = [], 0
    if group:
        yield pl.concat(group)


def _spilled_buckets(
    keyed: pl.LazyFrame, mapping: pl.DataFrame, wanted: list[int], table_dir: Path
) -> Iterator[tuple[int, pl.DataFrame]]:
    """The rows of each bucket in ``wanted``, one bucket at a time, in row order.

    ``keyed`` is read once, batch by batch (the streaming engine), and each
    batch's rows go to a spill file per bucket beside the table's data files;
    then each bucket is read back alone. Reading the LazyFrame once per bucket
    instead would re-read its source (the extraction cache) for every bucket.
    """
    if not wanted:
        return
    spill = table_dir / f".tmp-spill-{os.getpid()}"
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir(parents=True)
    try:
        rows = (
            keyed.join(
                mapping.lazy(),
                on="_key",
                how="inner",
                maintain_order="left",
                build_side="force_right",  # the small map, as in _with_key
            )
            .filter(pl.col("_bucket").is_in(wanted))
            .drop("_key")
        )
        parts: dict[int, list[Path]] = {b: [] for b in wanted}
        for n, batch in enumerate(_grouped_batches(rows)):
            for (bucket,), part in batch.partition_by(
                "_bucket", as_dict=True, maintain_order=True
            ).items():
                path = spill / f"{bucket:05d}-{n:07d}.arrow"
                part.drop("_bucket").write_ipc(path)
                parts[int(bucket)].append(path)
        for bucket in wanted:
            if parts[bucket]:
                yield bucket, pl.concat([pl.read_ipc(p) for p in parts[bucket]])
            for path in parts[bucket]:
                path.unlink()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _needs(layout: TableLayout) -> set[str]:
    return {
        BY_SOURCE: {"source_file"},
        BY_PAPER: {"paper_id"},
        BY_RECORD_A: {"record_id_a"},
        BY_AUTHOR: {"author_id"},
    }.get(layout.split_by, set())


def write_tables(
    tables: MutableMapping[str, pl.DataFrame | pl.LazyFrame],
    tables_dir: Path,
    previous: Mapping[str, TableFiles] | None = None,
    unchanged: Mapping[str, Collection[int]] | None = None,
    patches: Collection[Patch] = (),
    let_go: bool = False,
) -> dict[str, TableFiles]:
    """Write every table's data files under ``tables_dir/<table>/``; return the file sets.

    ``tables`` may hold DataFrames or LazyFrames. ``previous`` are the published
    version's file sets and ``unchanged`` the buckets per table the caller knows
    did not change (see ``layout.source_buckets``): those keep their files without
    being computed; ``patches`` replace some keys' rows in the other buckets
    (``Patch``). Without hints every bucket is written, and a bucket whose
    rows did not change gets the same name, so its file is simply kept.

    The LazyFrames (the wide tables) are written last: their streaming read is
    the write's peak. With ``let_go`` each table is taken out of ``tables``
    once written. A table the file system fails to write is tried again
    (``durable.retried``) before anything moves on.
    """
    previous, unchanged = previous or {}, unchanged or {}
    homes = _Homes(tables.get("paper_sources"))
    names = list(tables)
    written = {}
    progress.start("load", len(tables))
    for name in sorted(names, key=lambda n: isinstance(tables[n], pl.LazyFrame)):
        frame = tables[name]
        written[name] = retried(
            functools.partial(
                write_table,
                name,
                frame,
                tables_dir / name,
                previous.get(name),
                unchanged.get(name, ()),
                homes,
                next((p for p in patches if name in p.tables), None),
            )
        )
        if let_go:
            del tables[name], frame
        progress.advance("load")
    return {name: written[name] for name in names}


def write_text(text: str, path: Path) -> None:
    """Write a UTF-8 text file (an export, the data dictionary) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    fsync_dir(tmp)
    os.replace(tmp, path)
