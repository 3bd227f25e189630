"""Incremental refresh: unchanged dumps are not parsed again, changed ones replace
their records, removed ones retract them, and the tables come out byte for byte
as a refresh from scratch would write them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import RAW, read_table, table_bytes
from typer.testing import CliRunner

import pipelines.extract
import pipelines.extraction
import pipelines.flows
from pipelines.cli import app
from pipelines.extract_cache import ExtractCache

runner = CliRunner()
CHANGED, REMOVED = "001_f44773a72a01ad56.txt", "004_3fe40d5a5f467540.txt"


def _refresh(raw: Path, warehouse: Path, *extra: str) -> str:
    result = runner.invoke(
        app, ["refresh", "--raw", str(raw), "--warehouse", str(warehouse), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _tables(warehouse: Path) -> dict[str, bytes]:
    """The published tables' data files and their bytes."""
    return table_bytes(warehouse)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    out = tmp_path / "raw"
    shutil.copytree(RAW, out)
    return out


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The files the refresh actually parses, in the order it parses them."""
    calls: list[str] = []
    real = pipelines.extraction.extract_dumps

    def counting(dumps):
        calls.extend(d.source_file for d in dumps)
        return real(dumps)

    monkeypatch.setattr(pipelines.extraction, "extract_dumps", counting)
    return calls


@pytest.fixture
def links(monkeypatch) -> list[Path]:
    """The warehouses the flow's link stage ran for, one entry per run that linked."""
    calls: list[Path] = []
    real = pipelines.flows.link_warehouse

    def counting(collected, warehouse_dir: Path, *args, **kwargs):
        calls.append(warehouse_dir)
        return real(collected, warehouse_dir, *args, **kwargs)

    monkeypatch.setattr(pipelines.flows, "link_warehouse", counting)
    return calls


def test_no_change_skips_parsing_and_keeps_bytes(
    prefect_harness, raw: Path, tmp_path: Path, parsed: list[str], links: list[Path]
) -> None:
    warehouse = tmp_path / "wh"
    first = _refresh(raw, warehouse)
    assert sorted(parsed) == sorted(p.name for p in raw.glob("*.txt"))
    assert "5 parsed, 0 reused" in first and links == [warehouse]
    before = _tables(warehouse)
    database = (warehouse / "paperlake.duckdb").resolve()

    parsed.clear()
    # A new file time alone is no change: the cache is keyed by content.
    os.utime(raw / CHANGED, (1, 1))
    second = _refresh(raw, warehouse)
    assert parsed == []
    assert "0 parsed, 5 reused" in second and "Nothing changed: version 1" in second
    # Nothing to link either: the run stopped before the link stage.
    assert links == [warehouse]
    said = " ".join(second.split())
    assert "not run: version 1 was linked from the same dumps and settings" in said
    assert _tables(warehouse) == before
    # Not even a new version: the same DuckDB file stays published.
    assert (warehouse / "paperlake.duckdb").resolve() == database
    assert sorted(p.name for p in (warehouse / "versions").iterdir()) == ["1"]


def test_changed_and_removed_dumps(
    prefect_harness, raw: Path, tmp_path: Path, parsed: list[str], links: list[Path]
) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse)
    text = (raw / CHANGED).read_text(encoding="utf-8")
    assert "MGG: Accelerating" in text
    (raw / CHANGED).write_text(text.replace("MGG: Accelerating", "MGG-2: Accelerating"))
    (raw / REMOVED).unlink()

    parsed.clear()
    output = _refresh(raw, warehouse)
    assert parsed == [CHANGED]
    assert "1 parsed, 3 reused" in output and "Published version 2" in output
    assert links == [warehouse, warehouse]
    # Linking started from the first version's state, and said so.
    assert "incremental" in output and "full re-link" not in output

    for table in ("sources", "records", "profiles", "paper_sources"):
        files = read_table(warehouse, table)["source_file"].unique()
        assert REMOVED not in files.to_list(), table
    titles = read_table(warehouse, "records").filter(pl.col("source_file") == CHANGED)["title"]
    assert titles.str.starts_with("MGG-2: Accelerating").sum() == 1
    assert titles.str.starts_with("MGG: Accelerating").sum() == 0

    # Cached and fresh extractions together give what a run from scratch gives.
    scratch = tmp_path / "scratch"
    parsed.clear()
    _refresh(raw, scratch)
    assert len(parsed) == 4
    assert _tables(scratch) == _tables(warehouse)

    # New human decisions void the linkage state: everything is linked again.
    (raw / "overrides.toml").write_text(
        '[[apart]]\nrecords = ["002_d3b38a20d54187c7.txt#29", "003_bfc256623394f453.txt#45"]\n'
    )
    output = _refresh(raw, warehouse)
    assert "full re-link (changed since the last run: overrides)" in " ".join(output.split())
    assert links.count(warehouse) == 3
    _refresh(raw, scratch)
    assert _tables(scratch) == _tables(warehouse)


def test_an_entry_not_read_is_linked(
    prefect_harness, raw: Path, tmp_path: Path, links: list[Path]
) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse)
    # Its sources row comes from the run, not from a cache entry: the run links.
    os.mkfifo(raw / "pipe.txt")
    output = _refresh(raw, warehouse)
    assert links == [warehouse, warehouse] and "Published version 2" in output


def test_parser_version_and_capture_date_are_part_of_the_key(
    prefect_harness, raw: Path, tmp_path: Path, parsed: list[str], monkeypatch
) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse, "--as-of", "2026-11-22")
    before = _tables(warehouse)

    parsed.clear()
    monkeypatch.setattr(pipelines.extract, "PARSER_VERSION", "test-bump")
    output = _refresh(raw, warehouse, "--as-of", "2026-11-22")
    assert len(parsed) == 5
    # Same parsers in fact, so the same tables; the version is new for its state
    # (linked under the new parser version), so the run after it links nothing.
    assert "Published version 2" in output and _tables(warehouse) == before
    parsed.clear()
    output = _refresh(raw, warehouse, "--as-of", "2026-11-22")
    assert not parsed and "Nothing changed" in output and _tables(warehouse) == before

    # "May 18" means another year when the dumps were captured in March.
    parsed.clear()
    _refresh(raw, warehouse, "--as-of", "2026-03-01")
    assert len(parsed) == 5
    may18 = read_table(warehouse, "records").filter(pl.col("date_text") == "May 18")
    assert may18.height > 0 and set(may18["published_date"].dt.year()) == {2025}


def test_a_damaged_cache_entry_is_parsed_again(
    prefect_harness, raw: Path, tmp_path: Path, parsed: list[str]
) -> None:
    warehouse = tmp_path / "wh"
    _refresh(raw, warehouse)
    before = _tables(warehouse)
    # Dumps parsed together are kept together: a pack per chunk of a batch.
    packs = sorted((warehouse / "cache" / "extract").iterdir())
    keys = {p.name: json.loads((p / "index.json").read_text())["keys"] for p in packs}
    assert sum(len(k) for k in keys.values()) == 5
    damaged = packs[0]
    (damaged / "records.parquet").write_bytes(b"not parquet")

    parsed.clear()
    output = _refresh(raw, warehouse)
    # Only the damaged pack's dumps are parsed again, and nothing else changes.
    assert len(parsed) == len(keys[damaged.name]) and "Nothing changed" in output
    assert _tables(warehouse) == before
    # Its dumps are in a whole pack again (the same keys make the same pack).
    cache = ExtractCache(warehouse / "cache" / "extract")
    assert sorted(cache.pack_of) == sorted(k for ks in keys.values() for k in ks)
    assert pl.read_parquet(damaged / "records.parquet").height > 0
