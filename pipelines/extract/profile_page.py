"""Formats A and B: an author's profile page, full or collapsed.

Full (A): a header of profile facts, then records of four lines separated by
blank lines: "<CATEGORY><date>[Code]", title, author list, abstract.

Collapsed (B): no header and no blank lines, and the title is glued to the
author list ("...Attributed GraphsKay Liu, Yingtong Dou et al.").

Both are parsed the same way: a category/date line starts a record and the
lines up to the next one fill its fields by position.
"""

from __future__ import annotations

import polars as pl

from pipelines.extract.assemble import (
    FURNITURE,
    RECORD,
    REJECT,
    attach_labels,
    non_blank,
    with_file,
)
from pipelines.extract.patterns import (
    AUTHOR_LIST,
    GLUED_FALLBACK,
    GLUED_TITLE_AUTHORS,
    META,
    collapse_spaces,
    only_where,
    split_author_line,
)
from pipelines.extract.registry import ParsedDump, register_format, scores_frame

# Page-header facts, one per line, and the column each fills.
HEADER_FACTS = {
    "h_index": r"^h-index\s*([\d,]+)$",
    "paper_count": r"^([\d,]+)\s*papers$",
    "citation_count": r"^([\d,]+)\s*citations$",
    "novelty_pct": r"^Novelty\s*([\d,]+)\s*%$",
    "ai_score": r"^AI Score\s*([\d,]+)$",
    "listed_paper_count": r"^([\d,]+) Papers?$",
}
CATEGORY_ONLY = r"^[A-Z][A-Z0-9-]*$"
# An abstract is a paragraph; titles and author lines are far shorter.
ABSTRACT_MIN_CHARS = 200


def _segments(lines: pl.DataFrame) -> pl.DataFrame:
    """Non-blank lines with ``seg`` and ``pos`` in it.

    A segment is a file's header (the lines before its first category/date
    line; it may be missing) or one record. ``seg`` is unique in the batch;
    ``is_header`` marks header segments.
    """
    nb = non_blank(lines).with_columns(is_meta=pl.col("content").str.contains(META))
    starts = pl.col("is_meta") | (pl.col("idx") == 0)
    return nb.with_columns(seg=starts.cast(pl.Int64).cum_sum()).with_columns(
        pos=pl.int_range(pl.len()).over("seg"),
        seg_size=pl.len().over("seg"),
        is_header=~pl.col("is_meta").first().over("seg"),
    )


def _detect(lines: pl.DataFrame, *, record_lines: int, glued: bool) -> pl.DataFrame:
    """Per file: n_meta and the share of category/date lines followed by a whole record."""
    seg = _segments(lines)
    # The last record may be cut short by the end of the file or the detection
    # window: any prefix of a record counts for it.
    fits = (pl.col("seg_size") == record_lines) | (
        (pl.col("seg") == pl.col("seg").max().over("file")) & (pl.col("seg_size") <= record_lines)
    )
    # Flags over the whole column first: an expression inside an aggregation
    # runs once per file.
    second = pl.col("pos") == 1
    title_glued = only_where(second, pl.col("content")).str.contains(GLUED_TITLE_AUTHORS)
    stats = (
        seg.with_columns(
            fits=fits,
            n_facts=pl.sum_horizontal(
                pl.col("content").str.contains(rx).cast(pl.Int64) for rx in HEADER_FACTS.values()
            ),
            glued=pl.when(second).then(title_glued) if glued else pl.lit(None, pl.Boolean),
        )
        .group_by("file")
        .agg(
            n_meta=pl.col("is_meta").sum(),
            share=pl.col("fits").filter(pl.col("is_meta")).mean(),
            n_facts=pl.col("n_facts").sum(),
            glued=pl.col("glued").mean(),
        )
    )
    files = lines["file"].unique().to_frame()
    return files.join(stats, on="file", how="left").with_columns(
        pl.col("n_meta", "n_facts").fill_null(0)
    )


def _share_reason(row: dict, record_lines: int) -> tuple[float, str]:
    if not row["n_meta"]:
        return 0.0, "no category/date lines"
    share = float(row["share"])
    reason = (
        f"{row['n_meta']} category/date lines, {share:.0%} followed by {record_lines - 1} lines"
    )
    return share, reason


def detect_profile_page(lines: pl.DataFrame) -> pl.DataFrame:
    def score(row: dict) -> tuple[float, str]:
        share, reason = _share_reason(row, 4)
        if row["n_facts"]:
            # A page cut off right after its header is still this format.
            share = min(1.0, share + 0.2 * row["n_facts"])
            reason += f"; {row['n_facts']} profile header facts (h-index, papers, ...)"
        return share, reason

    return scores_frame(_detect(lines, record_lines=4, glued=False), score)


def detect_collapsed_profile_page(lines: pl.DataFrame) -> pl.DataFrame:
    def score(row: dict) -> tuple[float, str]:
        share, reason = _share_reason(row, 3)
        glued = float(row["glued"] or 0.0)
        return share * (0.5 + 0.5 * glued), f"{reason}; {glued:.0%} titles glued to authors"

    return scores_frame(_detect(lines, record_lines=3, glued=True), score)


def _header_profile(header: pl.DataFrame, files: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read the header facts; return one profile row per file and the header lines labelled."""
    facts = {
        name: pl.col("content").str.extract(rx, 1).str.replace_all(",", "").cast(pl.Int64)
        for name, rx in HEADER_FACTS.items()
    }
    header = header.with_columns(**facts).with_columns(
        is_fact=pl.any_horizontal(pl.col(name).is_not_null() for name in facts),
        is_category=pl.col("content").str.contains(CATEGORY_ONLY),
    )
    header = header.with_columns(
        is_owner=(pl.col("idx") == 0) & ~pl.col("is_fact") & ~pl.col("is_category"),
        is_category=pl.col("is_category")
        & (pl.col("is_category").cast(pl.Int64).cum_sum().over("file") == 1),
    )
    profile = (
        header.group_by("file")
        .agg(
            *(pl.col(name).drop_nulls().first() for name in facts),
            owner_name=pl.col("content").filter(pl.col("is_owner")).first(),
            primary_category=pl.col("content").filter(pl.col("is_category")).first(),
        )
        .join(files.to_frame("file"), on="file", how="right")
    )
    known = pl.col("is_fact") | pl.col("is_owner") | pl.col("is_category")
    labelled = header.with_columns(
        role=pl.when(known).then(pl.lit(FURNITURE)).otherwise(pl.lit(REJECT)),
        rec=pl.lit(None, dtype=pl.Int64),
        reason=pl.when(known).then(None).otherwise(pl.lit("unrecognised line in the page header")),
    )
    return profile, labelled


def _parse_listing(lines: pl.DataFrame, *, glued: bool) -> ParsedDump:
    lines = with_file(lines)
    seg = _segments(lines)
    profile, header = _header_profile(
        seg.filter(pl.col("is_header")), lines["file"].unique().sort()
    )
    body = seg.filter(~pl.col("is_header"))

    # Fields by position, checked against shape: a paragraph where a title or
    # an author line belongs means that line was lost (a damaged copy).
    is_long = pl.col("content").str.len_chars() >= ABSTRACT_MIN_CHARS
    if glued:
        # A long title glued to its authors is no abstract (only line 1 can be one).
        candidate = is_long & (pl.col("pos") == 1)
        is_long = is_long & ~only_where(candidate, pl.col("content")).str.contains(
            GLUED_TITLE_AUTHORS
        )
    body = body.with_columns(
        first_long=pl.when(is_long & (pl.col("pos") >= 1)).then(pl.col("pos")).min().over("seg")
    )
    names = ["meta", "line1", "line2"] if glued else ["meta", "title", "authors", "abstract"]
    by_pos = pl.col("pos").replace_strict(
        dict(enumerate(names)), default=None, return_dtype=pl.String
    )
    if not glued:
        # Author line lost: the paragraph right after the title is the abstract.
        by_pos = (
            pl.when(pl.col("first_long") == 2)
            .then(
                pl.col("pos").replace_strict(
                    {0: "meta", 1: "title", 2: "abstract"}, default=None, return_dtype=pl.String
                )
            )
            .otherwise(by_pos)
        )
    # A cut or multi-name author list where the title belongs: the title was lost.
    looks_like_authors = pl.col("content").str.contains(rf"^{AUTHOR_LIST}(?: · .+)?$") & (
        pl.col("content").str.contains(", | et al\\.| · ")
    )
    body = body.with_columns(
        authors_first=(looks_like_authors & (pl.col("pos") == 1)).any().over("seg")
    )
    no_title = (pl.col("first_long") == 1) | (
        (pl.col("first_long") == 2) & pl.col("authors_first") & (not glued)
    )
    body = body.with_columns(
        field=by_pos,
        role=pl.when((pl.col("seg_size") == 1) | no_title | by_pos.is_null())
        .then(pl.lit(REJECT))
        .otherwise(pl.lit(RECORD)),
        reason=pl.when(pl.col("seg_size") == 1)
        .then(pl.lit("category/date line with no title after it"))
        .when(no_title)
        .then(pl.lit("record with no title (a paragraph follows its category/date line)"))
        .when(by_pos.is_null())
        .then(pl.lit("unexpected line after the abstract"))
        .otherwise(None),
    ).with_columns(rec=pl.when(pl.col("role") == RECORD).then(pl.col("seg")).otherwise(None))

    def field(name: str) -> pl.Expr:
        return pl.col("content").filter(pl.col("field") == name).first()

    fields = (
        body.filter(pl.col("role") == RECORD)
        .group_by("rec")
        .agg(pl.col("file").first(), **{name: field(name) for name in names})
    )
    meta = pl.col("meta").str.extract_groups(META)
    fields = fields.with_columns(
        category=meta.struct.field("category"),
        date_text=meta.struct.field("date_text"),
        has_code=meta.struct.field("code").is_not_null(),
    )
    if glued:
        fields = fields.with_columns(strict=pl.col("line1").str.extract_groups(GLUED_TITLE_AUTHORS))
        strict = pl.col("strict")
        # The fallback only where the strict pattern found no split.
        loose = only_where(
            strict.struct.field("title").is_null(), pl.col("line1")
        ).str.extract_groups(GLUED_FALLBACK)
        fields = fields.with_columns(
            title=pl.coalesce(
                strict.struct.field("title"), loose.struct.field("title"), pl.col("line1")
            ),
            author_line=pl.coalesce(
                *(
                    pl.when(split.struct.field("authors").is_not_null()).then(
                        pl.concat_str(
                            split.struct.field("authors"),
                            pl.lit(" · ") + split.struct.field("orgs"),
                            ignore_nulls=True,
                        )
                    )
                    for split in (strict, loose)
                )
            ),
            title_split=pl.when(strict.struct.field("title").is_not_null())
            .then(pl.lit("pattern"))
            .when(loose.struct.field("title").is_not_null())
            .then(pl.lit("fallback"))
            .when(pl.col("line1").is_not_null())
            .then(pl.lit("none")),
            abstract=pl.col("line2"),
        )
    else:
        fields = fields.rename({"authors": "author_line"})
    authors, truncated, orgs = split_author_line(pl.col("author_line"))
    records = fields.with_columns(
        title=collapse_spaces(pl.col("title")),
        authors=authors.fill_null(pl.lit([], dtype=pl.List(pl.String))),
        authors_truncated=truncated,
        affiliations=orgs,
    )
    labelled = pl.concat([header, body], how="diagonal_relaxed")
    return ParsedDump(attach_labels(lines, labelled), records, profile)


@register_format(
    "profile_page",
    "A: author profile page, full (header facts, blank-line separated records)",
    detect_profile_page,
)
def parse_profile_page(lines: pl.DataFrame) -> ParsedDump:
    """Parse a full author profile page (format A)."""
    return _parse_listing(lines, glued=False)


@register_format(
    "collapsed_profile_page",
    "B: author profile page, collapsed (no header, titles glued to authors)",
    detect_collapsed_profile_page,
)
def parse_collapsed_profile_page(lines: pl.DataFrame) -> ParsedDump:
    """Parse a collapsed author profile page (format B)."""
    return _parse_listing(lines, glued=True)
