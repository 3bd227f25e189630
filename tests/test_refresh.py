"""End to end: `paperlake refresh` through the CLI, a real Prefect flow, real
Parquet and a DuckDB file read by a separate process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import RAW, read_table, table_bytes
from typer.testing import CliRunner

from pipelines.cli import EXIT_STRICT, EXIT_USAGE, app

TABLES = [
    "sources",
    "records",
    "rejects",
    "profiles",
    "papers",
    "authors",
    "paper_authors",
    "paper_sources",
]

runner = CliRunner()


def _refresh(raw: Path, warehouse: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "refresh",
            "--raw",
            str(raw),
            "--warehouse",
            str(warehouse),
            "--as-of",
            "2026-11-22",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, prefect_harness) -> Path:
    out = tmp_path_factory.mktemp("warehouse")
    result = _refresh(RAW, out)
    assert result.exit_code == 0, result.output
    assert "Input files" in result.output and "papers" in result.output
    return out


def test_refresh_writes_every_table(warehouse: Path) -> None:
    for table in TABLES:
        assert (warehouse / "tables" / table / "_delta_log").is_dir(), table
    sources = read_table(warehouse, "sources")
    assert sources.height == 5
    assert sources["capture_date_origin"].to_list() == ["as-of"] * 5
    records = read_table(warehouse, "records")
    assert records.height == int(sources["n_records"].sum()) == 171
    papers = read_table(warehouse, "papers")
    # The one paper listed twice (collapsed page and daily listing) is merged.
    assert papers.height == 170
    nexus = papers.filter(pl.col("title").str.starts_with("Nexus"))
    assert nexus["n_records"].to_list() == [2]


def test_duckdb_file_opens_read_only_from_elsewhere(warehouse: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import duckdb
        con = duckdb.connect({str(warehouse / "paperlake.duckdb")!r}, read_only=True)
        for t in {TABLES!r}:
            print(t, con.sql(f"select count(*) from {{t}}").fetchone()[0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    counts = dict(line.split() for line in out.strip().splitlines())
    assert counts["records"] == "171"
    assert counts["papers"] == "170"


def test_views_carry_comments(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True)
    rows = con.sql(
        "select view_name, comment from duckdb_views() where not internal and schema_name='main'"
    ).fetchall()
    con.close()
    assert {name for name, _ in rows} >= set(TABLES)
    assert all(comment for _, comment in rows)


def test_refresh_is_deterministic(warehouse: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert _refresh(RAW, again).exit_code == 0
    assert table_bytes(warehouse) == table_bytes(again)


def test_bad_files_do_not_stop_the_run(prefect_harness, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_bytes((RAW / "004_3fe40d5a5f467540.txt").read_bytes())
    (raw / "empty.txt").write_bytes(b"")
    (raw / "blob.bin").write_bytes(b"\x00\xff" * 100)
    (raw / "notes.txt").write_text("nothing to see\nhere\n")
    result = _refresh(raw, tmp_path / "wh")
    assert result.exit_code == 0, result.output
    assert "quarantined whole" in result.output
    rejects = read_table(tmp_path / "wh", "rejects")
    assert sorted(rejects["source_file"].to_list()) == ["blob.bin", "empty.txt", "notes.txt"]
    strict = _refresh(raw, tmp_path / "wh2", "--strict")
    assert strict.exit_code == EXIT_STRICT


def test_capture_dates_come_from_the_manifest(prefect_harness, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_bytes((RAW / "000_6f50fbf9dd3610f4.txt").read_bytes())
    (raw / "b.txt").write_bytes((RAW / "000_6f50fbf9dd3610f4.txt").read_bytes())
    (raw / "manifest.toml").write_text('[capture_dates]\n"a.txt" = 2026-03-01\n')
    result = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "no capture date" in result.output  # b.txt falls back to its file time
    sources = read_table(tmp_path / "w", "sources").sort("source_file")
    assert sources["capture_date_origin"].to_list() == ["manifest", "file-mtime"]
    records = read_table(tmp_path / "w", "records").filter(
        (pl.col("source_file") == "a.txt") & (pl.col("date_text") == "May 18")
    )
    # Captured on 2026-03-01, "May 18" can only be last year's.
    assert records["published_date"].dt.year().to_list() == [2025]


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["refresh", "--raw", str(tmp_path / "nope")])
    assert missing.exit_code == EXIT_USAGE
    assert "does not exist" in missing.output and "Traceback" not in missing.output
    bad_date = runner.invoke(app, ["refresh", "--as-of", "22/11/2026"])
    assert bad_date.exit_code == EXIT_USAGE


def test_bad_manifest_names_the_file(prefect_harness, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_bytes((RAW / "004_3fe40d5a5f467540.txt").read_bytes())
    (raw / "manifest.toml").write_text("[capture_dates\n")
    result = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "manifest.toml" in result.output and "Traceback" not in result.output


def test_detect_and_formats_commands() -> None:
    result = runner.invoke(app, ["detect", str(RAW / "002_d3b38a20d54187c7.txt")])
    assert result.exit_code == 0 and "collapsed_profile_page" in result.output
    listed = runner.invoke(app, ["formats"])
    assert all(name in listed.output for name in ("profile_page", "daily_papers"))


def test_detect_reads_the_whole_file() -> None:
    result = runner.invoke(app, ["detect", str(RAW / "001_f44773a72a01ad56.txt")])
    text = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 0
    assert "all 311" in text and "43 category/date lines" in text
