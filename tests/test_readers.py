"""Readers of the Delta tables and of the DuckDB file, in loops in separate processes,
across real refreshes and rollbacks: they meet no error and never a mixed result.

Each reader process queries one table (the newest Delta snapshot: one table
is always one version) and several tables at once (at the Delta versions the
published build.json names, the README's recipe), with Polars, deltalake,
DuckDB's ``delta_scan`` / ``read_parquet`` of the published files, and the
DuckDB file itself.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import RAW
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()
DROPPED = "004_3fe40d5a5f467540.txt"
PATIENCE = 120

READER = r"""
import json, os, sys, time
from pathlib import Path
import duckdb, polars as pl
from deltalake import DeltaTable
from pipelines.store import published_tables

kind, warehouse, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
tables = warehouse / "tables"
con = None
if kind == "duckdb delta":
    import duckdb_ext
    ext = Path(next(iter(duckdb_ext.__path__))) / "extensions"
    con = duckdb.connect(config={"extension_directory": str(ext)})
    con.execute("load delta")

def single():
    # One table, its newest snapshot: (rows of records,) and (sum of sources.n_records,)
    path = str(tables / "records")
    if kind == "polars":
        return pl.scan_delta(path).select(pl.len()).collect().item()
    if kind == "deltalake":
        return DeltaTable(path).to_pyarrow_table(columns=["record_id"]).num_rows
    if kind == "duckdb delta":
        return con.execute("select count(*) from delta_scan(?)", [path]).fetchone()[0]
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as db:
        return db.sql("select count(*) from records").fetchone()[0]

def multi():
    # Several tables as one version: (sources, records, sum(n_records), papers).
    if kind == "duckdb file":
        with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as db:
            return list(db.sql(
                "select (select count(*) from sources), (select count(*) from records), "
                "(select sum(n_records) from sources), (select count(*) from papers)"
            ).fetchone())
    published = published_tables(warehouse)
    def frame(name):
        t, columns = published[name], ["n_records"] if name == "sources" else ["title"]
        if kind == "polars":
            return pl.scan_delta(str(t.path), version=t.delta_version).select(columns).collect()
        if kind == "deltalake":
            table = DeltaTable(t.path, version=t.delta_version)
            return pl.from_arrow(table.to_pyarrow_table(columns=columns))
        # DuckDB: the published version's files, which never change while it is kept.
        files = [str(p) for p in t.files]
        return con.execute(f"select {columns[0]} from read_parquet(?)", [files]).pl()
    sources = frame("sources")
    return [sources.height, frame("records").height, int(sources["n_records"].sum()),
            frame("papers").height]

seen, errors, n = set(), [], 0
print("ready", flush=True)
while not stop.exists():
    for what, query in (("single", single), ("multi", multi)):
        n += 1
        try:
            seen.add(json.dumps([what, query()]))
        except Exception as err:
            errors.append(f"{what}: {type(err).__name__}: {str(err)[:200]}")
    time.sleep(0.05)  # leave the shared cores to the refreshes
print(json.dumps({"kind": kind, "queries": n, "seen": sorted(seen), "errors": errors[:5],
                  "n_errors": len(errors)}), flush=True)
"""

KINDS = ("polars", "deltalake", "duckdb delta", "duckdb file")


def _lines(stream) -> queue.Queue:
    """A subprocess's output lines as they come, read by a thread."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, wanted) -> str:
    """The first line ``wanted`` accepts; fail with what came instead after PATIENCE s."""
    seen, deadline = [], time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if wanted(line):
            return line
        seen.append(line)
    pytest.fail(f"reader did not answer in {PATIENCE} s; it printed: {seen[-20:]}")


def _refresh(raw: Path, warehouse: Path) -> None:
    result = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output


def _published_counts(warehouse: Path) -> list[int]:
    """(sources, records, sum of sources.n_records, papers) of the published DuckDB file."""
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        row = con.sql(
            "select (select count(*) from sources), (select count(*) from records), "
            "(select sum(n_records) from sources), (select count(*) from papers)"
        ).fetchone()
    return list(row)


def test_readers_in_loops_see_one_version_across_refreshes_and_rollbacks(
    prefect_harness, tmp_path: Path
) -> None:
    raw, warehouse, stop = tmp_path / "raw", tmp_path / "wh", tmp_path / "stop"
    shutil.copytree(RAW, raw)
    _refresh(raw, warehouse)
    first = _published_counts(warehouse)
    allowed = {first[1]: first}  # records -> counts, per version published

    procs = []
    try:
        for kind in KINDS:
            proc = subprocess.Popen(
                [sys.executable, "-c", READER, kind, str(warehouse), str(stop)],
                env={**os.environ, "POLARS_MAX_THREADS": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # one pipe, read by a thread: nothing blocks
                text=True,
                start_new_session=True,
            )
            procs.append(proc)
        outputs = [_lines(proc.stdout) for proc in procs]
        for lines in outputs:
            _wait_for(lines, lambda line: line == "ready")

        # Refreshes that change every table, and rollbacks both ways, while they read.
        (raw / DROPPED).unlink()
        _refresh(raw, warehouse)  # version 2: four dumps
        counts = _published_counts(warehouse)
        allowed[counts[1]] = counts
        for args in (["rollback"], ["rollback", "--to", "2"]):
            result = runner.invoke(app, [*args, "--warehouse", str(warehouse)])
            assert result.exit_code == 0, result.output
        shutil.copy(RAW / DROPPED, raw / DROPPED)
        _refresh(raw, warehouse)  # version 3: five dumps again
        assert _published_counts(warehouse) in allowed.values()
        time.sleep(1)  # let every reader see the last version too
        stop.touch()
        reports = []
        for proc, lines in zip(procs, outputs, strict=True):
            last = _wait_for(lines, lambda line: line.startswith("{"))
            assert proc.wait(timeout=PATIENCE) == 0
            reports.append(json.loads(last))
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    assert len(allowed) == 2  # two different versions were published in turn
    singles = set(allowed)
    multis = {json.dumps(c) for c in allowed.values()}
    for report in reports:
        assert report["n_errors"] == 0, report
        assert report["queries"] > 10, report
        seen = [json.loads(s) for s in report["seen"]]
        mixed = [v for what, v in seen if (v not in singles if what == "single" else False)]
        mixed += [v for what, v in seen if what == "multi" and json.dumps(v) not in multis]
        assert mixed == [], report
        # Each read both versions: the loop ran across the switches.
        assert {json.dumps(v) for what, v in seen if what == "multi"} == multis, report


def test_duckdb_delta_extension_loads_offline() -> None:
    """The pinned duckdb and duckdb-ext-delta load `delta` without a download."""
    import duckdb_ext

    ext = Path(next(iter(duckdb_ext.__path__))) / "extensions"
    con = duckdb.connect(config={"extension_directory": str(ext)})
    con.execute("load delta")
    loaded = con.sql(
        "select loaded from duckdb_extensions() where extension_name = 'delta'"
    ).fetchone()
    assert loaded == (True,)
