"""``paperlake refresh`` and ``paperlake serve``: run the Prefect flow, once or on a schedule."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from pipelines.cli.common import (
    EXIT_FAILED,
    EXIT_STRICT,
    EXIT_USAGE,
    WAREHOUSE_OPTION,
    app,
    console,
    err_console,
    fail,
    parse_date,
)
from pipelines.config import TASK_RUNNERS
from pipelines.errors import PaperlakeError
from pipelines.server import TemporaryServer, configured_api_url


def _quiet_prefect(debug: bool) -> None:
    """Keep Prefect's own logs out of the user's terminal unless --debug."""
    # A failed flow is reported by the CLI in one line; Prefect would add a traceback.
    level = "DEBUG" if debug else "CRITICAL"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_ROOT_LEVEL", level)
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server can take 20+ s to start on a small machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Dask's scheduler and workers log every connection at INFO; read before Dask's import.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if debug else "error")
    if not debug:
        logging.getLogger("prefect").setLevel(logging.CRITICAL)


def _render_report(summary) -> None:
    """Print the run report: the same sections the flow publishes as an artifact."""
    from pipelines import report

    for section in report.sections(summary):
        table = Table(title=section.title, title_justify="left")
        for col in section.columns:
            table.add_column(col, justify="right" if col in section.right else "left")
        for row in section.rows:
            table.add_row(*(escape(v) for v in row))
        console.print(table)
        # Below the table, not as its caption: a caption wraps at the table's width.
        for line in (section.footer or "").splitlines():
            console.print(escape(line), highlight=False)
    for note in report.notes(summary):
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    console.print(escape(report.outcome_line(summary)), style="bold", highlight=False)


# What the progress bars call each stage that reports its units of work.
STAGE_LABELS = {
    "extract": "Parsing changed dumps",
    "load": "Writing Parquet tables",
    "publish": "Building the DuckDB file",
}


TASK_RUNNER_OPTION = typer.Option(
    "--task-runner",
    help="Where changed dumps are parsed: threads (of this process) or dask "
    "(worker processes of a Dask cluster; see README, Scale-out).",
)
DASK_ADDRESS_OPTION = typer.Option(
    "--dask-address",
    help="With --task-runner dask: the scheduler of a running Dask cluster, "
    "tcp://HOST:PORT. Without it, a local cluster is started for the run.",
)
DASK_WORKERS_OPTION = typer.Option(
    "--dask-workers",
    min=1,
    help="With --task-runner dask and no --dask-address: worker processes of the "
    "local cluster (default: one per core).",
)


FOLLOW_LINKS_OPTION = typer.Option(
    "--follow-links",
    help="Read symbolic links in --raw that point outside it or to folders "
    "(default: listed as not read; see README, Security model).",
)


def _task_runner_parameters(
    task_runner: str, dask_address: str | None, dask_workers: int | None, debug: bool
) -> dict[str, object]:
    """Check the task runner options (exit 2 or 1 on a problem); return the flow parameters.

    Call after ``_quiet_prefect``: checking a scheduler imports Prefect and Dask.
    """
    if task_runner not in TASK_RUNNERS:
        fail(
            f"--task-runner {task_runner!r}: choose one of {', '.join(TASK_RUNNERS)}",
            debug,
            EXIT_USAGE,
        )
    if task_runner != "dask":
        if dask_address or dask_workers:
            fail("--dask-address and --dask-workers need --task-runner dask", debug, EXIT_USAGE)
        return {}
    if dask_address and dask_workers:
        fail(
            "--dask-workers sizes the local cluster; the cluster at --dask-address has "
            "its own workers",
            debug,
            EXIT_USAGE,
        )
    if dask_address:
        from pipelines import flows
        from pipelines.dask_scheduler import DaskProblem, check_dask_scheduler

        try:
            check_dask_scheduler(dask_address)
        except DaskProblem as err:
            fail(str(err), debug, EXIT_USAGE if err.usage else EXIT_FAILED)
        if not flows.api_url():
            fail(
                "--dask-address: Dask workers report their task runs to the Prefect API, and "
                "without PREFECT_API_URL that is a temporary server only this machine can "
                "reach; start `prefect server start --host 0.0.0.0` and set PREFECT_API_URL "
                "to an address the workers can reach (see README, Scale-out)",
                debug,
                EXIT_USAGE,
            )
    return {"task_runner": "dask", "dask_address": dask_address, "dask_workers": dask_workers}


@contextmanager
def _progress_bars() -> Iterator[None]:
    """Progress bars for the long stages, fed by pipelines.progress events."""
    from pipelines import progress

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bars:
        start_up = bars.add_task("Starting the Prefect flow", total=None)
        ids: dict[str, TaskID] = {}
        lock = threading.Lock()

        def on_event(stage: str, done: int, total: int | None) -> None:
            with lock:  # events come from the flow's worker threads
                if stage not in ids:
                    bars.update(start_up, total=1, completed=1)
                    ids[stage] = bars.add_task(STAGE_LABELS.get(stage, stage), total=total)
                elif total is not None:
                    bars.update(ids[stage], total=total, completed=0)
                if done:
                    bars.advance(ids[stage], done)

        with progress.listening(on_event):
            yield


@app.command()
def refresh(
    raw: Annotated[Path, typer.Option("--raw", help="Folder of input dumps.")] = Path("raw"),
    warehouse: Annotated[
        Path, typer.Option("--warehouse", help="Folder for the Parquet tables and DuckDB file.")
    ] = Path("warehouse"),
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Capture date (YYYY-MM-DD) for every dump, overriding raw/manifest.toml.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 3 when any line or file was quarantined.")
    ] = False,
    keep: Annotated[
        int,
        typer.Option("--keep", min=1, help="Published versions to keep for rollback."),
    ] = 3,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait for a refresh already running instead of exiting."),
    ] = False,
    task_runner: Annotated[str, TASK_RUNNER_OPTION] = "threads",
    dask_address: Annotated[str | None, DASK_ADDRESS_OPTION] = None,
    dask_workers: Annotated[int | None, DASK_WORKERS_OPTION] = None,
    follow_links: Annotated[bool, FOLLOW_LINKS_OPTION] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and Prefect logs.")
    ] = False,
) -> None:
    """Extract every dump in --raw, link, and publish the warehouse."""
    began = time.perf_counter()
    as_of_date = parse_date(as_of)
    _check_folders(raw, warehouse, debug)
    _quiet_prefect(debug)
    runner_parameters = _task_runner_parameters(task_runner, dask_address, dask_workers, debug)
    # Started now, it gets ready while the imports and checks below run.
    server = None if configured_api_url() else TemporaryServer().start()
    try:
        summary = _run_refresh(
            server,
            raw_dir=str(raw),
            warehouse_dir=str(warehouse),
            as_of=as_of_date,
            keep_versions=keep,
            wait_for_lock=wait,
            follow_links=follow_links,
            **runner_parameters,
        )
    except PaperlakeError as err:
        fail(str(err), debug)
    except OSError as err:
        fail(f"{err.filename or 'file system'}: {err.strerror or err}", debug)
    except Exception as err:
        fail(f"refresh failed: {type(err).__name__}: {err}", debug)
    finally:
        if server is not None:
            server.stop()
    summary.stage_seconds["total (the whole command)"] = time.perf_counter() - began
    _render_report(summary)
    if strict and (summary.has_rejects or summary.config_warnings):
        err_console.print(
            f"[bold red]strict:[/] {summary.n_rejected_lines} lines and "
            f"{summary.n_quarantined_files} whole files were quarantined (see the rejects "
            f"table); {len(summary.config_warnings)} configuration entries matched nothing"
        )
        raise typer.Exit(EXIT_STRICT)


def _check_folders(raw: Path, warehouse: Path, debug: bool) -> None:
    """Usage errors about --raw and --warehouse, before anything starts."""
    from pipelines.config import check_layout
    from pipelines.store import check_location

    if not raw.is_dir():
        fail(f"raw folder {raw} does not exist or is not a folder", debug, EXIT_USAGE)
    try:
        check_location(warehouse)
        check_layout(raw, warehouse)
    except PaperlakeError as err:
        fail(str(err), debug, EXIT_USAGE)


def _run_refresh(server: TemporaryServer | None, **parameters):
    """Check the configuration and the lock, then run the flow against the server."""
    from pipelines.configfiles import check_raw_config
    from pipelines.store import lock_holder

    raw, warehouse = Path(parameters["raw_dir"]), Path(parameters["warehouse_dir"])
    # Bad configuration fails here, every problem one line, before the flow starts.
    check_raw_config(raw)
    # Say so before Prefect's start-up; the flow takes the lock for real.
    holder = lock_holder(warehouse)
    if holder and not parameters["wait_for_lock"]:
        raise PaperlakeError(
            f"{warehouse / '.lock'}: another refresh or rollback is running ({holder}); "
            "try again when it ends, or pass --wait"
        )
    if holder:
        err_console.print(
            f"waiting for the run holding {warehouse / '.lock'} ({holder})", soft_wrap=True
        )
    from pipelines import flows

    configured = flows.api_url()  # Prefect's own reading: .env and prefect.toml too
    if configured and server is not None:
        server.stop()
        server = None
    with _progress_bars():
        if server is not None:
            waited = time.perf_counter()
            server.wait_ready()
            waited = time.perf_counter() - waited
            about = (
                f"Prefect: a temporary server on 127.0.0.1:{server.port}, ready "
                f"{server.ready_after:.1f} s after its start ({waited:.1f} s of it waited for)"
            )
        else:
            about = f"Prefect: the server at {configured} (no start-up)"
        with flows.using_api(server.api_url if server else None):
            summary = flows.refresh_flow(**parameters)
    summary.prefect_server = about
    return summary


@app.command()
def serve(
    cron: Annotated[
        str, typer.Option("--cron", help='When to refresh, a cron line such as "0 6 * * *".')
    ],
    raw: Annotated[Path, typer.Option("--raw", help="Folder of input dumps.")] = Path("raw"),
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
    name: Annotated[
        str, typer.Option("--name", help="Deployment name on the Prefect server.")
    ] = "scheduled",
    keep: Annotated[
        int,
        typer.Option("--keep", min=1, help="Published versions to keep for rollback."),
    ] = 3,
    task_runner: Annotated[str, TASK_RUNNER_OPTION] = "threads",
    dask_address: Annotated[str | None, DASK_ADDRESS_OPTION] = None,
    dask_workers: Annotated[int | None, DASK_WORKERS_OPTION] = None,
    follow_links: Annotated[bool, FOLLOW_LINKS_OPTION] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and Prefect's debug logs.")
    ] = False,
) -> None:
    """Register a scheduled deployment on the Prefect server and run its refreshes.

    Ctrl-C (SIGINT) or SIGTERM stops it and pauses the schedule.
    """
    _check_folders(raw, warehouse, debug)
    try:
        from pipelines.configfiles import check_raw_config

        check_raw_config(raw)  # every run would fail on it: say so now
    except PaperlakeError as err:
        fail(str(err), debug)
    # A runner is a long-lived service: its logs are its interface.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG" if debug else "INFO")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Not Dask's per-connection INFO lines, though.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if debug else "warning")
    from pipelines import flows

    problem = flows.cron_problem(cron)
    if problem:
        fail(f"--cron: {problem}", debug, EXIT_USAGE)
    if not flows.api_url():
        fail(
            "schedules need a Prefect server: start one with `prefect server start` and "
            "set PREFECT_API_URL (see README, Scheduling)",
            debug,
            EXIT_USAGE,
        )
    runner_parameters = _task_runner_parameters(task_runner, dask_address, dask_workers, debug)
    try:
        flows.serve(cron, raw, warehouse, name, keep, runner_parameters, follow_links)
    except Exception as err:
        fail(f"serve failed: {type(err).__name__}: {err}", debug)
