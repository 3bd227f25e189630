"""Format D: a scholar profile with names printed "Family, Given".

The owner's name, then records of three lines: title, author list, abstract.
The author list is either "Family, Given, Family, Given, ..." or
"Family, Given (Affiliation) | Family, Given (Affiliation) | ...".
The author line anchors each record: the line before it is the title, the
line after it the abstract; an author line printed before its title (the two
swapped) is read the other way round.
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
from pipelines.extract.names import merge_suffixes
from pipelines.extract.patterns import META, PAGE_LINKS, collapse_spaces
from pipelines.extract.registry import ParsedDump, register_format, scores_frame

# One part of a name: capitalised words, initials, lower-case particles before
# a capital ("le Roux", "al-Farsi", "van der Berg"); no digits or sentence
# punctuation, so titles rarely look like one.
_PART = r"(?:\p{Lu}|\p{Lo}|(?:\p{Ll}{1,5}[ '’-])+\p{Lu})[\p{L}\p{M}'’.\- ]{0,40}"
_PAIR = rf"{_PART}, {_PART}"
_AFFILIATION = r"\((?:[^()]|\([^()]*\))*\)"
PAIRS_LINE = rf"^{_PAIR}(?:, {_PAIR})*$"
PIPES_LINE = (
    rf"^{_PAIR}(?: {_AFFILIATION})?(?: \| {_PAIR}(?: {_AFFILIATION})?)+$|^{_PAIR} {_AFFILIATION}$"
)
OWNER_LINE = rf"^{_PAIR}$"
# Titles are short lines; an abstract is a paragraph.
TITLE_MAX_CHARS = 200
PIPE_ENTRY = r"^(?P<family>[^,]+), (?P<given>[^(]+?)(?: \((?P<affiliation>.*)\))?$"


def _is_author_line() -> pl.Expr:
    # "King, Martin Luther, Jr." has its suffix after a comma: it stays with the name.
    line = merge_suffixes(pl.col("content"))
    return line.str.contains(PAIRS_LINE) | line.str.contains(PIPES_LINE)


def detect_scholar_profile(lines: pl.DataFrame) -> pl.DataFrame:
    nb = non_blank(lines)
    stats = (
        nb.with_columns(
            owner=(pl.col("idx") == 0) & pl.col("content").str.contains(OWNER_LINE),
            n_author_lines=_is_author_line(),
            n_meta=pl.col("content").str.contains(META),
        )
        .group_by("file")
        .agg(
            pl.len().alias("n_lines"),
            pl.col("owner").any(),
            pl.col("n_author_lines", "n_meta").sum(),
        )
    )
    stats = lines["file"].unique().to_frame().join(stats, on="file", how="left")

    def score(row: dict) -> tuple[float, str]:
        if not row["n_lines"]:
            return 0.0, "no text"
        n_author_lines, n_lines = row["n_author_lines"], row["n_lines"]
        expected = max(1, (n_lines - 1) // 3)
        share = min(1.0, n_author_lines / expected)
        score = share * (0.8 + 0.2 * row["owner"])
        # Category/date record heads belong to profile pages, never to this format.
        if row["n_meta"] >= max(1, n_author_lines // 2):
            score *= 0.3
        return score, (
            f"{n_author_lines} 'Family, Given' author lines for {n_lines} lines"
            + ("; owner name first" if row["owner"] else "")
        )

    return scores_frame(stats, score)


def _name_lists(records: pl.DataFrame) -> pl.DataFrame:
    """Parse author lines into "Given Family" names and aligned affiliations."""
    line = merge_suffixes(pl.col("author_line"))
    piped = line.str.contains(r" \| |\)$")
    entries = (
        records.select(
            "rec",
            entry=pl.when(piped)
            .then(line.str.split(" | "))
            .otherwise(
                # "F1, G1, F2, G2" -> ["F1, G1", "F2, G2"]
                line.str.split(", ").list.eval(
                    pl.concat_str(
                        pl.element().gather_every(2),
                        pl.element().gather_every(2, offset=1),
                        separator=", ",
                    )
                )
            ),
        )
        .explode("entry")
        .with_columns(parts=pl.col("entry").str.strip_chars().str.extract_groups(PIPE_ENTRY))
        .with_columns(
            name=pl.concat_str(
                pl.col("parts").struct.field("given").str.strip_chars(),
                pl.col("parts").struct.field("family").str.strip_chars(),
                separator=" ",
            ),
            affiliation=pl.col("parts").struct.field("affiliation").str.strip_chars(),
        )
        .filter(pl.col("name").is_not_null())
    )
    lists = entries.group_by("rec", maintain_order=True).agg(
        authors=pl.col("name"),
        author_affiliations=pl.col("affiliation"),
        affiliations=pl.col("affiliation").drop_nulls().unique(maintain_order=True),
    )
    return records.join(lists, on="rec", how="left").with_columns(
        author_affiliations=pl.when(pl.col("author_affiliations").list.drop_nulls().list.len() > 0)
        .then(pl.col("author_affiliations"))
        .otherwise(None),
        affiliations=pl.col("affiliations").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        authors=pl.col("authors").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )


@register_format(
    "scholar_profile",
    "D: scholar profile, names as 'Family, Given', optional (affiliation) | lists",
    detect_scholar_profile,
)
def parse_scholar_profile(lines: pl.DataFrame) -> ParsedDump:
    """Parse a scholar profile page (format D)."""
    lines = with_file(lines)
    nb = non_blank(lines)
    # Page furniture ("Show more") is no part of any record, wherever it stands.
    is_furniture = pl.col("content").str.contains(PAGE_LINKS)
    furniture = nb.filter(is_furniture).select(
        "file",
        "line_no",
        role=pl.lit(FURNITURE),
        rec=pl.lit(None, pl.Int64),
        reason=pl.lit(None, pl.String),
    )
    nb = nb.filter(~is_furniture).with_columns(
        is_owner=(pl.col("idx") == 0) & pl.col("content").str.contains(OWNER_LINE)
    )
    nb = nb.with_columns(is_authors=_is_author_line() & ~pl.col("is_owner"))
    plain = ~pl.col("is_authors") & ~pl.col("is_owner")
    short = pl.col("content").str.len_chars() < TITLE_MAX_CHARS
    nb = nb.with_columns(
        # An author line needs a title before it (a paragraph there is the
        # previous record's abstract: this record's title was lost).
        is_anchor=pl.col("is_authors") & shift_in_file(plain & short, 1, False),
    ).with_columns(
        # Title and author lines swapped: an author line with no title before
        # it, then a short line (the title), then a plain line (the abstract).
        is_swapped=pl.col("is_authors")
        & ~pl.col("is_anchor")
        & shift_in_file(plain & short, -1, False)
        & shift_in_file(plain, -2, False),
    )
    nb = nb.with_columns(
        is_title=plain
        & (
            shift_in_file(pl.col("is_anchor"), -1, False)
            | shift_in_file(pl.col("is_swapped"), 1, False)
        ),
    ).with_columns(
        is_abstract=plain
        & ~pl.col("is_title")
        & (
            shift_in_file(pl.col("is_anchor"), 1, False)
            | shift_in_file(pl.col("is_swapped"), 2, False)
        ),
        is_author_field=pl.col("is_anchor") | pl.col("is_swapped"),
    )
    in_record = pl.col("is_title") | pl.col("is_author_field") | pl.col("is_abstract")
    # A record starts at its title, or at its author line when the two are swapped.
    starts = (pl.col("is_title") & ~shift_in_file(pl.col("is_swapped"), 1, False)) | pl.col(
        "is_swapped"
    )
    nb = nb.with_columns(
        rec=pl.when(in_record).then(starts.cast(pl.Int64).cum_sum()),
        role=pl.when(in_record)
        .then(pl.lit(RECORD))
        .when(pl.col("is_owner"))
        .then(pl.lit(FURNITURE))
        .otherwise(pl.lit(REJECT)),
        reason=pl.when(in_record | pl.col("is_owner"))
        .then(None)
        .when(pl.col("is_authors"))
        .then(pl.lit("author line with no title before it"))
        .otherwise(pl.lit("line outside any title / authors / abstract record")),
    )

    def pick(flag: str) -> pl.Expr:
        return pl.col("content").filter(pl.col(flag)).first()

    records = (
        nb.filter(pl.col("role") == RECORD)
        .group_by("rec")
        .agg(
            file=pl.col("file").first(),
            title=pick("is_title"),
            author_line=pick("is_author_field"),
            abstract=pick("is_abstract"),
        )
    )
    records = _name_lists(records).with_columns(
        title=collapse_spaces(pl.col("title")),
        authors_truncated=pl.lit(False),
        incomplete=pl.col("abstract").is_null(),
    )
    # "Family, Given" -> "Given Family"
    owner = pl.col("content").str.extract_groups(r"^(?P<family>.*?), (?P<given>.*)$")
    owner_name = pl.concat_str(
        owner.struct.field("given").str.strip_chars(),
        owner.struct.field("family").str.strip_chars(),
        separator=" ",
    )
    profile = first_in_file(
        nb.filter(pl.col("is_owner")), owner_name, lines["file"].unique().sort(), "owner_name"
    )
    labelled = pl.concat([nb.select("file", "line_no", "role", "rec", "reason"), furniture])
    return ParsedDump(attach_labels(lines, labelled), records, profile)
