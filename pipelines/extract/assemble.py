"""Shared steps every parser ends with: line roles to records and rejects.

Parsers work on the lines of many files at once (a ``file`` column tells them
apart), so every regular expression and group-by runs once per batch, not
once per file. Parsers label each non-blank line; this module decides blank
lines, gives records their line spans and indexes, groups rejected lines into
quarantine rows, and resolves printed dates against the capture date.
"""

from __future__ import annotations

import polars as pl

from pipelines.extract.patterns import resolve_date
from pipelines.extract.registry import ParsedDump
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, conform

RECORD, FURNITURE, REJECT = "record", "furniture", "reject"


def with_file(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines of one file (no ``file`` column) as a batch of one file (``file`` = 0)."""
    if "file" in lines.columns:
        return lines
    return lines.select(pl.lit(0, dtype=pl.Int64).alias("file"), pl.all())


def shift_in_file(expr: pl.Expr, n: int = 1, fill: object = None) -> pl.Expr:
    """``expr`` of the line ``n`` rows before (after, for negative ``n``) in the same file.

    Rows must be in (file, line) order; across a file boundary the value is ``fill``.
    """
    same_file = pl.col("file").shift(n) == pl.col("file")
    shifted = pl.when(same_file).then(expr.shift(n))
    return shifted if fill is None else shifted.otherwise(pl.lit(fill)).fill_null(fill)


def non_blank(lines: pl.DataFrame) -> pl.DataFrame:
    """The non-blank lines, with ``content`` (trimmed) and ``idx`` (0-based among them in
    their file)."""
    return (
        with_file(lines)
        .with_columns(content=pl.col("text").str.strip_chars())
        .filter(pl.col("content") != "")
        .with_columns(idx=pl.int_range(pl.len(), dtype=pl.Int64).over("file"))
    )


def first_in_file(frame: pl.DataFrame, value: pl.Expr, files: pl.Series, name: str) -> pl.DataFrame:
    """One row per file of ``files``: the first non-null ``value`` of its rows (or null)."""
    firsts = frame.group_by("file").agg(value.drop_nulls().first().alias(name))
    return files.to_frame("file").join(firsts, on="file", how="left")


def attach_labels(lines: pl.DataFrame, labelled: pl.DataFrame) -> pl.DataFrame:
    """Join the labels of non-blank lines back onto all lines.

    A blank line between two lines of the same record belongs to that record,
    one between two lines quarantined for the same reason to the quarantine;
    every other blank line is furniture (a separator).
    """
    out = (
        with_file(lines)
        .join(
            labelled.select("file", "line_no", "role", "rec", "reason"),
            on=["file", "line_no"],
            how="left",
        )
        .sort("file", "line_no")
    )
    # For blank lines, the record of the nearest non-blank line on each side
    # (-1 when that line is not part of a record, or there is none in the file).
    owner = pl.when(pl.col("role").is_null()).then(None).otherwise(pl.col("rec").fill_null(-1))
    # Likewise the quarantine reason of the nearest rejected line on each side.
    why = (
        pl.when(pl.col("role").is_null())
        .then(None)
        .otherwise(pl.when(pl.col("role") == REJECT).then(pl.col("reason")).otherwise(pl.lit("")))
    )
    out = out.with_columns(
        before=owner.forward_fill().over("file"),
        after=owner.backward_fill().over("file"),
        why_before=why.forward_fill().over("file"),
        why_after=why.backward_fill().over("file"),
    ).with_columns(
        interior=pl.col("role").is_null()
        & (pl.col("before") == pl.col("after"))
        & (pl.col("before") >= 0),
        # A blank line inside a quarantined run stays with it: one reject row.
        in_reject=pl.col("role").is_null()
        & (pl.col("why_before") == pl.col("why_after"))
        & (pl.col("why_before") != ""),
    )
    return out.with_columns(
        role=pl.when(pl.col("interior"))
        .then(pl.lit(RECORD))
        .when(pl.col("in_reject"))
        .then(pl.lit(REJECT))
        .otherwise(pl.col("role").fill_null(FURNITURE)),
        rec=pl.when(pl.col("interior")).then(pl.col("before")).otherwise(pl.col("rec")),
        reason=pl.when(pl.col("in_reject")).then(pl.col("why_before")).otherwise(pl.col("reason")),
    ).select("file", "line_no", "text", "role", "rec", "reason")


def reject_runs(lines: pl.DataFrame) -> pl.DataFrame:
    """Group consecutive rejected lines of a file with the same reason into quarantine rows.

    Returns the rows with ``file`` in place of ``source_file``.
    """
    rejected = lines.filter(pl.col("role") == REJECT)
    run = (
        (
            (pl.col("line_no").diff() != 1)
            | (pl.col("file") != pl.col("file").shift())
            | (pl.col("reason") != pl.col("reason").shift())
        )
        .fill_null(True)
        .cum_sum()
    )
    return (
        rejected.with_columns(run=run)
        .group_by("run", maintain_order=True)
        .agg(
            file=pl.col("file").first(),
            line_start=pl.col("line_no").min(),
            line_end=pl.col("line_no").max(),
            reason=pl.col("reason").first(),
            raw_text=pl.col("text").str.join("\n"),
        )
        .drop("run")
    )


def finish(
    parsed: ParsedDump, files: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Turn a parser's output into (records, rejects, furniture, profiles) of a batch.

    ``files`` has one row per file of the batch: ``file``, ``source_file``,
    ``format`` and ``capture_date``. Each output keeps the ``file`` column;
    ``furniture`` has ``n_furniture`` per file, ``profiles`` one row per file.
    """
    lines = parsed.lines
    about = files.select("file", "source_file", "format", "capture_date")
    spans = (
        lines.filter(pl.col("role") == RECORD)
        .group_by("rec")
        .agg(line_start=pl.col("line_no").min(), line_end=pl.col("line_no").max())
    )
    records = parsed.records
    if "date_text" not in records.columns:
        records = records.with_columns(date_text=pl.lit(None, dtype=pl.String))
    records = (
        records.join(spans, on="rec", how="inner")
        .join(about, on="file", how="inner")
        .sort("file", "line_start")
        .with_columns(record_index=pl.int_range(pl.len(), dtype=pl.Int64).over("file"))
        .with_columns(
            record_id=pl.format("{}#{}", "source_file", "record_index"),
            published_date=resolve_date(pl.col("date_text"), pl.col("capture_date")),
        )
    )
    furniture = (
        lines.filter(pl.col("role") == FURNITURE)
        .group_by("file")
        .agg(n_furniture=pl.len().cast(pl.Int64))
    )
    furniture = (
        about.select("file")
        .join(furniture, on="file", how="left")
        .with_columns(pl.col("n_furniture").fill_null(0))
    )
    profiles = (
        about.join(parsed.profile, on="file", how="left")
        .with_columns(
            listing_date=resolve_date(
                pl.col("listing_date_text")
                if "listing_date_text" in parsed.profile.columns
                else pl.lit(None, dtype=pl.String),
                pl.col("capture_date"),
            )
        )
        .sort("file")
    )
    rejects = reject_runs(lines).join(about.select("file", "source_file"), on="file")
    return (
        conform(records, RECORDS).with_columns(records["file"]),
        conform(rejects, REJECTS).with_columns(rejects["file"]),
        furniture,
        conform(profiles, PROFILES).with_columns(profiles["file"]),
    )
