"""Readers against a writer that keeps publishing: which table layout gives one version?

The measurement behind the warehouse's table format (README, "Storage"). A
writer process publishes version after version of two tables as fast as it
can, keeping the newest three; reader processes query the stable names in a
loop and count errors and *mixed* results (rows of two versions, or a row
count no version has). Two layouts:

- ``symlink``: paperlake 0.1's, ``<table>.parquet -> current/<table>.parquet``
  with ``current -> versions/N`` switched by one rename;
- ``delta``: one Delta Lake table per table (``deltalake``), overwritten per
  version, files no kept version needs vacuumed.

    python -m benchmarks.readers --seconds 30

Readers are DuckDB, Polars and pyarrow on the paths, or through the Delta
log; DuckDB's ``delta_scan`` is measured when the ``delta`` extension loads
(``duckdb==1.4.4`` with ``duckdb-ext-delta``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from pathlib import Path

ROWS = 200_000
KEEP = 3


def rows_of(version: int) -> int:
    """Each version has its own row count, so a count tells versions apart."""
    return ROWS + (version % 7) * 1000


def _frame(version: int, n: int):
    import polars as pl

    return pl.DataFrame({"version": [version] * n, "x": range(n), "s": ["abc" * 10] * n})


def publish_symlink(root: Path, version: int) -> None:
    """Write version ``version`` into its own folder and switch ``current`` to it."""
    versions = root / "versions"
    staging = versions / f".building-{version}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    n = rows_of(version)
    _frame(version, n).write_parquet(staging / "papers.parquet", row_group_size=20_000)
    _frame(version, n // 2).write_parquet(staging / "authors.parquet")
    os.replace(staging, versions / str(version))
    tmp = root / ".current.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(f"versions/{version}", tmp)
    os.replace(tmp, root / "current")
    for old in versions.iterdir():
        if old.name.isdigit() and int(old.name) <= version - KEEP:
            shutil.rmtree(old)
    for table in ("papers", "authors"):
        if not (root / f"{table}.parquet").is_symlink():
            os.symlink(f"current/{table}.parquet", root / f"{table}.parquet")


def publish_delta(root: Path, version: int) -> None:
    """Overwrite both Delta tables with version ``version``; vacuum what no kept version reads."""
    from deltalake import DeltaTable, write_deltalake

    n = rows_of(version)
    for table, frame in (("papers", _frame(version, n)), ("authors", _frame(version, n // 2))):
        write_deltalake(root / table, frame.to_arrow(), mode="overwrite")
        delta = DeltaTable(root / table)
        newest = delta.version()
        delta.vacuum(
            retention_hours=0,
            enforce_retention_duration=False,
            dry_run=False,
            keep_versions=list(range(max(0, newest - KEEP + 1), newest + 1)),
        )


PUBLISH = {"symlink": publish_symlink, "delta": publish_delta}


def _writer(layout: str, root: str, stop, out) -> None:
    version, start = 1, time.perf_counter()
    while not stop.is_set():
        version += 1
        PUBLISH[layout](Path(root), version)
    out.put(("writer", version - 1, time.perf_counter() - start))


def _delta_extension_dir() -> str | None:
    try:
        import duckdb_ext  # the namespace package of the duckdb-ext-* wheels
    except ImportError:
        return None
    return str(Path(next(iter(duckdb_ext.__path__))) / "extensions")


def _query(kind: str, root: Path, con):
    """(min version, max version, rows) of papers, and the same of authors or None."""
    import polars as pl

    papers, authors = str(root / "papers"), str(root / "authors")
    if kind == "duckdb":
        return con.execute(
            "select min(version), max(version), count(*) from read_parquet(?)",
            [papers + ".parquet"],
        ).fetchone(), None
    if kind == "duckdb, two tables":
        row = con.execute(
            "select (select [min(version), max(version), count(*)] from read_parquet(?)),"
            " (select [min(version), max(version), count(*)] from read_parquet(?))",
            [papers + ".parquet", authors + ".parquet"],
        ).fetchone()
        return tuple(row[0]), tuple(row[1])
    if kind == "polars":
        frame = pl.scan_parquet(papers + ".parquet")
    elif kind == "pyarrow":
        import pyarrow.parquet as pq

        frame = pl.from_arrow(pq.read_table(papers + ".parquet", columns=["version"])).lazy()
    elif kind == "polars scan_delta":
        frame = pl.scan_delta(papers)
    elif kind == "deltalake to_pyarrow":
        from deltalake import DeltaTable

        frame = pl.from_arrow(DeltaTable(papers).to_pyarrow_table(columns=["version"])).lazy()
    elif kind == "duckdb delta_scan":
        return con.execute(
            "select min(version), max(version), count(*) from delta_scan(?)", [papers]
        ).fetchone(), None
    else:
        raise ValueError(kind)
    row = frame.select(
        pl.col("version").min().alias("lo"), pl.col("version").max().alias("hi"), pl.len()
    ).collect()
    return row.row(0), None


def _reader(kind: str, root: str, seconds: float, out) -> None:
    import duckdb

    config = {}
    if kind == "duckdb delta_scan":
        config["extension_directory"] = _delta_extension_dir()
    con = duckdb.connect(config=config)
    if kind == "duckdb delta_scan":
        con.execute("load delta")
    queries = errors = mixed = 0
    sample = ""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        queries += 1
        try:
            (lo, hi, n), other = _query(kind, Path(root), con)
            ok = lo == hi and n == rows_of(lo)
            if other is not None:
                ok = ok and tuple(other) == (lo, lo, rows_of(lo) // 2)
            mixed += not ok
        except Exception as err:  # what a reader meets is the measurement
            errors += 1
            sample = sample or f"{type(err).__name__}: {str(err)[:80]}"
    out.put((kind, queries, errors, mixed, sample))


READERS = {
    "symlink": ["duckdb", "duckdb, two tables", "polars", "pyarrow"],
    "delta": ["polars scan_delta", "deltalake to_pyarrow", "duckdb delta_scan"],
}


def measure(layout: str, seconds: float) -> list[tuple]:
    """Run the writer and every reader of ``layout`` for ``seconds``; one row per reader."""
    kinds = [
        k for k in READERS[layout] if k != "duckdb delta_scan" or _delta_extension_dir() is not None
    ]
    ctx = mp.get_context("spawn")  # forking a process that has started Polars threads hangs
    with tempfile.TemporaryDirectory(prefix=f"readers-{layout}-") as root:
        PUBLISH[layout](Path(root), 1)
        stop, out = ctx.Event(), ctx.Queue()
        writer = ctx.Process(target=_writer, args=(layout, root, stop, out))
        writer.start()
        readers = [ctx.Process(target=_reader, args=(k, root, seconds, out)) for k in kinds]
        for process in readers:
            process.start()
        rows = [out.get() for _ in readers]
        for process in readers:
            process.join()
        stop.set()
        rows.append(out.get())
        writer.join()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--layout", choices=sorted(PUBLISH), action="append")
    args = parser.parse_args()
    print("| layout | reader | queries | errors | mixed results | first error |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for layout in args.layout or ["symlink", "delta"]:
        rows = measure(layout, args.seconds)
        (_, versions, elapsed) = rows.pop()
        for kind, queries, errors, mixed, sample in rows:
            print(f"| {layout} | {kind} | {queries} | {errors} | {mixed} | {sample} |")
        print(f"| {layout} | (writer) | {versions} versions in {elapsed:.0f} s | | | |")


if __name__ == "__main__":
    main()
