"""The quarantine: lines no parser could place, with their reasons."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.errors import PaperlakeError
from pipelines.look.database import frame

VIEWS = ("rejects", "sources")


def resolve_file(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The ``source_file`` a user means by ``name``: the name itself (relative to
    the raw folder), or a path ending in it (``raw/000.txt``).

    PaperlakeError when no input file of the warehouse matches.
    """
    files = frame(con, "select source_file from sources order by source_file")["source_file"]
    wanted = name.replace("\\", "/").removeprefix("./")
    if wanted in files:
        return wanted
    ends = [f for f in files if wanted.endswith("/" + f)]
    if len(ends) == 1:
        return ends[0]
    raise PaperlakeError(
        f"{name}: not an input file of this warehouse "
        f"({files.len()} files; `paperlake status` lists them)"
    )


def quarantined(con: duckdb.DuckDBPyConnection, source_file: str | None = None) -> pl.DataFrame:
    """Quarantined line runs in file and line order, optionally of one input file.

    Whole files that were quarantined (empty, binary, unrecognised) are runs too.
    """
    return frame(
        con,
        """
        select r.source_file, r.line_start, r.line_end, r.reason, r.raw_text,
               s.format is null as whole_file
        from rejects r
        join sources s using (source_file)
        where $file is null or r.source_file = $file
        order by r.source_file, r.line_start nulls first, r.line_end
        """,
        {"file": source_file},
    )


def by_reason(runs: pl.DataFrame) -> pl.DataFrame:
    """Runs, lines and files per reason, most lines first."""
    return (
        runs.with_columns(n_lines=(pl.col("line_end") - pl.col("line_start") + 1).fill_null(0))
        .group_by("reason")
        .agg(
            runs=pl.len(),
            lines=pl.col("n_lines").sum(),
            files=pl.col("source_file").n_unique(),
        )
        .sort(["lines", "reason"], descending=[True, False])
    )


def where(line_start: int | None, line_end: int | None) -> str:
    """``12`` or ``12-14``; ``(empty)`` for an empty file."""
    if line_start is None:
        return "(empty)"
    return str(line_start) if line_start == line_end else f"{line_start}-{line_end}"
