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

from pipelines.extract.assemble import FURNITURE, RECORD, REJECT, attach_labels, non_blank
from pipelines.extract.patterns import (
    AUTHOR_LIST,
    GLUED_FALLBACK,
    GLUED_TITLE_AUTHORS,
    META,
    collapse_spaces,
    split_author_line,
)
from pipelines.extract.registry import Detection, ParsedDump, register_format

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
    """Non-blank lines with ``seg`` (0 = header, n = n-th record) and ``pos`` in it."""
    return (
        non_blank(lines)
        .with_columns(is_meta=pl.col("content").str.contains(META))
        .with_columns(seg=pl.col("is_meta").cast(pl.Int64).cum_sum())
        .with_columns(
            pos=pl.int_range(pl.len()).over("seg"),
            seg_size=pl.len().over("seg"),
        )
    )


def _detect(lines: pl.DataFrame, *, record_lines: int) -> tuple[float, str]:
    seg = _segments(lines)
    n_meta = int(seg["is_meta"].sum())
    if n_meta == 0:
        return 0.0, "no category/date lines"
    # The last record may be cut short by the end of the file or the detection
    # window: any prefix of a record counts for it.
    metas = seg.filter(pl.col("is_meta")).with_columns(
        fits=(pl.col("seg_size") == record_lines)
        | ((pl.col("seg") == pl.col("seg").max()) & (pl.col("seg_size") <= record_lines))
    )
    share = float(metas["fits"].mean())
    return share, f"{n_meta} category/date lines, {share:.0%} followed by {record_lines - 1} lines"


def detect_profile_page(lines: pl.DataFrame) -> Detection:
    share, reason = _detect(lines, record_lines=4)
    content = non_blank(lines)["content"]
    n_facts = sum(int(content.str.contains(rx).sum()) for rx in HEADER_FACTS.values())
    if n_facts:
        # A page cut off right after its header is still this format.
        share = min(1.0, share + 0.2 * n_facts)
        reason += f"; {n_facts} profile header facts (h-index, papers, ...)"
    return Detection(share, reason)


def detect_collapsed_profile_page(lines: pl.DataFrame) -> Detection:
    share, reason = _detect(lines, record_lines=3)
    glued = (
        _segments(lines)
        .filter(pl.col("pos") == 1)["content"]
        .str.contains(GLUED_TITLE_AUTHORS)
        .mean()
    )
    share = share * (0.5 + 0.5 * float(glued or 0.0))
    return Detection(share, f"{reason}; {float(glued or 0):.0%} titles glued to authors")


def _header_profile(header: pl.DataFrame) -> tuple[dict[str, object], pl.DataFrame]:
    """Read the header facts; return them and the header lines labelled."""
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
        is_category=pl.col("is_category") & (pl.col("is_category").cast(pl.Int64).cum_sum() == 1),
    )
    profile: dict[str, object] = {name: header[name].drop_nulls().first() for name in facts}
    profile["owner_name"] = header.filter(pl.col("is_owner"))["content"].first()
    profile["primary_category"] = header.filter(pl.col("is_category"))["content"].first()
    known = pl.col("is_fact") | pl.col("is_owner") | pl.col("is_category")
    labelled = header.with_columns(
        role=pl.when(known).then(pl.lit(FURNITURE)).otherwise(pl.lit(REJECT)),
        rec=pl.lit(None, dtype=pl.Int64),
        reason=pl.when(known).then(None).otherwise(pl.lit("unrecognised line in the page header")),
    )
    return profile, labelled


def _parse_listing(lines: pl.DataFrame, *, glued: bool) -> ParsedDump:
    seg = _segments(lines)
    profile, header = _header_profile(seg.filter(pl.col("seg") == 0))
    body = seg.filter(pl.col("seg") > 0)

    # Fields by position, checked against shape: a paragraph where a title or
    # an author line belongs means that line was lost (a damaged copy).
    is_long = pl.col("content").str.len_chars() >= ABSTRACT_MIN_CHARS
    if glued:
        is_long = is_long & ~pl.col("content").str.contains(GLUED_TITLE_AUTHORS)
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
        .agg(**{name: field(name) for name in names})
    )
    meta = pl.col("meta").str.extract_groups(META)
    fields = fields.with_columns(
        category=meta.struct.field("category"),
        date_text=meta.struct.field("date_text"),
        has_code=meta.struct.field("code").is_not_null(),
    )
    if glued:
        strict = pl.col("line1").str.extract_groups(GLUED_TITLE_AUTHORS)
        loose = pl.col("line1").str.extract_groups(GLUED_FALLBACK)
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
