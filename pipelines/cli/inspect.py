"""Commands that read without refreshing: detect, formats, dictionary, export, version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipelines import __version__
from pipelines.cli.common import EXIT_USAGE, app, console, emit, fail
from pipelines.errors import PaperlakeError


@app.command()
def detect(
    files: Annotated[list[Path], typer.Argument(help="Dump files to inspect.")],
) -> None:
    """Say which format each file is detected as, and why, reading every line of it."""
    from pipelines.extract import detect_format
    from pipelines.extract.text import decode_dump, split_lines

    table = Table()
    for col in ("file", "format", "encoding", "lines read", "why"):
        table.add_column(col)
    for path in files:
        try:
            decoded = decode_dump(path.read_bytes())
        except OSError as err:
            table.add_row(str(path), "[red]unreadable[/]", "", "", str(err.strerror or err))
            continue
        if decoded.is_binary:
            table.add_row(str(path), "[red]binary[/]", decoded.encoding, "", decoded.note or "")
            continue
        # The whole file: the counts in the reason are the file's, not a window's.
        lines = split_lines(decoded.text)
        result = detect_format(lines, max_lines=None)
        why = result.reason + (f"; {decoded.note}" if decoded.note else "")
        table.add_row(
            str(path),
            result.format or "[red]unknown[/]",
            decoded.encoding,
            f"all {lines.height}",
            why,
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
        fail(f"{database}: no such database; run `paperlake refresh` first", debug, EXIT_USAGE)
    try:
        text = dictionary_of(database, default_sql_dir())
    except Exception as err:
        fail(f"{database}: {type(err).__name__}: {err}", debug)
    emit(text, output, debug)


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
        fail(
            f"unknown format {fmt!r}; choose one of {', '.join(export.FORMATS)}",
            debug,
            EXIT_USAGE,
        )
    try:
        nodes, edges = export.read_coauthor_network(warehouse / "paperlake.duckdb")
    except PaperlakeError as err:
        fail(str(err), debug)
    if fmt == "graphml":
        emit(export.to_graphml(nodes, edges), output, debug)
    elif fmt == "vosviewer-json":
        emit(export.to_vosviewer(nodes, edges), output, debug)
    else:
        emit(export.to_csv_edges(edges), output, debug)
        if output is not None:
            emit(export.to_csv_nodes(nodes), export.nodes_path(output), debug)


@app.command()
def version() -> None:
    """Print paperlake's version."""
    console.print(__version__)
