"""The fixed schemas of what extraction produces.

Dashboards and checks are written against these names: add columns at the end,
never rename or drop one.
"""

from __future__ import annotations

import polars as pl

STRINGS = pl.List(pl.String)

RECORDS = pl.Schema(
    {
        "source_file": pl.String,
        "record_index": pl.Int64,  # 0-based order of the record in its file
        "line_start": pl.Int64,  # 1-based, first line of the record
        "line_end": pl.Int64,  # 1-based, last line of the record
        "format": pl.String,
        "title": pl.String,
        "authors": STRINGS,  # "Given Family", as printed, without "et al."
        "authors_truncated": pl.Boolean,  # the page cut the list ("et al.", or no names)
        "author_count": pl.Int64,  # the printed count ("• 12 authors")
        "affiliations": STRINGS,  # organisations, distinct, in printed order
        "category": pl.String,  # arXiv code as printed, e.g. "LG"
        "has_code": pl.Boolean,
        "date_text": pl.String,
        "published_date": pl.Date,
        "upvotes": pl.Int64,
        "abstract": pl.String,
        # Additions beyond the v0 contract.
        "record_id": pl.String,  # "<source_file>#<record_index>"
        "author_affiliations": STRINGS,  # aligned with authors when printed per author
        "title_split": pl.String,  # collapsed pages: how title and authors were split
        "is_cut": pl.Boolean,  # the file's last record, cut off by the end of the file
        "is_future_date": pl.Boolean,  # published_date after the capture date
    }
)

REJECTS = pl.Schema(
    {
        "source_file": pl.String,
        "line_start": pl.Int64,
        "line_end": pl.Int64,
        "reason": pl.String,
        "raw_text": pl.String,
    }
)

PROFILES = pl.Schema(
    {
        "source_file": pl.String,
        "format": pl.String,
        "owner_name": pl.String,  # "Given Family"
        "primary_category": pl.String,
        "h_index": pl.Int64,
        "paper_count": pl.Int64,  # "14papers"
        "citation_count": pl.Int64,
        "novelty_pct": pl.Int64,
        "ai_score": pl.Int64,
        "listed_paper_count": pl.Int64,  # "14 Papers" above the list
        "listing_date_text": pl.String,  # daily listing: the day shown
        "listing_date": pl.Date,
    }
)

SOURCES = pl.Schema(
    {
        "source_file": pl.String,
        "sha256": pl.String,
        "format": pl.String,
        "capture_date": pl.Date,
        "capture_date_origin": pl.String,  # "as-of", "manifest" or "file-mtime"
        "n_lines": pl.Int64,
        "n_records": pl.Int64,
        "n_rejected_lines": pl.Int64,
        "n_furniture_lines": pl.Int64,
        # Additions beyond the v0 contract.
        # Lines of records: their spans, less lines quarantined alone inside them.
        "n_record_lines": pl.Int64,
        "encoding": pl.String,
        "format_reason": pl.String,
        "notes": pl.String,
    }
)


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select the schema's columns in order, adding missing ones as nulls."""
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )
