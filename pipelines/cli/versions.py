"""``paperlake status`` and ``paperlake rollback``: the published version and the kept ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipelines.cli.common import (
    EXIT_USAGE,
    WAREHOUSE_OPTION,
    app,
    console,
    fail,
    nothing_published,
)
from pipelines.errors import PaperlakeError


@app.command()
def status(
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
) -> None:
    """Print the published version: when and from which inputs it was built, its counts."""
    from pipelines import store

    try:
        current = store.current_version(warehouse)
        holder = store.lock_holder(warehouse)
        if current is None:
            if (warehouse / store.DATABASE).is_file():
                console.print(
                    f"{warehouse} was published by a paperlake without versions; "
                    "the next refresh makes it version 1."
                )
                return
            fail(nothing_published(warehouse), False)
        info = store.read_build_info(warehouse, current)
        kept = store.version_ids(warehouse)
        infos = {v: store.read_build_info(warehouse, v) for v in kept}
    except PaperlakeError as err:
        fail(str(err), False)
    except OSError as err:
        fail(f"{err.filename or warehouse}: {err.strerror or err}", False)

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
    console.print(escape(prefect_api_line()), highlight=False)

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


def prefect_api_line() -> str:
    """Which Prefect API the next refresh reports to, and whether it answers."""
    from pipelines.server import configured_api_url, is_healthy

    url = configured_api_url()
    if url is None:
        return (
            "Prefect: no server configured; a refresh starts a temporary one for its run "
            "(set PREFECT_API_URL to use a running server)."
        )
    state = "answers" if is_healthy(url) else "does not answer"
    return f"Prefect: refreshes report to {url} ({state})."


@app.command()
def rollback(
    to: Annotated[
        str | None,
        typer.Option("--to", help="Version to publish again (default: the one before)."),
    ] = None,
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
) -> None:
    """Publish an older kept version again (see paperlake status)."""
    from pipelines import store

    if to is not None and not to.removeprefix("v").isdigit():
        fail(f"--to {to!r}: a version is a number, as paperlake status lists", False, EXIT_USAGE)
    # Checked before the lock is taken: taking it would create the folder.
    if not warehouse.is_dir() or store.current_version(warehouse) is None:
        if (warehouse / store.DATABASE).is_file():  # published before versions existed
            fail(f"{warehouse}: no kept version to roll back to", False)
        fail(nothing_published(warehouse), False)
    try:
        was, now = store.rollback(warehouse, to.removeprefix("v") if to else None)
    except PaperlakeError as err:
        fail(str(err), False)
    except OSError as err:
        fail(f"{err.filename or warehouse}: {err.strerror or err}", False)
    console.print(f"Rolled back: version {now} is published (was {was}).", highlight=False)
