"""The no-change shortcut of ``stage_version``: a refresh whose link changed nothing,
over the inputs, SQL and code of the published version, keeps it without writing
anything; any single difference takes the slow path, which decides by fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import RAW

import pipelines.extract as extract
from pipelines import publish, staging, store
from pipelines.config import default_sql_dir
from pipelines.refresh import collect_extractions, extract_batch, link_warehouse, plan_extraction
from pipelines.sources import resolve_dumps
from pipelines.staging import stage_version


def _stage(raw: Path, warehouse: Path, sql_dir: Path, hints: bool = True):
    """One refresh by the plain stage functions; returns (staged, linked)."""
    cache = store.cache_dir(warehouse)
    dumps, _ = resolve_dumps(raw, None)
    plan = plan_extraction(dumps, cache, extract.PARSER_VERSION)
    collected = collect_extractions(
        plan, extract_batch([p.dump for p in plan if not p.cached]), cache
    )
    linked = link_warehouse(collected, warehouse, raw)
    info = staging.build_info(plan, linked.tables)
    changed = linked.changed if hints else None
    staged = stage_version(linked.tables, warehouse, sql_dir, info, linked.state, changed)
    if staged.path is not None:
        store.promote(warehouse, staged.path)
    return staged, linked


def _on_disk(warehouse: Path) -> set[str]:
    return {str(p.relative_to(warehouse)) for p in warehouse.rglob("*") if "cache" not in p.parts}


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(raw, warehouse, sql) with the samples but one published as version 1."""
    raw, warehouse, sql = tmp_path / "raw", tmp_path / "wh", tmp_path / "sql"
    raw.mkdir()
    for path in sorted(RAW.glob("*.txt"))[:-1]:
        shutil.copy(path, raw / path.name)
    shutil.copytree(default_sql_dir(), sql)
    staged, _ = _stage(raw, warehouse, sql)
    assert staged.version == "1" and not staged.unchanged
    return raw, warehouse, sql


@pytest.fixture
def builds(monkeypatch) -> list[Path]:
    """The staging folders begun: one per run that took the slow path."""
    begun: list[Path] = []
    real = store.begin_version

    def begin(warehouse_dir: Path) -> Path:
        begun.append(real(warehouse_dir))
        return begun[-1]

    monkeypatch.setattr(store, "begin_version", begin)
    return begun


def test_a_refresh_that_changes_nothing_writes_nothing(published, builds) -> None:
    raw, warehouse, sql = published
    before = _on_disk(warehouse)
    staged, linked = _stage(raw, warehouse, sql)
    assert linked.report.mode == "incremental" and linked.changed.nothing
    assert staged == staging.StagedVersion(None, "1", staged.n_views, True)
    assert staged.n_views > 0
    # No staging folder, no table file, no state: the warehouse is as it was.
    assert builds == []
    assert _on_disk(warehouse) == before
    # The slow path (no hints) comes to the same outcome, by the fingerprint.
    slow, _ = _stage(raw, warehouse, sql, hints=False)
    assert slow == staged and len(builds) == 1
    assert _on_disk(warehouse) == before


def test_an_added_dump_is_published(published, builds) -> None:
    raw, warehouse, sql = published
    extra = sorted(RAW.glob("*.txt"))[-1]
    shutil.copy(extra, raw / extra.name)
    staged, linked = _stage(raw, warehouse, sql)
    assert not linked.changed.nothing
    assert (staged.version, staged.unchanged, len(builds)) == ("2", False, 1)


def test_an_edited_sql_file_is_published(published, builds) -> None:
    raw, warehouse, sql = published
    view = sorted((sql / "marts").glob("*.sql"))[0]
    view.write_text(view.read_text() + "\n-- edited\n")
    staged, linked = _stage(raw, warehouse, sql)
    assert linked.changed.nothing  # the link changed nothing; the SQL did
    assert (staged.version, staged.unchanged, len(builds)) == ("2", False, 1)
    assert store.read_build_info(warehouse, "2")["sql_digest"] == publish.sql_digest(sql)


def test_another_paperlake_version_is_published(published, builds, monkeypatch) -> None:
    raw, warehouse, sql = published
    # The linkage state names the version too: the link would run in full. The
    # stage step alone checks the published version's code version as well.
    staged, linked = _stage(raw, warehouse, sql)
    assert staged.unchanged and linked.changed.nothing and builds == []
    monkeypatch.setattr(staging, "__version__", "99.0")
    monkeypatch.setattr(publish, "__version__", "99.0")
    tables, info = linked.tables, {"paperlake_version": "99.0", "inputs": _inputs(warehouse)}
    again = stage_version(tables, warehouse, sql, info, linked.state, linked.changed)
    assert (again.version, again.unchanged, len(builds)) == ("2", False, 1)
    store.discard_version(again.path)


def test_other_inputs_take_the_slow_path(published, builds) -> None:
    raw, warehouse, sql = published
    staged, linked = _stage(raw, warehouse, sql)
    assert staged.unchanged and builds == []
    inputs = _inputs(warehouse)
    inputs[0] = {**inputs[0], "cache_key": "0" * 32}
    again = stage_version(
        linked.tables, warehouse, sql, {"inputs": inputs}, linked.state, linked.changed
    )
    # The rows are the same, so the fingerprint keeps the version, but only after a build.
    assert (again.version, again.unchanged, len(builds)) == ("1", True, 1)


def _inputs(warehouse: Path) -> list[dict]:
    return store.read_build_info(warehouse, store.current_version(warehouse))["inputs"]
