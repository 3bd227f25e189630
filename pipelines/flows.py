"""The Prefect flow: the only module that imports Prefect.

Tasks are coarse wrappers around the plain stage functions in
``pipelines.refresh``; extraction fans out over batches of files.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipelines.config import Settings, default_sql_dir
from pipelines.refresh import (
    RunSummary,
    StageTimer,
    batches,
    combine,
    extract_batch,
    link_tables,
    load_and_publish,
)
from pipelines.sources import DumpFile, resolve_dumps
from pipelines.taxonomy import Taxonomies, load_taxonomies

# Polars already uses every core inside a batch; a few batches keep both busy
# and keep Prefect's per-task overhead small.
N_EXTRACT_BATCHES = max(2, (os.cpu_count() or 2) * 2)


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(batch: list[DumpFile]):
    return extract_batch(batch)


@task(name="link", cache_policy=NO_CACHE)
def link_task(extracted, raw_dir: Path, taxonomies: Taxonomies):
    return link_tables(combine(extracted), raw_dir, taxonomies=taxonomies)


# Retries only here: the file system is the one thing outside that can fail.
@task(name="load-and-publish", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def load_and_publish_task(tables, warehouse_dir: Path, sql_dir: Path):
    return load_and_publish(tables, warehouse_dir, sql_dir)


@flow(
    name="paperlake-refresh",
    task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2),
    validate_parameters=False,
)
def refresh_flow(
    raw_dir: str = "raw",
    warehouse_dir: str = "warehouse",
    as_of: date | None = None,
    sql_dir: str | None = None,
) -> RunSummary:
    """Refresh the warehouse from the dumps in ``raw_dir``."""
    settings = Settings(
        raw_dir=Path(raw_dir),
        warehouse_dir=Path(warehouse_dir),
        as_of=as_of,
        sql_dir=Path(sql_dir) if sql_dir else default_sql_dir(),
    )
    timer = StageTimer()
    with timer("discover"):
        dumps, warnings = resolve_dumps(settings.raw_dir, settings.as_of)
        taxonomies = load_taxonomies(settings.raw_dir)
        warnings += taxonomies.notes()
    with timer("extract"):
        futures = extract_task.map(batches(dumps, N_EXTRACT_BATCHES))
        extracted = sorted(
            (e for batch in futures.result() for e in batch),
            key=lambda e: e.source["source_file"][0],
        )
    with timer("link"):
        tables, link_report = link_task(extracted, settings.raw_dir, taxonomies)
    with timer("load+publish"):
        database, n_views = load_and_publish_task(tables, settings.warehouse_dir, settings.sql_dir)
    notes = [note for e in extracted for note in e.notes]
    return RunSummary(
        sources=tables["sources"],
        n_records=tables["records"].height,
        n_rejected_lines=int(tables["sources"]["n_rejected_lines"].sum()),
        n_papers=tables["papers"].height,
        n_authors=tables["authors"].height,
        n_views=n_views,
        link=link_report,
        database_path=database,
        stage_seconds=timer.seconds,
        warnings=warnings + notes,
    )
