"""What every ``paperlake`` command shares: the Typer app, consoles, exit codes, errors."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from pipelines import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STRICT = 0, 1, 2, 3

# The README's exit-code table, short; `paperlake --help` prints it.
EXIT_CODES = {
    EXIT_OK: "ok (refresh: published, or nothing changed)",
    EXIT_FAILED: "failed, with one line saying why (a file that cannot be read or written, "
    "a configuration file that is not valid, nothing published in --warehouse, a failed "
    "data test, another refresh running); the published warehouse is unchanged",
    EXIT_USAGE: "usage error: a bad option, date or cron line, a missing raw folder, "
    "a warehouse inside the raw folder",
    EXIT_STRICT: "refresh --strict: published, but input was quarantined or a configuration "
    "entry matched nothing",
}


def _commands(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


class PaperlakeGroup(TyperGroup):
    """The root command: fixes what Typer renders for every command under it.

    - A boolean flag takes no value, so its help shows no ``<bool>`` type
      (Typer 0.29 prints one for every flag).
    - ``--help`` ends with the dump formats and the exit codes; the formats
      come from the parser registry, imported only when help is printed.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for command in _commands(self):
            for param in command.params:
                _no_value_shown(param)
            # The help option is made on first use, per command: fix it then.
            command.get_help_option = _flag_help_option(command.get_help_option)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from pipelines.extract import formats

        listed = "\n".join(
            f"  {name}: {fmt.description}" for name, fmt in sorted(formats().items())
        )
        codes = "\n".join(f"  {code}: {meaning}" for code, meaning in EXIT_CODES.items())
        self.epilog = escape(
            f"Dump formats (paperlake formats):\n{listed}\n\nExit codes:\n{codes}\n\n"
            "See README.md for the warehouse, scheduling and the security model."
        )
        super().format_help(ctx, formatter)


def _no_value_shown(param: Any) -> Any:
    if getattr(param, "is_flag", False):
        param.metavar = ""  # what Typer shows as the value: nothing
    return param


def _flag_help_option(make: Any) -> Any:
    def get_help_option(ctx: Any) -> Any:
        option = make(ctx)
        return option if option is None else _no_value_shown(option)

    return get_help_option


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


app = typer.Typer(
    cls=PaperlakeGroup,
    help="Turn folders of scraped paper-listing dumps into a Parquet + DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Turn folders of scraped paper-listing dumps into a Parquet + DuckDB warehouse."""


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
    """Print the error (one line per problem, however long) and exit with ``code``."""
    if debug:
        traceback.print_exc()
    # One line each, however long: logs and CI grep for them.
    for line in message.splitlines() or [""]:
        err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def require_database(warehouse: Path, debug: bool) -> Path:
    """The published DuckDB file of ``warehouse``; exit 1 (nothing published) when absent.

    Every command that reads the warehouse says the same thing with the same code.
    """
    database = warehouse / "paperlake.duckdb"
    if not database.is_file():
        fail(nothing_published(warehouse), debug, EXIT_FAILED)
    return database


def nothing_published(warehouse: Path) -> str:
    if not warehouse.exists():
        return f"{warehouse}: no such warehouse folder; run `paperlake refresh` first"
    return f"{warehouse}: nothing is published there; run `paperlake refresh` first"


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
