"""Shared steps every parser ends with: line roles to records and rejects.

Parsers work on the lines of many files at once (a ``file`` column tells them
apart), so every regular expression and group-by runs once per batch, not
once per file. Parsers label each non-blank line; this module decides blank
lines, gives records their line spans and indexes, groups rejected lines into
quarantine rows, and resolves printed dates against the capture date.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from pipelines.extract.patterns import FINISHED_TEXT, resolve_date
from pipelines.extract.registry import ParsedDump
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, conform

RECORD, FURNITURE, REJECT = "record", "furniture", "reject"

_NO_NOTES = pl.DataFrame(schema={"file": pl.Int64, "line_no": pl.Int64, "note": pl.String})


class Finished(NamedTuple):
    """What ``finish`` makes of a batch: tables with a ``file`` column."""

    records: pl.DataFrame
    rejects: pl.DataFrame
    counts: pl.DataFrame  # file, n_furniture, n_record_lines
    profiles: pl.DataFrame
    notes: pl.DataFrame  # file, note ("<source_file> line 3: ...")


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

    A line between two lines of the same record that is not quarantined (a
    blank line, or known furniture that is no field) belongs to that record,
    so a record is one span of lines; a line quarantined alone inside it keeps
    its own quarantine row. A blank line between two lines quarantined for the
    same reason belongs to the quarantine; every other blank line is furniture
    (a separator).
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
    # The record of the nearest record line on each side.
    record_of = pl.when(pl.col("role") == RECORD).then(pl.col("rec"))
    # For blank lines, the quarantine reason of the nearest labelled line on
    # each side ("" when that line is not quarantined).
    why = (
        pl.when(pl.col("role").is_null())
        .then(None)
        .otherwise(pl.when(pl.col("role") == REJECT).then(pl.col("reason")).otherwise(pl.lit("")))
    )
    out = out.with_columns(
        before=record_of.forward_fill().over("file"),
        after=record_of.backward_fill().over("file"),
        why_before=why.forward_fill().over("file"),
        why_after=why.backward_fill().over("file"),
    ).with_columns(
        # A blank line inside a quarantined run stays with it: one reject row.
        in_reject=pl.col("role").is_null()
        & (pl.col("why_before") == pl.col("why_after"))
        & (pl.col("why_before") != ""),
    )
    out = out.with_columns(
        interior=~pl.col("in_reject")
        & pl.col("role").ne_missing(pl.lit(RECORD))
        & pl.col("role").ne_missing(pl.lit(REJECT))
        & (pl.col("before") == pl.col("after")).fill_null(False),
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


def _record_flags(records: pl.DataFrame) -> pl.DataFrame:
    """Flag what a record says about its own damage.

    ``is_cut``: the file's last record, with fields the format always prints
    missing (``incomplete``) or an abstract that stops mid-sentence: the end
    of the file cut it. ``is_future_date``: a printed date after the capture
    date (a year-less date never is one: it resolves into the past).
    """
    if "incomplete" not in records.columns:
        records = records.with_columns(incomplete=pl.lit(False))
    abstract = pl.col("abstract").str.strip_chars()
    unfinished = abstract.is_null() | ~abstract.str.contains(FINISHED_TEXT).fill_null(False)
    last = pl.col("record_index") == pl.col("record_index").max().over("file")
    return records.with_columns(
        incomplete=pl.col("incomplete").fill_null(False),
    ).with_columns(
        is_cut=last & (pl.col("incomplete") | unfinished),
        is_future_date=(pl.col("published_date") > pl.col("capture_date")).fill_null(False),
    )


def _flag_notes(records: pl.DataFrame) -> pl.DataFrame:
    """One note per flagged record (file, line_no, note), in line order."""
    lines = pl.format("lines {}-{}", "line_start", "line_end")
    cut = records.filter(pl.col("is_cut")).select(
        "file",
        line_no="line_start",
        note=pl.format(
            "{}: record cut off by the end of the file ({}); kept, flagged is_cut",
            lines,
            pl.when(pl.col("abstract").is_null())
            .then(pl.lit("no abstract"))
            .when(pl.col("incomplete"))
            .then(pl.lit("fields missing"))
            .otherwise(pl.lit("its abstract stops mid-sentence")),
        ),
    )
    future = records.filter(pl.col("is_future_date")).select(
        "file",
        line_no="line_start",
        note=pl.format(
            "{}: date {} is after the capture date {}; kept, flagged is_future_date",
            lines,
            "date_text",
            pl.col("capture_date").cast(pl.String),
        ),
    )
    return pl.concat([cut, future])


def file_notes(notes: pl.DataFrame, about: pl.DataFrame) -> pl.DataFrame:
    """Notes (file, line_no, note) as "<source_file> <note>" strings, by file and line."""
    return (
        notes.join(about.select("file", "source_file"), on="file")
        .sort("file", "line_no", "note")
        .select("file", note=pl.format("{} {}", "source_file", "note"))
    )


def finish(parsed: ParsedDump, files: pl.DataFrame) -> Finished:
    """Turn a parser's output into the records, rejects, line counts, profiles and notes of
    a batch.

    ``files`` has one row per file of the batch: ``file``, ``source_file``,
    ``format`` and ``capture_date``. Each output keeps the ``file`` column;
    ``counts`` has ``n_furniture`` and ``n_record_lines`` per file, ``profiles``
    one row per file, ``notes`` one row per note (``file``, ``note``).
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
    records = _record_flags(records)
    counts = lines.group_by("file").agg(
        n_furniture=(pl.col("role") == FURNITURE).sum().cast(pl.Int64),
        n_record_lines=(pl.col("role") == RECORD).sum().cast(pl.Int64),
    )
    counts = (
        about.select("file")
        .join(counts, on="file", how="left")
        .with_columns(pl.col("n_furniture", "n_record_lines").fill_null(0))
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
    parser_notes = parsed.notes if parsed.notes is not None else _NO_NOTES
    notes = pl.concat([parser_notes.select(list(_NO_NOTES.columns)), _flag_notes(records)])
    return Finished(
        conform(records, RECORDS).with_columns(records["file"]),
        conform(rejects, REJECTS).with_columns(rejects["file"]),
        counts,
        conform(profiles, PROFILES).with_columns(profiles["file"]),
        file_notes(notes, about),
    )
