"""The ``paperlake`` command: a thin layer over the flow and the library.

Exit codes: 0 ok, 1 failed, 2 usage error, 3 quarantined input under --strict.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
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

from pipelines import __version__
from pipelines.config import TASK_RUNNERS
from pipelines.errors import PaperlakeError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STRICT = 0, 1, 2, 3

app = typer.Typer(
    help="Turn folders of scraped paper-listing dumps into a Parquet + DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Logs and CI are not terminals: give tables room rather than 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)  # one error, one line


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-22") from None


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


def _fail(message: str, debug: bool, code: int = EXIT_FAILED) -> None:
    if debug:
        traceback.print_exc()
    # One line, however long: logs and CI grep for it.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _render_report(summary) -> None:
    """Print the run report: the same sections the flow publishes as an artifact."""
    from pipelines import report

    for section in report.sections(summary):
        table = Table(title=section.title, title_justify="left", caption=section.footer)
        table.caption_justify = "left"
        for col in section.columns:
            table.add_column(col, justify="right" if col in section.right else "left")
        for row in section.rows:
            table.add_row(*(escape(v) for v in row))
        console.print(table)
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


def _task_runner_parameters(
    task_runner: str, dask_address: str | None, dask_workers: int | None, debug: bool
) -> dict[str, object]:
    """Check the task runner options (exit 2 or 1 on a problem); return the flow parameters.

    Call after ``_quiet_prefect``: checking a scheduler imports Prefect and Dask.
    """
    if task_runner not in TASK_RUNNERS:
        _fail(
            f"--task-runner {task_runner!r}: choose one of {', '.join(TASK_RUNNERS)}",
            debug,
            EXIT_USAGE,
        )
    if task_runner != "dask":
        if dask_address or dask_workers:
            _fail("--dask-address and --dask-workers need --task-runner dask", debug, EXIT_USAGE)
        return {}
    if dask_address and dask_workers:
        _fail(
            "--dask-workers sizes the local cluster; the cluster at --dask-address has "
            "its own workers",
            debug,
            EXIT_USAGE,
        )
    if dask_address:
        from pipelines import flows

        try:
            flows.check_dask_scheduler(dask_address)
        except flows.DaskProblem as err:
            _fail(str(err), debug, EXIT_USAGE if err.usage else EXIT_FAILED)
        if not flows.api_url():
            _fail(
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
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and Prefect logs.")
    ] = False,
) -> None:
    """Extract every dump in --raw, link, and publish the warehouse."""
    as_of_date = _parse_date(as_of)
    if not raw.is_dir():
        _fail(f"raw folder {raw} does not exist or is not a folder", debug, EXIT_USAGE)
    _quiet_prefect(debug)
    runner_parameters = _task_runner_parameters(task_runner, dask_address, dask_workers, debug)
    try:
        from pipelines.curation import read_aliases, read_overrides
        from pipelines.publish import lock_holder
        from pipelines.sources import read_manifest
        from pipelines.taxonomy import load_taxonomies

        # Bad configuration fails here, in one line, before Prefect starts.
        read_manifest(raw)
        read_overrides(raw)
        read_aliases(raw)
        # Say so before Prefect's start-up; the flow takes the lock for real.
        holder = lock_holder(warehouse)
        if holder and not wait:
            raise PaperlakeError(
                f"{warehouse / '.lock'}: another refresh or rollback is running ({holder}); "
                "try again when it ends, or pass --wait"
            )
        if holder:
            err_console.print(
                f"waiting for the run holding {warehouse / '.lock'} ({holder})", soft_wrap=True
            )
        from pipelines.flows import refresh_flow

        load_taxonomies(raw)

        started = time.perf_counter()
        with _progress_bars():
            summary = refresh_flow(
                raw_dir=str(raw),
                warehouse_dir=str(warehouse),
                as_of=as_of_date,
                keep_versions=keep,
                wait_for_lock=wait,
                **runner_parameters,
            )
    except PaperlakeError as err:
        _fail(str(err), debug)
    except OSError as err:
        _fail(f"{err.filename or 'file system'}: {err.strerror or err}", debug)
    except Exception as err:
        _fail(f"refresh failed: {type(err).__name__}: {err}", debug)
    summary.stage_seconds["total (with Prefect start-up)"] = time.perf_counter() - started
    _render_report(summary)
    if strict and summary.has_rejects:
        err_console.print(
            f"[bold red]strict:[/] {summary.n_rejected_lines} lines and "
            f"{summary.n_quarantined_files} whole files were quarantined (see the rejects table)"
        )
        raise typer.Exit(EXIT_STRICT)


WAREHOUSE_OPTION = typer.Option("--warehouse", help="The warehouse folder.")


@app.command()
def status(
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
) -> None:
    """Print the published version: when and from which inputs it was built, its counts."""
    from pipelines import publish

    try:
        current = publish.current_version(warehouse)
        holder = publish.lock_holder(warehouse)
        if current is None:
            if (warehouse / publish.DATABASE).is_file():
                console.print(
                    f"{warehouse} was published by a paperlake without versions; "
                    "the next refresh makes it version 1."
                )
                return
            _fail(f"{warehouse}: no published warehouse (run paperlake refresh)", False)
        info = publish.read_build_info(warehouse, current)
        kept = publish.version_ids(warehouse)
        infos = {v: publish.read_build_info(warehouse, v) for v in kept}
    except PaperlakeError as err:
        _fail(str(err), False)
    except OSError as err:
        _fail(f"{err.filename or warehouse}: {err.strerror or err}", False)

    inputs = info.get("inputs", [])
    console.print(
        f"Published version [bold]{current}[/], built {info.get('built_at')} "
        f"from {len(inputs)} files in {escape(str(info.get('raw_dir')))}",
        highlight=False,
    )
    console.print(
        f"paperlake {info.get('paperlake_version')}, parser version "
        f"{info.get('parser_version')}, flow run {info.get('flow_run_id')}",
        highlight=False,
    )
    console.print(
        f"A refresh is running now ({escape(holder)})." if holder else "No refresh is running.",
        highlight=False,
    )

    files = Table(title="Inputs", title_justify="left")
    for col in ("file", "sha256", "format", "captured", "date from", "records"):
        files.add_column(col, justify="right" if col == "records" else "left")
    for row in inputs:
        files.add_row(
            escape(row["source_file"]),
            (row.get("sha256") or "(unreadable)")[:12],
            row.get("format") or "(quarantined)",
            row.get("capture_date") or "",
            row.get("capture_date_origin") or "",
            str(row.get("n_records")),
        )
    console.print(files)

    counts = Table(title="Tables", title_justify="left")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for name, rows in info.get("tables", {}).items():
        counts.add_row(name, str(rows))
    counts.add_row("(views)", str(info.get("n_views")))
    console.print(counts)

    versions = Table(title="Kept versions (paperlake rollback --to VERSION)", title_justify="left")
    for col in ("version", "built at", "files", "records", "papers", ""):
        versions.add_column(
            col, justify="right" if col in ("files", "records", "papers") else "left"
        )
    for v in kept:
        tables = infos[v].get("tables", {})
        versions.add_row(
            v,
            str(infos[v].get("built_at")),
            str(len(infos[v].get("inputs", []))),
            str(tables.get("records")),
            str(tables.get("papers")),
            "published" if v == current else "",
        )
    console.print(versions)


@app.command()
def rollback(
    to: Annotated[
        str | None,
        typer.Option("--to", help="Version to publish again (default: the one before)."),
    ] = None,
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
) -> None:
    """Publish an older kept version again (see paperlake status)."""
    from pipelines import publish

    if to is not None and not to.removeprefix("v").isdigit():
        _fail(f"--to {to!r}: a version is a number, as paperlake status lists", False, EXIT_USAGE)
    try:
        was, now = publish.rollback(warehouse, to.removeprefix("v") if to else None)
    except PaperlakeError as err:
        _fail(str(err), False)
    except OSError as err:
        _fail(f"{err.filename or warehouse}: {err.strerror or err}", False)
    console.print(f"Rolled back: version {now} is published (was {was}).", highlight=False)


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
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and Prefect's debug logs.")
    ] = False,
) -> None:
    """Register a scheduled deployment on the Prefect server and run its refreshes."""
    if not raw.is_dir():
        _fail(f"raw folder {raw} does not exist or is not a folder", debug, EXIT_USAGE)
    # A runner is a long-lived service: its logs are its interface.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG" if debug else "INFO")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Not Dask's per-connection INFO lines, though.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if debug else "warning")
    from pipelines import flows

    problem = flows.cron_problem(cron)
    if problem:
        _fail(f"--cron: {problem}", debug, EXIT_USAGE)
    if not flows.api_url():
        _fail(
            "schedules need a Prefect server: start one with `prefect server start` and "
            "set PREFECT_API_URL (see README, Scheduling)",
            debug,
            EXIT_USAGE,
        )
    runner_parameters = _task_runner_parameters(task_runner, dask_address, dask_workers, debug)
    try:
        flows.serve(cron, raw, warehouse, name, keep, runner_parameters)
    except Exception as err:
        _fail(f"serve failed: {type(err).__name__}: {err}", debug)


@app.command()
def detect(
    files: Annotated[list[Path], typer.Argument(help="Dump files to inspect.")],
) -> None:
    """Say which format each file is detected as, and why."""
    from pipelines.extract import detect_format
    from pipelines.extract.text import decode_dump, split_lines

    table = Table()
    for col in ("file", "format", "encoding", "why"):
        table.add_column(col)
    for path in files:
        try:
            decoded = decode_dump(path.read_bytes())
        except OSError as err:
            table.add_row(str(path), "[red]unreadable[/]", "", str(err.strerror or err))
            continue
        if decoded.is_binary:
            table.add_row(str(path), "[red]binary[/]", decoded.encoding, decoded.note or "")
            continue
        result = detect_format(split_lines(decoded.text))
        table.add_row(
            str(path), result.format or "[red]unknown[/]", decoded.encoding, result.reason
        )
    console.print(table)


@app.command("formats")
def list_formats() -> None:
    """List the dump formats paperlake can parse."""
    from pipelines.extract import formats

    table = Table()
    table.add_column("format")
    table.add_column("description")
    for name, fmt in sorted(formats().items()):
        table.add_row(name, fmt.description)
    console.print(table)


def _emit(text: str, output: Path | None, debug: bool) -> None:
    """Write text to ``output`` atomically, or to stdout without console wrapping."""
    if output is None:
        sys.stdout.write(text)
        return
    from pipelines.load import write_text

    try:
        write_text(text, output)
    except OSError as err:
        _fail(f"{err.filename or output}: {err.strerror or err}", debug)
    err_console.print(f"Wrote {output}", highlight=False)


@app.command()
def dictionary(
    warehouse: Annotated[
        Path, typer.Option("--warehouse", help="Folder holding paperlake.duckdb.")
    ] = Path("warehouse"),
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Write the Markdown here instead of to stdout."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Print the data dictionary (every view and column, with comments) as Markdown."""
    from pipelines.config import default_sql_dir
    from pipelines.dictionary import dictionary_of

    database = warehouse / "paperlake.duckdb"
    if not database.is_file():
        _fail(f"{database}: no such database; run `paperlake refresh` first", debug, EXIT_USAGE)
    try:
        text = dictionary_of(database, default_sql_dir())
    except Exception as err:
        _fail(f"{database}: {type(err).__name__}: {err}", debug)
    _emit(text, output, debug)


export_app = typer.Typer(help="Export warehouse data for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("coauthors")
def export_coauthors(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="graphml (Gephi, Cytoscape), csv (edge list; with --output also a node "
            "list beside it) or vosviewer-json.",
        ),
    ] = "graphml",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write here instead of to stdout.")
    ] = None,
    warehouse: Annotated[
        Path, typer.Option("--warehouse", help="Folder holding paperlake.duckdb.")
    ] = Path("warehouse"),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Export the co-author network (authors, pairs) for Gephi or VOSviewer."""
    from pipelines import export

    if fmt not in export.FORMATS:
        _fail(
            f"unknown format {fmt!r}; choose one of {', '.join(export.FORMATS)}",
            debug,
            EXIT_USAGE,
        )
    try:
        nodes, edges = export.read_coauthor_network(warehouse / "paperlake.duckdb")
    except PaperlakeError as err:
        _fail(str(err), debug)
    if fmt == "graphml":
        _emit(export.to_graphml(nodes, edges), output, debug)
    elif fmt == "vosviewer-json":
        _emit(export.to_vosviewer(nodes, edges), output, debug)
    else:
        _emit(export.to_csv_edges(edges), output, debug)
        if output is not None:
            _emit(export.to_csv_nodes(nodes), export.nodes_path(output), debug)


@app.command()
def version() -> None:
    """Print paperlake's version."""
    console.print(__version__)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
