"""Format C: a Hugging Face "Daily Papers" listing.

A page header, the listing date, then records: a title, an abstract and an
optional trailer of three lines ("• 3 authors" or an organisation, "·", the
date with an optional upvote count). Titles and abstracts are told apart by
shape: an abstract is a long paragraph, a title a short line.
"""

from __future__ import annotations

import polars as pl

from pipelines.extract.assemble import (
    FURNITURE,
    RECORD,
    REJECT,
    attach_labels,
    first_in_file,
    non_blank,
    shift_in_file,
    with_file,
)
from pipelines.extract.patterns import DATE, PAGE_LINKS, collapse_spaces
from pipelines.extract.registry import ParsedDump, register_format, scores_frame

# Lines the site prints around the listing: page furniture, not data.
PAGE_FURNITURE = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)
AUTHOR_COUNT = r"^•\s*(\d+)\s+authors?$"
SEPARATOR = "·"
DATE_LINE = rf"^(?P<date_text>{DATE})(?:\s+(?P<upvotes>\d+))?$"
# An abstract is a paragraph; the longest titles seen are well under this.
ABSTRACT_MIN_CHARS = 200


def detect_daily_papers(lines: pl.DataFrame) -> pl.DataFrame:
    nb = non_blank(lines)
    stats = (
        nb.with_columns(
            furniture=pl.col("content").is_in(PAGE_FURNITURE),
            counts=pl.col("content").str.contains(AUTHOR_COUNT),
            seps=pl.col("content") == SEPARATOR,
        )
        .group_by("file")
        .agg(pl.col("furniture", "counts", "seps").sum())
    )
    stats = lines["file"].unique().to_frame().join(stats, on="file", how="left")

    def score(row: dict) -> tuple[float, str]:
        if row["furniture"] is None:
            return 0.0, "no text"
        furniture, counts, seps = row["furniture"], row["counts"], row["seps"]
        return (
            min(1.0, 0.2 * furniture + 0.1 * counts + 0.1 * seps),
            f"{furniture} header lines, {counts} author-count lines, {seps} '·' separators",
        )

    return scores_frame(stats, score)


@register_format(
    "daily_papers",
    "C: Hugging Face Daily Papers listing (title, abstract, author count, date)",
    detect_daily_papers,
)
def parse_daily_papers(lines: pl.DataFrame) -> ParsedDump:
    """Parse a Daily Papers listing (format C)."""
    lines = with_file(lines)
    nb = non_blank(lines).with_columns(
        is_furniture=pl.col("content").is_in(PAGE_FURNITURE)
        | pl.col("content").str.contains(PAGE_LINKS)
    )
    # Page furniture is no part of any record, wherever it stands: the record
    # logic below reads the lines around it as if it were not there.
    furniture = nb.filter(pl.col("is_furniture")).with_columns(
        role=pl.lit(FURNITURE), rec=pl.lit(None, pl.Int64), reason=pl.lit(None, pl.String)
    )
    nb = nb.filter(~pl.col("is_furniture")).with_columns(
        is_sep=pl.col("content") == SEPARATOR,
        is_count=pl.col("content").str.contains(AUTHOR_COUNT),
        is_date=pl.col("content").str.contains(DATE_LINE),
    )
    nb = nb.with_columns(
        # The trailer: "<count or organisation>", "·", "<date> [upvotes]".
        is_trailer_date=pl.col("is_date") & shift_in_file(pl.col("is_sep"), 1, False),
        is_trailer_head=shift_in_file(pl.col("is_sep"), -1, False) & ~pl.col("is_sep"),
    )
    # The listing date: a date alone on its line before any trailer.
    first_trailer = pl.col("idx").filter(pl.col("is_sep")).min().over("file")
    nb = nb.with_columns(before_records=pl.col("idx") < first_trailer.fill_null(2**62))
    before_records = pl.col("before_records")
    nb = nb.with_columns(
        is_listing_date=pl.col("is_date")
        & ~pl.col("is_trailer_date")
        & before_records
        & (pl.col("is_date") & before_records).cast(pl.Int64).cum_sum().over("file").eq(1),
    )
    is_text = ~(
        pl.col("is_sep")
        | pl.col("is_trailer_date")
        | pl.col("is_trailer_head")
        | pl.col("is_listing_date")
    )
    is_long = pl.col("content").str.len_chars() >= ABSTRACT_MIN_CHARS
    nb = nb.with_columns(is_text=is_text, is_long=is_long)
    nb = nb.with_columns(
        # A title is a short text line directly followed by a long one.
        is_title=pl.col("is_text")
        & ~pl.col("is_long")
        & shift_in_file(pl.col("is_text") & pl.col("is_long"), -1, False),
    )
    nb = nb.with_columns(
        is_abstract=pl.col("is_text")
        & pl.col("is_long")
        & shift_in_file(pl.col("is_title"), 1, False)
    )
    # A trailer belongs to the record whose abstract it directly follows.
    nb = nb.with_columns(
        title_no=pl.when(pl.col("is_title")).then(pl.col("is_title").cast(pl.Int64).cum_sum()),
        follows_abstract=shift_in_file(pl.col("is_abstract"), 1, False),
    )
    nb = nb.with_columns(
        trailer_ok=(pl.col("is_trailer_head") & pl.col("follows_abstract")),
    )
    nb = nb.with_columns(
        trailer_ok=pl.col("trailer_ok")
        | (pl.col("is_sep") & shift_in_file(pl.col("trailer_ok"), 1, False))
    ).with_columns(
        trailer_ok=pl.col("trailer_ok")
        | (pl.col("is_trailer_date") & shift_in_file(pl.col("trailer_ok"), 1, False))
    )
    in_record = pl.col("is_title") | pl.col("is_abstract") | pl.col("trailer_ok")
    nb = nb.with_columns(
        rec=pl.when(in_record).then(pl.col("title_no").forward_fill().over("file")),
        role=pl.when(in_record)
        .then(pl.lit(RECORD))
        .when(pl.col("is_listing_date"))
        .then(pl.lit(FURNITURE))
        .otherwise(pl.lit(REJECT)),
        reason=pl.when(in_record | pl.col("is_listing_date"))
        .then(None)
        .when(pl.col("is_sep") | pl.col("is_trailer_head") | pl.col("is_trailer_date"))
        .then(pl.lit("author/date trailer with no title and abstract before it"))
        .when(pl.col("is_long"))
        .then(pl.lit("paragraph with no title before it"))
        .otherwise(pl.lit("line with no abstract after it (cut-off record or stray text)")),
    )

    def pick(flag: str) -> pl.Expr:
        return pl.col("content").filter(pl.col(flag)).first()

    records = (
        nb.filter(pl.col("role") == RECORD)
        .group_by("rec")
        .agg(
            file=pl.col("file").first(),
            title=pick("is_title"),
            abstract=pick("is_abstract"),
            head=pl.col("content").filter(pl.col("is_trailer_head")).first(),
            head_no=pl.col("line_no").filter(pl.col("is_trailer_head")).first(),
            date_line=pl.col("content").filter(pl.col("is_trailer_date")).first(),
            date_no=pl.col("line_no").filter(pl.col("is_trailer_date")).first(),
        )
    )
    date_parts = pl.col("date_line").str.extract_groups(DATE_LINE)
    # A number too large to store is left empty, with a note, never a failure.
    digits = {
        "author_count": (pl.col("head").str.extract(AUTHOR_COUNT, 1), "head_no"),
        "upvotes": (date_parts.struct.field("upvotes"), "date_no"),
    }
    records = records.with_columns(
        **{f"{name}_digits": text for name, (text, _) in digits.items()}
    ).with_columns(
        **{name: pl.col(f"{name}_digits").cast(pl.Int64, strict=False) for name in digits}
    )
    notes = pl.concat(
        [
            records.filter(pl.col(f"{name}_digits").is_not_null() & pl.col(name).is_null()).select(
                "file",
                line_no=line,
                note=pl.format(
                    "line {}: {} {} is too large to store; left empty",
                    line,
                    pl.lit(name),
                    pl.col(f"{name}_digits"),
                ),
            )
            for name, (_, line) in digits.items()
        ]
    )
    count = pl.col("author_count_digits")
    records = records.with_columns(
        title=collapse_spaces(pl.col("title")),
        affiliations=pl.when(pl.col("head").is_not_null() & count.is_null())
        .then(pl.concat_list(pl.col("head")))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        authors=pl.lit([], dtype=pl.List(pl.String)),
        # No names are printed, so whatever the count, the list is incomplete.
        authors_truncated=pl.lit(True),
        date_text=date_parts.struct.field("date_text"),
        # A trailer that lost its date line.
        incomplete=pl.col("head").is_not_null() & pl.col("date_line").is_null(),
    )
    profile = first_in_file(
        nb.filter(pl.col("is_listing_date")),
        pl.col("content"),
        lines["file"].unique().sort(),
        "listing_date_text",
    )
    labelled = pl.concat(
        [
            nb.select("file", "line_no", "role", "rec", "reason"),
            furniture.select("file", "line_no", "role", "rec", "reason"),
        ]
    )
    return ParsedDump(attach_labels(lines, labelled), records, profile, notes)
