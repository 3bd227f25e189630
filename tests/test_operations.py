"""Operations with real processes: readers holding the DuckDB file open across
refreshes, `paperlake refresh` killed with SIGKILL at every stage, and two
refreshes started at once."""

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
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import PAPERLAKE, RAW
from typer.testing import CliRunner

from pipelines import store
from pipelines.cli import app
from pipelines.progress import PAUSE_AT, PAUSE_FILE

runner = CliRunner()
CHANGED, REMOVED = "001_f44773a72a01ad56.txt", "004_3fe40d5a5f467540.txt"
# Every bound on waiting for a subprocess; generous for a busy 2-core machine.
PATIENCE = 180

# (sources, records, sum of sources.n_records, papers): one version's fingerprint,
# and a check that the tables it was read from belong together.
COUNTS = """
select (select count(*) from sources), (select count(*) from records),
       (select sum(n_records) from sources), (select count(*) from papers)
"""


def _set_variant(raw: Path, variant: str) -> None:
    """A: the five sample dumps. B: one dump edited, one removed."""
    shutil.rmtree(raw, ignore_errors=True)
    shutil.copytree(RAW, raw)
    if variant == "B":
        text = (raw / CHANGED).read_text(encoding="utf-8")
        (raw / CHANGED).write_text(text.replace("MGG: Accelerating", "MGG-2: Accelerating"))
        (raw / REMOVED).unlink()


def _refresh(raw: Path, warehouse: Path, *extra: str) -> str:
    result = runner.invoke(
        app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _delta_counts(warehouse: Path, pinned: bool) -> tuple[int, ...]:
    """COUNTS from the Delta tables: at the published Delta versions, or their newest."""
    tables = store.published_tables(warehouse)

    def read(name: str) -> pl.DataFrame:
        version = tables[name].delta_version if pinned else None
        return pl.read_delta(str(tables[name].path), version=version)

    sources = read("sources")
    return (
        sources.height,
        read("records").height,
        int(sources["n_records"].sum()),
        read("papers").height,
    )


def _counts(warehouse: Path, delta_newest: bool = True) -> tuple[int, ...]:
    """Read the published warehouse as a user would: the DuckDB file and the Delta tables,
    which must agree (their newest snapshots too, unless ``delta_newest`` is False)."""
    for table in store.published_tables(warehouse).values():
        pl.read_delta(str(table.path))
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        counts = tuple(con.sql(COUNTS).fetchone())
    assert _delta_counts(warehouse, pinned=True) == counts
    if delta_newest:
        assert _delta_counts(warehouse, pinned=False) == counts
    return counts


@pytest.fixture(scope="module")
def expected(prefect_harness, tmp_path_factory) -> dict[str, tuple[int, ...]]:
    """Each variant's counts, from a refresh from scratch."""
    out = {}
    for variant in ("A", "B"):
        root = tmp_path_factory.mktemp(f"variant{variant}")
        _set_variant(root / "raw", variant)
        _refresh(root / "raw", root / "wh")
        out[variant] = _counts(root / "wh")
    assert out["A"] != out["B"]
    return out


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Subprocesses a test starts; any still running at the end are killed."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _start_refresh(
    procs: list, env: dict, raw: Path, warehouse: Path, *extra: str, pause_at: str | None = None
) -> tuple[subprocess.Popen, Path]:
    marker = warehouse.parent / f"paused-{pause_at}"
    env = dict(env)
    if pause_at:
        env[PAUSE_AT], env[PAUSE_FILE] = pause_at, str(marker)
    proc = subprocess.Popen(
        [*PAPERLAKE, "refresh", "--raw", str(raw), "--warehouse", str(warehouse), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a kill takes all of it
    )
    procs.append(proc)
    return proc, marker


def _wait_paused(proc: subprocess.Popen, marker: Path) -> None:
    deadline = time.monotonic() + PATIENCE
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"refresh exited ({proc.returncode}) before pausing:\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"refresh did not reach {marker.name} in {PATIENCE} s")
        time.sleep(0.05)


def _leftovers(warehouse: Path) -> list[str]:
    """Files a killed run leaves: staging and trash folders, temp files and cache entries."""
    found = [p.name for p in warehouse.glob(".*.tmp*")]
    found += [p.name for p in (warehouse / "tables").glob("*/.tmp-*")]
    found += [p.name for p in (warehouse / "versions").glob(".*")]
    found += [p.name for p in (warehouse / "cache" / "extract").glob(".tmp-*")]
    return sorted(found)


# Stage -> (the version readers see after a kill there, what the kill leaves behind).
KILL_STAGES = {
    "discover": ("old", None),
    "cache": ("old", ".tmp-"),  # a half-written cache entry
    "link": ("old", ".building-link-state"),  # the state frames the link spilled
    "load": ("old", ".building-"),  # a staging folder with Parquet, no DuckDB file
    "publish": ("old", ".paperlake.duckdb.tmp-"),  # ... and a DuckDB file being written
    "promote": ("old", "unpublished"),  # a whole new version, not yet committed or published
    # Committed to the Delta tables, not switched: only their newest snapshots
    # are ahead until the next run brings them back to the published version.
    "commit": ("old", "unpublished"),
    "switch": ("new", None),  # published, not yet cleaned up
    "clean-up": ("new", None),
}


def test_kill_at_every_stage_leaves_a_readable_warehouse(
    expected, subprocess_env, processes, tmp_path: Path
) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    _set_variant(raw, "A")
    _refresh(raw, warehouse)
    old = "A"
    for stage, (visible, leftover) in KILL_STAGES.items():
        new = "B" if old == "A" else "A"
        _set_variant(raw, new)
        before = store.current_version(warehouse)
        proc, marker = _start_refresh(processes, subprocess_env, raw, warehouse, pause_at=stage)
        _wait_paused(proc, marker)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        marker.unlink()

        seen = old if visible == "old" else new
        assert _counts(warehouse, delta_newest=stage != "commit") == expected[seen], stage
        assert store.lock_holder(warehouse) is None, stage  # the kernel dropped the lock
        if leftover == "unpublished":
            # Complete, but never published: no rollback target.
            unpublished = str(int(before) + 1)
            assert (warehouse / "versions" / unpublished / "build.json").is_file(), stage
            assert unpublished not in store.version_ids(warehouse), stage
            assert store.current_version(warehouse) == before, stage
        elif leftover == ".paperlake.duckdb.tmp-":
            assert any((warehouse / "versions").glob(f".building-*/{leftover}*")), stage
        elif leftover:
            assert any(name.startswith(leftover) for name in _leftovers(warehouse)), stage
        else:
            assert _leftovers(warehouse) == [], stage
        if visible == "new":
            assert store.current_version(warehouse) != before

        # The next run recovers on its own and publishes the new variant.
        output = _refresh(raw, warehouse)
        assert _counts(warehouse) == expected[new], stage
        assert _leftovers(warehouse) == [], stage
        if visible == "old":
            assert "Published version" in output, stage
            assert store.current_version(warehouse) == store.version_ids(warehouse)[-1]
        old = new


READER = """
import json, os, sys, duckdb
path, stop, mode = sys.argv[1:4]
query = sys.argv[4]
seen, errors = [], []
con = duckdb.connect(path, read_only=True) if mode == "hold" else None
print("ready", flush=True)
while not os.path.exists(stop):
    try:
        if mode == "hold":
            row = con.sql(query).fetchone()
        else:
            with duckdb.connect(path, read_only=True) as fresh:
                row = fresh.sql(query).fetchone()
        if row not in seen:
            print(json.dumps(row), flush=True)
        seen.append(row)
    except Exception as err:
        errors.append(repr(err))
print("done " + json.dumps({"n": len(seen), "errors": errors[:5], "n_errors": len(errors)}))
"""


def _lines(stream) -> queue.Queue:
    """The lines of a subprocess's output as they come, without blocking the test."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _next_line(lines: queue.Queue, what: str) -> str:
    try:
        return lines.get(timeout=PATIENCE)
    except queue.Empty:
        pytest.fail(f"reader did not report {what} in {PATIENCE} s")


def test_readers_never_see_an_error_or_a_mix(
    expected, processes, prefect_harness, tmp_path: Path
) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    _set_variant(raw, "A")
    _refresh(raw, warehouse)
    stop = tmp_path / "stop"
    readers = {}
    for mode in ("hold", "reopen"):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER,
                str(warehouse / "paperlake.duckdb"),
                str(stop),
                mode,
                COUNTS,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        processes.append(proc)
        readers[mode] = (proc, _lines(proc.stdout))
        assert _next_line(readers[mode][1], "ready") == "ready"

    # Three publishes while they read; --keep 1 even deletes the held version.
    for variant in ("B", "A", "B"):
        _set_variant(raw, variant)
        assert "Published version" in _refresh(raw, warehouse, "--keep", "1")
    assert store.version_ids(warehouse) == ["4"]

    # Let the reopening reader see the last version before stopping both.
    seen = {mode: [] for mode in readers}
    target = json.dumps(list(expected["B"]))
    while target not in seen["reopen"]:
        seen["reopen"].append(_next_line(readers["reopen"][1], "the new version"))
    stop.touch()
    for mode, (proc, lines) in readers.items():
        proc.wait(timeout=PATIENCE)
        while not (line := _next_line(lines, "its end")).startswith("done "):
            seen[mode].append(line)
        report = json.loads(line.removeprefix("done "))
        assert report["n_errors"] == 0, (mode, report["errors"], proc.stderr.read())
        assert report["n"] > 0
        # Every read saw one whole version: old or new, never a mix of tables.
        allowed = {json.dumps(list(expected[v])) for v in ("A", "B")}
        assert set(seen[mode]) <= allowed, (mode, seen[mode])
    # The held connection stays on the version it opened, deleted or not.
    assert set(seen["hold"]) == {json.dumps(list(expected["A"]))}


def test_a_second_refresh_is_refused_or_waits(
    expected, subprocess_env, processes, tmp_path: Path
) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    _set_variant(raw, "A")
    _refresh(raw, warehouse)
    _set_variant(raw, "B")
    first, marker = _start_refresh(processes, subprocess_env, raw, warehouse, pause_at="link")
    _wait_paused(first, marker)

    refused = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse)])
    assert refused.exit_code == 1
    assert "another refresh or rollback is running" in refused.output
    assert f"pid {first.pid}" in refused.output

    waiting, _ = _start_refresh(processes, subprocess_env, raw, warehouse, "--wait")
    line = _next_line(_lines(waiting.stderr), "that it waits")  # said before it blocks
    assert "waiting for the run holding" in line and f"pid {first.pid}" in line
    marker.unlink()  # let the first run go on

    out, err = first.communicate(timeout=PATIENCE)
    assert first.returncode == 0, out + err
    assert "Published version 2" in out
    out = waiting.stdout.read()
    assert waiting.wait(timeout=PATIENCE) == 0, out
    # It ran after the first one had published, not beside it.
    assert "Nothing changed: version 2" in out
    assert _counts(warehouse) == expected["B"]
    assert store.version_ids(warehouse) == ["1", "2"]
