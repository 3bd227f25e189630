"""The Prefect flow: the only module that imports Prefect.

Tasks are coarse wrappers around the plain stage functions in
``pipelines.refresh``; extraction fans out over batches of the dumps that are
not cached, on threads of the flow process or on the worker processes of a Dask
cluster (prefect-dask). Every other stage runs in the flow process; a run whose
dumps, settings and code are the published version's stops before the link
(``refresh.unchanged_summary``). The whole
run holds the warehouse lock. Each run publishes a Markdown report and a table
of per-file results as Prefect artifacts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import as_completed
from prefect.logging import get_logger
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.types.entrypoint import EntrypointType

import pipelines.extract as extract
from pipelines import progress, report, store
from pipelines.config import TASK_RUNNERS, Settings, check_layout, default_sql_dir
from pipelines.configfiles import check_raw_config
from pipelines.curation import unmatched_references
from pipelines.durable import FS_RETRIES, FS_RETRY_SECONDS
from pipelines.errors import PaperlakeError
from pipelines.extract import ExtractedDump
from pipelines.extraction import (
    Collected,
    PlannedDump,
    batches,
    collect_extractions,
    extract_batch,
    plan_extraction,
)
from pipelines.look.report import markdown_link
from pipelines.memory import give_back_freed_memory
from pipelines.refresh import (
    RunSummary,
    StageTimer,
    link_warehouse,
    summarize,
    unchanged_summary,
)
from pipelines.report import NOT_READ
from pipelines.sources import (
    DumpFile,
    SkippedEntry,
    resolve_raw,
    unread_extraction,
)
from pipelines.staging import (
    StagedVersion,
    WrittenVersion,
    build_info,
    discarded_on_failure,
    publish_version,
    write_version,
)
from pipelines.store import clean_extract_cache, prune_extract_cache
from pipelines.taxonomy import Taxonomies, load_taxonomies
from pipelines.transform.linkage import FramesToWrite

# Polars already uses every core inside a batch; a few batches keep both busy
# and keep Prefect's per-task overhead small.
N_EXTRACT_BATCHES = max(2, (os.cpu_count() or 2) * 2)
# On Dask, batches per worker thread: a few, so that a slow worker does not
# hold the run up, while the per-task cost (a task run reported to the Prefect
# API, results sent back) stays small next to the parsing.
DASK_BATCHES_PER_THREAD = 2
REPORT_KEY = "paperlake-refresh-report"
FILES_KEY = "paperlake-refresh-files"


def _file_system_failure(task, task_run, state) -> bool:
    """Retry only when the file system failed a task: bad data fails the same way twice."""
    return isinstance(state.data, OSError)


# Retries only on the tasks that read or write files outside the process.
_FS_RETRIES = {
    "retries": FS_RETRIES,
    "retry_delay_seconds": FS_RETRY_SECONDS,
    "retry_condition_fn": _file_system_failure,
}


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(
    batch: list[DumpFile], cache_dir: Path | None = None, plan: dict | None = None
) -> tuple[str, list]:
    # Which process parsed the batch: the run report says where extraction ran.
    # With cache_dir (threads of this process) the task caches what it parses.
    return _this_process(), extract_batch(batch, cache_dir, plan)


@task(name="collect", cache_policy=NO_CACHE, **_FS_RETRIES)
def collect_task(plan: list[PlannedDump], fresh, cache_dir: Path):
    return collect_extractions(plan, fresh, cache_dir)


@task(name="link", cache_policy=NO_CACHE)
def link_task(collected, warehouse_dir: Path, raw_dir: Path, taxonomies: Taxonomies):
    return link_warehouse(collected, warehouse_dir, raw_dir, taxonomies=taxonomies)


# Not retried as a task: the writer lets each frame go once it is in a file
# (``FramesToWrite``), so it retries each of its writes itself.
@task(name="write", cache_policy=NO_CACHE)
def write_task(
    frames: FramesToWrite, warehouse_dir: Path, sql_dir: Path, info: dict, changed
) -> WrittenVersion:
    return write_version(frames, warehouse_dir, sql_dir, info, changed)


@task(name="publish", cache_policy=NO_CACHE, **_FS_RETRIES)
def publish_task(written: WrittenVersion) -> StagedVersion:
    return publish_version(written)


@task(name="promote", cache_policy=NO_CACHE, **_FS_RETRIES)
def promote_task(staged: StagedVersion, warehouse_dir: Path) -> str | None:
    if staged.path is None:
        return staged.version
    return store.promote(warehouse_dir, staged.path)


@task(name="clean-up", cache_policy=NO_CACHE, **_FS_RETRIES)
def clean_up_task(warehouse_dir: Path, keep_versions: int, cache_dir: Path, keys: set[str]):
    progress.checkpoint("clean-up")
    store.prune_versions(warehouse_dir, keep_versions)
    prune_extract_cache(cache_dir, keys)


class _Where:
    """Where a run got to, for the failure report."""

    stage = "start"
    published = False


def _refresh(settings: Settings, where: _Where) -> RunSummary:
    timer = StageTimer()
    warehouse = settings.warehouse_dir
    where.stage = "discover"
    with timer("discover"):
        recovered = store.recover(warehouse)
        recovered += [
            f"removed half-written cache entry {name}"
            for name in clean_extract_cache(settings.cache_dir)
        ]
        progress.checkpoint("discover")
        # Served runs come here without the CLI's checks: the same ones, before any work.
        check_raw_config(settings.raw_dir)
        inputs = resolve_raw(settings.raw_dir, settings.as_of, settings.follow_links)
        dumps, warnings = inputs.dumps, inputs.warnings
        taxonomies = load_taxonomies(settings.raw_dir)
        warnings += taxonomies.notes()
        hashes = store.read_file_hashes(warehouse)
        plan = plan_extraction(dumps, settings.cache_dir, extract.PARSER_VERSION, hashes)
        store.write_file_hashes(warehouse, hashes)
    where.stage = "extract"
    misses = [p.dump for p in plan if not p.cached]
    with timer("extract"):
        progress.start("extract", len(misses))
        done = []
        if misses and settings.task_runner == "dask":
            done = _extract_on_dask(misses, settings)
        elif misses:
            # Threads share this file system: each batch writes its extractions
            # to the cache as it goes, and returns only their keys.
            by_file = {p.dump.source_file: p for p in plan}
            done = extract_task.map(
                batches(misses, N_EXTRACT_BATCHES),
                cache_dir=unmapped(settings.cache_dir),
                plan=unmapped(by_file),
            ).result()
        fresh = [e for _, batch in done for e in batch]
        n_batches, processes = len(done), sorted({process for process, _ in done})
        del done
    where.stage = "collect"
    with timer("collect"):
        collected = collect_task(plan, fresh, settings.cache_dir)
        # The fresh extractions are in the cache now; linking reads what it needs.
        del fresh
        collected = _with_unread(collected, inputs.skipped)
    where.stage = "compare"
    with timer("compare"):
        # Nothing to link when the published version already holds these dumps.
        summary = unchanged_summary(
            plan, collected, warehouse, settings.raw_dir, settings.sql_dir, warnings, taxonomies
        )
    if summary is None:
        summary = _link_and_publish(settings, plan, collected, taxonomies, warnings, timer, where)
    where.stage = "clean-up"
    with timer("clean-up"):
        keys = {key for _, key in collected.entries}
        clean_up_task(warehouse, settings.keep_versions, settings.cache_dir, keys)
    summary.database_path = settings.database_path
    summary.stage_seconds = timer.seconds
    summary.recovered = recovered
    summary.extract_runner = _runner_label(settings)
    summary.extract_batches = n_batches
    summary.extract_processes = processes
    return summary


def _link_and_publish(
    settings: Settings,
    plan: list[PlannedDump],
    collected: Collected,
    taxonomies: Taxonomies,
    warnings: list[str],
    timer: StageTimer,
    where: _Where,
) -> RunSummary:
    """Link the dumps, stage the next version and publish it (or keep the current one)."""
    warehouse = settings.warehouse_dir
    where.stage = "link"
    with timer("link"):
        linked = link_task(collected, warehouse, settings.raw_dir, taxonomies)
        config_warnings = unmatched_references(settings.raw_dir, linked.tables["records"])
        progress.checkpoint("link")
    summary = summarize(
        linked.tables, collected.how, warnings + linked.notes, linked.counts, linked.papers
    )
    summary.link = linked.report
    summary.config_warnings = config_warnings
    where.stage = "stage"
    previous = store.current_version(warehouse)
    with timer("stage"):
        info = build_info(
            plan,
            linked.tables,
            linked.report,
            parser_version=extract.PARSER_VERSION,
            raw_dir=str(settings.raw_dir.resolve()),
            flow_run_id=str(flow_run.id) if flow_run.id else None,
        )
        # The frames go as they are written; what is left of the link goes too
        # before DuckDB takes its share of memory.
        written = write_task(linked.hand_over(), warehouse, settings.sql_dir, info, linked.changed)
        del linked
        give_back_freed_memory()
        # Prefect retries the task; the version is given up only after that.
        with discarded_on_failure(written):
            staged = publish_task(written)
    where.stage = "promote"
    with timer("promote"):
        version = promote_task(staged, warehouse)
        where.published = not staged.unchanged
    summary.n_views = staged.n_views
    summary.version = version
    summary.previous_version = previous
    summary.published = not staged.unchanged
    return summary


def _with_unread(collected: Collected, skipped: list[SkippedEntry]) -> Collected:
    """Add a sources row (and a note) for each raw entry that was not read."""
    unread = [unread_extraction(entry) for entry in skipped]
    both = sorted(collected.uncached + unread, key=lambda e: e.source["source_file"][0])
    how = {**collected.how, **{entry.source_file: NOT_READ for entry in skipped}}
    return Collected(collected.entries, how, both)


def _runner_label(settings: Settings) -> str:
    if settings.task_runner != "dask":
        return "threads"
    return f"dask {settings.dask_address}" if settings.dask_address else "dask local cluster"


def _dask_runner(settings: Settings):
    """prefect-dask's runner: a local cluster of worker processes, or the scheduler given."""
    # Imported here: the default (threads) refresh does not pay for importing Dask.
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    cores = os.cpu_count() or 2
    n_workers = settings.dask_workers or cores
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": n_workers,
            # One batch at a time per process; Polars spreads it over the
            # process's share of the cores.
            "threads_per_worker": 1,
            "processes": True,
            "env": {"POLARS_MAX_THREADS": str(max(1, cores // n_workers))},
            "dashboard_address": None,
            "silence_logs": logging.ERROR,
        }
    )


def _extract_on_dask(
    misses: list[DumpFile], settings: Settings
) -> list[tuple[str, list[ExtractedDump]]]:
    """Extract batches of dumps on Dask workers; the cluster lives for this stage only."""
    # Workers report their task runs to the API this flow run reports to, also
    # when that is the temporary server Prefect started in this process.
    context = FlowRunContext.get()
    api_url = PREFECT_API_URL.value() or str(context.client.api_url)
    with temporary_settings({PREFECT_API_URL: api_url}), _dask_runner(settings) as runner:
        threads = sum(runner.client.nthreads().values())
        parts = batches(misses, max(1, threads) * DASK_BATCHES_PER_THREAD)
        futures = runner.map(extract_task, {"batch": parts})
        # Workers have no progress listener: advance the bar here, per batch.
        sizes = {future.task_run_id: len(part) for future, part in zip(futures, parts, strict=True)}
        for future in as_completed(futures):
            progress.advance("extract", sizes[future.task_run_id])
        return [future.result() for future in futures]


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
    keep_versions: int = 3,
    wait_for_lock: bool = False,
    task_runner: str = "threads",
    dask_address: str | None = None,
    dask_workers: int | None = None,
    follow_links: bool = False,
) -> RunSummary:
    """Refresh the warehouse from the dumps in ``raw_dir``.

    ``task_runner`` "dask" extracts on the Dask cluster at ``dask_address``, or
    on a local cluster of ``dask_workers`` processes (default: one per core).
    ``follow_links`` reads symbolic links that leave ``raw_dir`` or name folders.
    """
    if isinstance(as_of, str):  # parameters sent through the API arrive as JSON
        as_of = date.fromisoformat(as_of)
    settings = Settings(
        raw_dir=Path(raw_dir),
        warehouse_dir=Path(warehouse_dir),
        as_of=as_of,
        sql_dir=Path(sql_dir) if sql_dir else default_sql_dir(),
        keep_versions=int(keep_versions),
        wait_for_lock=bool(wait_for_lock),
        task_runner=task_runner,
        dask_address=dask_address or None,
        dask_workers=int(dask_workers) if dask_workers else None,
        follow_links=bool(follow_links),
    )
    if settings.task_runner not in TASK_RUNNERS:
        raise PaperlakeError(
            f"task runner {task_runner!r}: choose one of {', '.join(TASK_RUNNERS)}"
        )
    logger = get_run_logger()
    where = _Where()
    try:
        # Before the lock, which would create the warehouse folder.
        check_layout(settings.raw_dir, settings.warehouse_dir)
        with store.warehouse_lock(
            settings.warehouse_dir,
            wait=settings.wait_for_lock,
            on_wait=lambda holder: logger.warning("waiting for the warehouse lock (%s)", holder),
        ):
            summary = _refresh(settings, where)
    except Exception as err:
        create_markdown_artifact(
            report.failure_markdown(err, where.stage, where.published),
            key=REPORT_KEY,
            description="Why this paperlake refresh failed",
        )
        raise
    create_markdown_artifact(
        report.to_markdown(summary) + markdown_link(settings.database_path),
        key=REPORT_KEY,
        description="What this paperlake refresh read, quarantined, merged and published",
    )
    create_table_artifact(
        report.file_rows(summary),
        key=FILES_KEY,
        description="Per input file: format, extraction, line accounting",
    )
    return summary


def serve(
    cron: str,
    raw_dir: Path,
    warehouse_dir: Path,
    name: str,
    keep_versions: int,
    dask: dict[str, Any] | None = None,
    follow_links: bool = False,
) -> None:
    """Register a deployment of the refresh flow with a cron schedule, and run its runs.

    Blocks: the runner polls the Prefect server (PREFECT_API_URL) for scheduled
    or triggered runs and executes each in a subprocess, until SIGINT (Ctrl-C)
    or SIGTERM; then it stops polling and pauses the schedule, since nothing
    serves it any more. ``dask`` holds the flow's task_runner, dask_address and
    dask_workers parameters, if any.
    """
    from prefect.runner import Runner

    class _Runner(Runner):
        # Prefect's own handler calls the sync stop() inside the running loop, which
        # only makes a coroutine nobody awaits; ours asks serve_until_stopped to stop.
        request_stop: Callable[[], None] = staticmethod(lambda: None)

        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            self.request_stop()

    runner = _Runner(name=name, pause_on_shutdown=True)
    parameters = {
        # Absolute, so that runs do not depend on the runner's working directory.
        "raw_dir": str(raw_dir.resolve()),
        "warehouse_dir": str(warehouse_dir.resolve()),
        "keep_versions": keep_versions,
        **({"follow_links": True} if follow_links else {}),
        **(dask or {}),
    }

    async def serve_until_stopped() -> None:
        await runner.aadd_flow(
            refresh_flow,
            name=name,
            cron=cron,
            parameters=parameters,
            description="Refresh the paperlake warehouse from the dumps in raw_dir.",
            # Runs import the installed package, not a file path next to the runner.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        runner.request_stop = lambda: loop.call_soon_threadsafe(stop.set)
        # Installed whatever the inherited disposition: a shell starts background
        # jobs with SIGINT ignored, and Ctrl-C must still stop the service.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, runner.request_stop)
        running = asyncio.create_task(runner.start())
        while not runner.started and not running.done():  # astop() needs a started runner
            await asyncio.sleep(0.05)
        get_logger("paperlake").info(
            "serving deployment paperlake-refresh/%s (cron %r); Ctrl-C stops it", name, cron
        )
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            get_logger("paperlake").info("stopping: pausing the schedule of %s", name)
            await runner.astop()
        # start() leaves its `async with runner`: that pauses the schedules.
        await running
        stopped.cancel()

    asyncio.run(serve_until_stopped())


def cron_problem(cron: str) -> str | None:
    """Why ``cron`` is not a schedule Prefect accepts, or None when it is."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron)
    except ValueError as err:
        errors = getattr(err, "errors", None)
        if callable(errors):  # pydantic's ValidationError: keep its message, not its URL
            return "; ".join(e["msg"].removeprefix("Value error, ") for e in errors())
        return str(err)
    return None


@contextmanager
def using_api(url: str | None) -> Iterator[None]:
    """Report to the Prefect API at ``url`` while the block runs (None: as configured)."""
    if url is None:
        yield
        return
    with temporary_settings({PREFECT_API_URL: url}):
        yield


def api_url() -> str | None:
    """The Prefect server this process talks to (PREFECT_API_URL), if one is configured."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None
