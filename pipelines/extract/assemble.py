"""Shared steps every parser ends with: line roles to records and rejects.

Parsers label each non-blank line; this module decides blank lines, gives
records their line spans and indexes, groups rejected lines into quarantine
rows, and resolves printed dates against the capture date.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.extract.patterns import resolve_date
from pipelines.extract.registry import ParsedDump
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, conform

RECORD, FURNITURE, REJECT = "record", "furniture", "reject"


def non_blank(lines: pl.DataFrame) -> pl.DataFrame:
    """The non-blank lines, with ``content`` (trimmed) and ``idx`` (0-based among them)."""
    return (
        lines.with_columns(content=pl.col("text").str.strip_chars())
        .filter(pl.col("content") != "")
        .with_row_index("idx")
        .with_columns(pl.col("idx").cast(pl.Int64))
    )


def attach_labels(lines: pl.DataFrame, labelled: pl.DataFrame) -> pl.DataFrame:
    """Join the labels of non-blank lines back onto all lines.

    A blank line between two lines of the same record belongs to that record,
    one between two lines quarantined for the same reason to the quarantine;
    every other blank line is furniture (a separator).
    """
    out = lines.join(
        labelled.select("line_no", "role", "rec", "reason"), on="line_no", how="left"
    ).sort("line_no")
    # For blank lines, the record of the nearest non-blank line on each side
    # (-1 when that line is not part of a record).
    owner = pl.when(pl.col("role").is_null()).then(None).otherwise(pl.col("rec").fill_null(-1))
    # Likewise the quarantine reason of the nearest rejected line on each side.
    why = (
        pl.when(pl.col("role").is_null())
        .then(None)
        .otherwise(pl.when(pl.col("role") == REJECT).then(pl.col("reason")).otherwise(pl.lit("")))
    )
    out = out.with_columns(
        before=owner.forward_fill(),
        after=owner.backward_fill(),
        why_before=why.forward_fill(),
        why_after=why.backward_fill(),
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
    ).select("line_no", "text", "role", "rec", "reason")


def reject_runs(lines: pl.DataFrame, source_file: str) -> pl.DataFrame:
    """Group consecutive rejected lines with the same reason into quarantine rows."""
    rejected = lines.filter(pl.col("role") == REJECT)
    if rejected.is_empty():
        return pl.DataFrame(schema=REJECTS)
    run = (
        ((pl.col("line_no").diff() != 1) | (pl.col("reason") != pl.col("reason").shift()))
        .fill_null(True)
        .cum_sum()
    )
    grouped = (
        rejected.with_columns(run=run)
        .group_by("run", maintain_order=True)
        .agg(
            line_start=pl.col("line_no").min(),
            line_end=pl.col("line_no").max(),
            reason=pl.col("reason").first(),
            raw_text=pl.col("text").str.join("\n"),
        )
        .with_columns(source_file=pl.lit(source_file))
    )
    return conform(grouped, REJECTS)


def finish(
    parsed: ParsedDump, source_file: str, format_name: str, capture_date: date
) -> tuple[pl.DataFrame, pl.DataFrame, int, pl.DataFrame]:
    """Turn a parser's output into (records, rejects, furniture count, profile row)."""
    lines = parsed.lines
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
        .sort("line_start")
        .with_row_index("record_index")
        .with_columns(
            pl.col("record_index").cast(pl.Int64),
            source_file=pl.lit(source_file),
            format=pl.lit(format_name),
            capture_date=pl.lit(capture_date, dtype=pl.Date),
        )
        .with_columns(
            record_id=pl.format("{}#{}", "source_file", "record_index"),
            published_date=resolve_date(pl.col("date_text"), pl.col("capture_date")),
        )
    )
    n_furniture = lines.filter(pl.col("role") == FURNITURE).height
    profile = conform(
        pl.DataFrame([{**parsed.profile, "source_file": source_file, "format": format_name}]),
        PROFILES,
    ).with_columns(
        listing_date=resolve_date(pl.col("listing_date_text"), pl.lit(capture_date, dtype=pl.Date))
    )
    return (
        conform(records, RECORDS),
        reject_runs(lines, source_file),
        n_furniture,
        profile,
    )
