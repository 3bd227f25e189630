"""The ``paperlake`` command: a thin layer over the flow and the library.

Exit codes: 0 ok, 1 failed, 2 usage error, 3 quarantined input under --strict.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines import __version__
from pipelines.errors import PaperlakeError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STRICT = 0, 1, 2, 3

app = typer.Typer(
    help="Turn folders of scraped paper-listing dumps into a Parquet + DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Logs and CI are not terminals: give tables room rather than 80 columns.
console = Console(width=None if sys.stdout.isatty() else 120)
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
    if not debug:
        logging.getLogger("prefect").setLevel(logging.CRITICAL)


def _fail(message: str, debug: bool, code: int = EXIT_FAILED) -> None:
    if debug:
        traceback.print_exc()
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _render_summary(summary) -> None:
    files = Table(title="Input files", title_justify="left")
    files.add_column("file", no_wrap=True)
    for col, justify in [
        ("format", "left"),
        ("captured", "left"),
        ("date from", "left"),
        ("lines", "right"),
        ("records", "right"),
        ("rejected", "right"),
        ("furniture", "right"),
        ("accounted", "center"),
    ]:
        files.add_column(col, justify=justify)
    for row in summary.sources.sort("source_file").iter_rows(named=True):
        parts = row["n_record_lines"] + row["n_rejected_lines"] + row["n_furniture_lines"]
        accounted = "ok" if parts == row["n_lines"] else f"[red]{parts} of {row['n_lines']}[/]"
        files.add_row(
            row["source_file"],
            row["format"] or "[red](quarantined)[/]",
            str(row["capture_date"]),
            row["capture_date_origin"],
            str(row["n_lines"]),
            str(row["n_records"]),
            str(row["n_rejected_lines"]),
            str(row["n_furniture_lines"]),
            accounted,
        )
    console.print(files)

    by_format = Table(title="By format", title_justify="left")
    for col in ("format", "files", "lines", "records", "rejected lines", "furniture lines"):
        by_format.add_column(col, justify="left" if col == "format" else "right")
    for row in summary.by_format().iter_rows():
        by_format.add_row(*(str(v) for v in row))
    console.print(by_format)

    totals = Table(title="Warehouse", title_justify="left", show_header=False)
    totals.add_column("what")
    totals.add_column("value", justify="right")
    totals.add_row("records", str(summary.n_records))
    totals.add_row("rejected lines", str(summary.n_rejected_lines))
    totals.add_row("papers", str(summary.n_papers))
    totals.add_row("authors", str(summary.n_authors))
    totals.add_row("views published", str(summary.n_views))
    totals.add_row("candidate pairs compared", str(summary.link.n_candidate_pairs))
    for decision, n in summary.link.decisions.items():
        totals.add_row(f"pairs {decision}", str(n))
    totals.add_row("low-confidence title splits", str(len(summary.link.weak_splits)))
    for stage, seconds in summary.stage_seconds.items():
        totals.add_row(f"time: {stage}", f"{seconds:.2f} s")
    console.print(totals)
    for record_id, title in summary.link.weak_splits[:20]:
        console.print(f"[yellow]low-confidence split:[/] {record_id}: {title}", highlight=False)
    for note in summary.link.notes:
        console.print(f"[cyan]linkage:[/] {note}", highlight=False)
    for warning in summary.warnings:
        console.print(f"[yellow]note:[/] {warning}", highlight=False)
    console.print(f"Published [bold]{summary.database_path}[/]")


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
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and Prefect logs.")
    ] = False,
) -> None:
    """Extract every dump in --raw, link, and publish the warehouse."""
    as_of_date = _parse_date(as_of)
    if not raw.is_dir():
        _fail(f"raw folder {raw} does not exist or is not a folder", debug, EXIT_USAGE)
    _quiet_prefect(debug)
    try:
        from pipelines.curation import read_aliases, read_overrides
        from pipelines.flows import refresh_flow
        from pipelines.sources import read_manifest
        from pipelines.taxonomy import load_taxonomies

        # Bad configuration fails here, in one line, before Prefect starts.
        read_manifest(raw)
        read_overrides(raw)
        read_aliases(raw)
        load_taxonomies(raw)

        started = time.perf_counter()
        with console.status("Refreshing the warehouse (Prefect flow)..."):
            summary = refresh_flow(raw_dir=str(raw), warehouse_dir=str(warehouse), as_of=as_of_date)
    except PaperlakeError as err:
        _fail(str(err), debug)
    except OSError as err:
        _fail(f"{err.filename or 'file system'}: {err.strerror or err}", debug)
    except Exception as err:
        _fail(f"refresh failed: {type(err).__name__}: {err}", debug)
    summary.stage_seconds["total (with Prefect start-up)"] = time.perf_counter() - started
    _render_summary(summary)
    if strict and summary.has_rejects:
        err_console.print(
            f"[bold red]strict:[/] {summary.n_rejected_lines} lines and "
            f"{summary.n_quarantined_files} whole files were quarantined (see the rejects table)"
        )
        raise typer.Exit(EXIT_STRICT)


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
