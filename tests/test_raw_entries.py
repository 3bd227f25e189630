"""What a raw folder can make paperlake read (README, "Security model"): regular
files only; FIFOs, sockets, devices, link loops, dangling links, links leaving
the folder and unreadable entries are never opened, and are listed with their
reason in the report and in `sources`; odd file names do not stop a run."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import PAPERLAKE, RAW, read_table
from typer.testing import CliRunner

from pipelines.cli import EXIT_FAILED, EXIT_STRICT, EXIT_USAGE, app
from pipelines.sources import scan_raw

runner = CliRunner()
DUMP = RAW / "004_3fe40d5a5f467540.txt"  # one small real dump: a scholar profile
PATIENCE = 120  # seconds: far more than any of these commands needs


def _refresh(raw: Path, warehouse: Path, *extra: str):
    args = ["refresh", "--raw", str(raw), "--warehouse", str(warehouse), "--as-of", "2026-11-22"]
    return runner.invoke(app, [*args, *extra])


def _sources(warehouse: Path) -> dict[str, dict]:
    frame = read_table(warehouse, "sources")
    return {row["source_file"]: row for row in frame.iter_rows(named=True)}


@pytest.fixture
def hostile_raw(tmp_path: Path) -> Path:
    """A raw folder with one good dump and one of every entry that must not be read."""
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "good.txt").write_bytes(DUMP.read_bytes())
    (raw / "sub" / "also.txt").write_bytes(DUMP.read_bytes())
    os.mkfifo(raw / "pipe")
    (raw / "loop").symlink_to("loop")
    (raw / "dangling").symlink_to("nowhere.txt")
    (raw / "passwd").symlink_to("/etc/passwd")
    (raw / "inside").symlink_to("good.txt")  # a link to a dump in raw/: read
    (raw / "folder-link").symlink_to("sub")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(raw / "sock"))
    yield raw
    listener.close()


def test_detect_never_waits_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dump.txt").write_bytes(DUMP.read_bytes())
    # A subprocess with a timeout: opening a FIFO for reading blocks until a writer comes.
    result = subprocess.run(
        [*PAPERLAKE, "detect", "pipe", "dump.txt"],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        cwd=tmp_path,
    )
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "named pipe (FIFO)" in result.stderr
    assert "scholar_profile" in result.stdout  # the good file is still detected


def test_entries_that_are_not_files_are_listed_not_read(
    prefect_harness, hostile_raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh"
    result = _refresh(hostile_raw, warehouse)
    assert result.exit_code == 0, result.output
    sources = _sources(warehouse)
    assert {name for name, row in sources.items() if row["format"]} == {
        "good.txt",
        "inside",
        "sub/also.txt",
    }
    reasons = {name: row["format_reason"] for name, row in sources.items() if not row["format"]}
    assert set(reasons) == {"pipe", "loop", "dangling", "passwd", "folder-link", "sock"}
    assert "named pipe (FIFO)" in reasons["pipe"]
    assert "socket" in reasons["sock"]
    assert "symbolic link loop" in reasons["loop"]
    assert "dangling symbolic link" in reasons["dangling"]
    assert "outside the raw folder: not followed" in reasons["passwd"]
    assert "link to a folder: not followed" in reasons["folder-link"]
    for name in reasons:
        assert sources[name]["n_lines"] == 0 and sources[name]["sha256"] is None
    # Nothing of /etc/passwd reached the warehouse.
    rejects = read_table(warehouse, "rejects")
    assert rejects.filter(pl.col("raw_text").str.contains("root:")).height == 0
    assert set(rejects.filter(pl.col("raw_text").is_null())["source_file"]) == set(reasons)
    # The report lists them with their reason, and --strict counts them.
    assert "Not read" in result.output and "named pipe (FIFO)" in result.output
    strict = _refresh(hostile_raw, tmp_path / "wh2", "--strict")
    assert strict.exit_code == EXIT_STRICT


def test_follow_links_reads_links_out_of_the_raw_folder(tmp_path: Path) -> None:
    outside, raw = tmp_path / "elsewhere", tmp_path / "raw"
    (outside / "more").mkdir(parents=True)
    raw.mkdir()
    (outside / "dump.txt").write_bytes(DUMP.read_bytes())
    (outside / "more" / "deep.txt").write_bytes(DUMP.read_bytes())
    (raw / "dump").symlink_to(outside / "dump.txt")
    (raw / "more").symlink_to(outside / "more")
    (raw / "null").symlink_to("/dev/null")
    (raw / "again").symlink_to(raw)  # a loop through folders

    default = scan_raw(raw)
    assert default.dumps == []
    followed = scan_raw(raw, follow_links=True)
    assert [name for _, name in followed.dumps] == ["dump", "more/deep.txt"]
    reasons = {s.source_file: s.reason for s in followed.skipped}
    assert "character device" in reasons["null"]  # followed, but never opened
    assert "already read" in reasons["again"]


@pytest.mark.parametrize("inner", ["warehouse-in-raw", "raw-in-warehouse"])
def test_a_warehouse_inside_the_raw_folder_is_refused(tmp_path: Path, inner: str) -> None:
    if inner == "warehouse-in-raw":
        raw = tmp_path / "raw"
        warehouse = raw / "wh"
    else:
        warehouse = tmp_path / "wh"
        raw = warehouse / "raw"
    raw.mkdir(parents=True)
    (raw / "good.txt").write_bytes(DUMP.read_bytes())
    result = _refresh(raw, warehouse)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "inside" in result.output and "Traceback" not in result.output
    assert not (raw / "wh").exists()  # refused before anything was written
    assert not (warehouse / ".lock").exists()


def _without_file_permission_override() -> None:
    """In the child: lose the capabilities that let root read any file (CI runs as root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails harmlessly when not root


def test_unreadable_files_and_folders_get_their_real_reason(subprocess_env, tmp_path: Path) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    (raw / "locked").mkdir(parents=True)
    (raw / "good.txt").write_bytes(DUMP.read_bytes())
    (raw / "secret.txt").write_bytes(DUMP.read_bytes())
    (raw / "locked" / "inner.txt").write_bytes(DUMP.read_bytes())
    (raw / "secret.txt").chmod(0)
    (raw / "locked").chmod(0)
    try:
        result = subprocess.run(
            [*PAPERLAKE, "refresh", "--raw", str(raw), "--warehouse", str(warehouse)],
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=_without_file_permission_override,
        )
    finally:
        (raw / "secret.txt").chmod(0o644)
        (raw / "locked").chmod(0o755)
    assert result.returncode == 0, result.stdout + result.stderr
    sources = _sources(warehouse)
    assert sources["good.txt"]["format"] == "scholar_profile"
    assert sources["secret.txt"]["format"] is None
    assert sources["secret.txt"]["format_reason"] == "cannot be read: Permission denied"
    assert sources["locked/"]["format_reason"] == "folder cannot be read: Permission denied"
    assert "empty file" not in result.stdout


def test_a_file_name_that_is_not_utf8_is_escaped_and_the_run_goes_on(
    prefect_harness, tmp_path: Path
) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    raw.mkdir()
    (raw / "good.txt").write_bytes(DUMP.read_bytes())
    name = os.fsdecode(b"caf\xe9 \xff.txt")  # Latin-1 bytes: not UTF-8
    (raw / name).write_bytes(DUMP.read_bytes())
    result = _refresh(raw, warehouse)
    assert result.exit_code == 0, result.output
    sources = _sources(warehouse)
    assert sources["caf\\xe9 \\xff.txt"]["format"] == "scholar_profile"
    assert sources["caf\\xe9 \\xff.txt"]["n_records"] == sources["good.txt"]["n_records"]
    assert "not valid UTF-8" in result.output
    records = read_table(warehouse, "records")
    assert records.filter(pl.col("source_file") == "caf\\xe9 \\xff.txt").height > 0


def test_config_files_that_are_fifos_are_refused_not_waited_on(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_bytes(DUMP.read_bytes())
    os.mkfifo(raw / "topics.toml")
    result = subprocess.run(
        [*PAPERLAKE, "refresh", "--raw", str(raw), "--warehouse", str(tmp_path / "wh")],
        env={**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"},  # never reached
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert "topics.toml" in result.stderr and "named pipe (FIFO)" in result.stderr
    assert "Traceback" not in result.stderr


def test_scan_is_sorted_and_skips_hidden_and_config_files(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", ".hidden", "manifest.toml", "sub/c.txt", "sub/manifest.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    scan = scan_raw(tmp_path)
    # manifest.toml is configuration only at the top of the raw folder.
    assert [name for _, name in scan.dumps] == ["a.txt", "b.txt", "sub/c.txt", "sub/manifest.toml"]
    assert scan.skipped == []
