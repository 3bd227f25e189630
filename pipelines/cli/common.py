"""What every ``paperlake`` command shares: the Typer app, consoles, exit codes, errors."""

from __future__ import annotations

import sys
import traceback
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

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


def parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-22") from None


WAREHOUSE_OPTION = typer.Option("--warehouse", help="The warehouse folder.")


def fail(message: str, debug: bool, code: int = EXIT_FAILED) -> None:
    if debug:
        traceback.print_exc()
    # One line, however long: logs and CI grep for it.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def emit(text: str, output: Path | None, debug: bool) -> None:
    """Write text to ``output`` atomically, or to stdout without console wrapping."""
    if output is None:
        sys.stdout.write(text)
        return
    from pipelines.load import write_text

    try:
        write_text(text, output)
    except OSError as err:
        fail(f"{err.filename or output}: {err.strerror or err}", debug)
    err_console.print(f"Wrote {output}", highlight=False)
