"""Formats A and B: an author's profile page, full or collapsed.

Full (A): a header of profile facts, then records of four lines separated by
blank lines: "<CATEGORY><date>[Code]", title, author list, abstract.

Collapsed (B): no header and no blank lines, and the title is glued to the
author list ("...Attributed GraphsKay Liu, Yingtong Dou et al.").

Both are parsed the same way: a category/date line starts a record and the
lines up to the next one fill its fields, by position checked against
evidence. Known page furniture inside a record ("Load more papers", a
repeated header fact) is no field; a paragraph is the abstract wherever it
stands; the author list is a line that reads as names; a line that fits no
field is quarantined alone and the rest of the record kept.
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
from pipelines.extract.names import (
    GLUED_FALLBACK,
    GLUED_TITLE_AUTHORS,
    NAMES_LINE,
    glued_split,
    is_clear_author_list,
    split_author_line,
)
from pipelines.extract.patterns import (
    CATEGORY_ONLY,
    META,
    PAGE_LINKS,
    collapse_spaces,
    only_where,
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
# An abstract is a paragraph; titles and author lines are far shorter.
ABSTRACT_MIN_CHARS = 200
# The fields of a record by position: collapsed pages glue title and authors.
_FIELDS = {
    False: ["meta", "title", "authors", "abstract"],
    True: ["meta", "line1", "line2"],
}
# Furniture lines are short: only such lines are matched against it.
FURNITURE_MAX_CHARS = 60


def _is_page_furniture(content: pl.Expr) -> pl.Expr:
    """Links, header facts and lone category codes: what a page prints around its records."""
    short = only_where(content.str.len_chars() <= FURNITURE_MAX_CHARS, content)
    return pl.any_horizontal(
        short.str.contains(PAGE_LINKS),
        short.str.contains(CATEGORY_ONLY),
        *(short.str.contains(rx) for rx in HEADER_FACTS.values()),
    )


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


def _header_profile(
    header: pl.DataFrame, files: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Read the header facts: one profile row per file, the header lines labelled, and notes.

    A number too large for its column (a 40-digit h-index) leaves that fact
    empty, with a note naming its line, instead of failing the file.
    """
    digits = {
        name: pl.col("content").str.extract(rx, 1).str.replace_all(",", "")
        for name, rx in HEADER_FACTS.items()
    }
    facts = {name: text.cast(pl.Int64, strict=False) for name, text in digits.items()}
    header = header.with_columns(
        **facts, **{f"{name}_digits": text for name, text in digits.items()}
    ).with_columns(
        is_fact=pl.any_horizontal(pl.col(f"{name}_digits").is_not_null() for name in facts),
        is_category=pl.col("content").str.contains(CATEGORY_ONLY),
        is_link=pl.col("content").str.contains(PAGE_LINKS),
    )
    header = header.with_columns(
        is_owner=(pl.col("idx") == 0)
        & ~pl.col("is_fact")
        & ~pl.col("is_category")
        & ~pl.col("is_link"),
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
    notes = pl.concat(
        [
            header.filter(pl.col(f"{name}_digits").is_not_null() & pl.col(name).is_null()).select(
                "file",
                "line_no",
                note=pl.format(
                    "line {}: {} {} is too large to store; left empty",
                    "line_no",
                    pl.lit(name),
                    pl.col(f"{name}_digits"),
                ),
            )
            for name in facts
        ]
    )
    known = pl.col("is_fact") | pl.col("is_owner") | pl.col("is_category") | pl.col("is_link")
    labelled = header.with_columns(
        role=pl.when(known).then(pl.lit(FURNITURE)).otherwise(pl.lit(REJECT)),
        rec=pl.lit(None, dtype=pl.Int64),
        reason=pl.when(known).then(None).otherwise(pl.lit("unrecognised line in the page header")),
    )
    return profile, labelled, notes


def _label_fields(body: pl.DataFrame, *, glued: bool) -> pl.DataFrame:
    """Give each line of the records its field (or its reason for quarantine).

    ``p`` numbers a record's lines after its category/date line, furniture
    left out. The abstract is the first paragraph (else the line where it
    belongs: 3 in A, 2 in B); in A the author list is the last line before
    it that reads as names, and the title the first line, unless that line is
    an author list and the next is not (title and authors swapped). Any other
    line before the abstract is quarantined alone; any after it too.
    """
    content = pl.col("content")
    seg = "seg"
    body = body.with_columns(
        is_furniture=(pl.col("pos") > 0) & _is_page_furniture(content),
    ).with_columns(
        p=pl.when(~pl.col("is_furniture"))
        .then((~pl.col("is_furniture")).cast(pl.Int64).cum_sum().over(seg) - 1)
        .otherwise(None),
    )
    is_long = content.str.len_chars() >= ABSTRACT_MIN_CHARS
    if glued:
        # A long title glued to its authors is no abstract (only line 1 can be one).
        candidate = is_long & (pl.col("p") == 1)
        is_long = is_long & ~only_where(candidate, content).str.contains(GLUED_TITLE_AUTHORS)
    first = (pl.col("p") == 1).fill_null(False)
    body = body.with_columns(
        k=pl.col("p").max().over(seg),
        f=pl.when(is_long & (pl.col("p") >= 1)).then(pl.col("p")).min().over(seg),
        # A cut or multi-name author list where the title belongs.
        p1_list=(first & is_clear_author_list(only_where(first & ~is_long, content)))
        .any()
        .over(seg),
    )
    default_abstract = 2 if glued else 3
    bound = pl.coalesce(pl.col("f"), pl.lit(default_abstract))
    if glued:
        body = body.with_columns(title_pos=pl.lit(1), authors_pos=pl.lit(None, pl.Int64))
        no_title = (pl.col("f") == 1) | pl.col("p1_list")
    else:
        early = (pl.col("p") >= 1) & (pl.col("p") < bound) & ~is_long
        reads_as_names = only_where(early.fill_null(False), content).str.contains(NAMES_LINE)
        body = body.with_columns(is_names=(reads_as_names & early).fill_null(False))
        swapped = (
            pl.col("p1_list")
            & (bound >= 3)
            & (pl.col("k") >= 2)
            & ~(pl.col("is_names") & (pl.col("p") == 2)).any().over(seg)
        )
        body = body.with_columns(title_pos=pl.when(swapped).then(2).otherwise(1))
        body = body.with_columns(
            authors_pos=pl.when(pl.col("is_names") & (pl.col("p") != pl.col("title_pos")))
            .then(pl.col("p"))
            .max()
            .over(seg)
        )
        no_title = (pl.col("f") == 1) | (pl.col("p1_list") & (bound == 2))
    body = body.with_columns(
        abstract_pos=pl.coalesce(
            pl.col("f"),
            pl.when(pl.col("k") >= default_abstract).then(pl.lit(default_abstract)),
        ),
        no_title=no_title.fill_null(False),
    )
    p = pl.col("p")
    names = _FIELDS[glued]
    field = (
        pl.when(p == 0)
        .then(pl.lit("meta"))
        .when(p == pl.col("title_pos"))
        .then(pl.lit(names[1]))
        .when(p == pl.col("authors_pos"))
        .then(pl.lit("authors"))
        .when(p == pl.col("abstract_pos"))
        .then(pl.lit(names[-1]))
    )
    stray_before = "line between the title and the abstract that is not the author list"
    if glued:
        stray_before = "line between the title and the abstract"
    reason = (
        pl.when(pl.col("k") == 0)
        .then(pl.lit("category/date line with no title after it"))
        .when(pl.col("no_title") & (pl.col("f") == 1))
        .then(pl.lit("record with no title (a paragraph follows its category/date line)"))
        .when(pl.col("no_title"))
        .then(pl.lit("record with no title (an author list follows its category/date line)"))
        .when(field.is_null() & (pl.col("abstract_pos").is_null() | (p < pl.col("abstract_pos"))))
        .then(pl.lit(stray_before))
        .when(field.is_null())
        .then(pl.lit("unexpected line after the abstract"))
    )
    return body.with_columns(
        field=pl.when(pl.col("is_furniture")).then(None).otherwise(field),
        role=pl.when(pl.col("is_furniture"))
        .then(pl.lit(FURNITURE))
        .when(reason.is_not_null())
        .then(pl.lit(REJECT))
        .otherwise(pl.lit(RECORD)),
        reason=pl.when(pl.col("is_furniture")).then(None).otherwise(reason),
    ).with_columns(rec=pl.when(pl.col("role") == RECORD).then(pl.col(seg)).otherwise(None))


def _split_glued(fields: pl.DataFrame) -> pl.DataFrame:
    """Title and author line from a glued line: the strict grammar, else the fallback."""
    strict = pl.col("line1").str.extract_groups(GLUED_TITLE_AUTHORS)
    fields = fields.with_columns(strict=strict)
    strict_title, strict_authors, ambiguous = glued_split(pl.col("strict"))
    # The fallback only where the strict pattern found no split.
    loose = only_where(strict_title.is_null(), pl.col("line1")).str.extract_groups(GLUED_FALLBACK)
    splits = (
        (strict_title, strict_authors, pl.col("strict").struct.field("orgs")),
        (loose.struct.field("title"), loose.struct.field("authors"), loose.struct.field("orgs")),
    )
    return fields.with_columns(
        title=pl.coalesce(*(title for title, _, _ in splits), pl.col("line1")),
        author_line=pl.coalesce(
            *(
                pl.when(authors.is_not_null()).then(
                    pl.concat_str(authors, pl.lit(" · ") + orgs, ignore_nulls=True)
                )
                for _, authors, orgs in splits
            )
        ),
        title_split=pl.when(strict_title.is_not_null() & ambiguous)
        .then(pl.lit("ambiguous"))
        .when(strict_title.is_not_null())
        .then(pl.lit("pattern"))
        .when(loose.struct.field("title").is_not_null())
        .then(pl.lit("fallback"))
        .when(pl.col("line1").is_not_null())
        .then(pl.lit("none")),
        abstract=pl.col("line2"),
    ).drop("strict")


def _parse_listing(lines: pl.DataFrame, *, glued: bool) -> ParsedDump:
    lines = with_file(lines)
    seg = _segments(lines)
    profile, header, notes = _header_profile(
        seg.filter(pl.col("is_header")), lines["file"].unique().sort()
    )
    body = _label_fields(seg.filter(~pl.col("is_header")), glued=glued)
    names = _FIELDS[glued]

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
        fields = _split_glued(fields).with_columns(incomplete=pl.col("abstract").is_null())
    else:
        fields = fields.rename({"authors": "author_line"}).with_columns(
            incomplete=pl.col("author_line").is_null() | pl.col("abstract").is_null()
        )
    authors, truncated, orgs = split_author_line(pl.col("author_line"))
    records = fields.with_columns(
        title=collapse_spaces(pl.col("title")),
        authors=authors.fill_null(pl.lit([], dtype=pl.List(pl.String))),
        authors_truncated=truncated,
        affiliations=orgs,
    )
    labelled = pl.concat([header, body], how="diagonal_relaxed")
    return ParsedDump(attach_labels(lines, labelled), records, profile, notes)


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
