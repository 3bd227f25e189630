"""Format D: a scholar profile with names printed "Family, Given".

The owner's name, then records of three lines: title, author list, abstract.
The author list is either "Family, Given, Family, Given, ..." or
"Family, Given (Affiliation) | Family, Given (Affiliation) | ...".
The author line anchors each record: the line before it is the title, the
line after it the abstract.
"""

from __future__ import annotations

import polars as pl

from pipelines.extract.assemble import FURNITURE, RECORD, REJECT, attach_labels, non_blank
from pipelines.extract.patterns import META, collapse_spaces
from pipelines.extract.registry import Detection, ParsedDump, register_format

# One part of a name: capitalised words, initials, lower-case particles before
# a capital ("le Roux", "al-Farsi", "van der Berg"); no digits or sentence
# punctuation, so titles rarely look like one.
_PART = r"(?:\p{Lu}|\p{Lo}|(?:\p{Ll}{1,5}[ '’-])+\p{Lu})[\p{L}'’.\- ]{0,40}"
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
    return pl.col("content").str.contains(PAIRS_LINE) | pl.col("content").str.contains(PIPES_LINE)


def detect_scholar_profile(lines: pl.DataFrame) -> Detection:
    nb = non_blank(lines)
    if nb.is_empty():
        return Detection(0.0, "no text")
    owner = bool(nb["content"].head(1).str.contains(OWNER_LINE).any())
    n_author_lines = int(nb.select(_is_author_line().sum()).item())
    expected = max(1, (nb.height - 1) // 3)
    share = min(1.0, n_author_lines / expected)
    score = share * (0.8 + 0.2 * owner)
    # Category/date record heads belong to profile pages, never to this format.
    n_meta = int(nb["content"].str.contains(META).sum())
    if n_meta >= max(1, n_author_lines // 2):
        score *= 0.3
    return Detection(
        score,
        f"{n_author_lines} 'Family, Given' author lines for {nb.height} lines"
        + ("; owner name first" if owner else ""),
    )


def _name_lists(records: pl.DataFrame) -> pl.DataFrame:
    """Parse author lines into "Given Family" names and aligned affiliations."""
    piped = pl.col("author_line").str.contains(r" \| |\)$")
    entries = (
        records.select(
            "rec",
            entry=pl.when(piped)
            .then(pl.col("author_line").str.split(" | "))
            .otherwise(
                # "F1, G1, F2, G2" -> ["F1, G1", "F2, G2"]
                pl.col("author_line")
                .str.split(", ")
                .list.eval(
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
    nb = non_blank(lines).with_columns(
        is_owner=(pl.col("idx") == 0) & pl.col("content").str.contains(OWNER_LINE)
    )
    nb = nb.with_columns(is_authors=_is_author_line() & ~pl.col("is_owner"))
    plain = ~pl.col("is_authors") & ~pl.col("is_owner")
    short = pl.col("content").str.len_chars() < TITLE_MAX_CHARS
    nb = nb.with_columns(
        # An author line needs a title before it (a paragraph there is the
        # previous record's abstract: this record's title was lost).
        is_anchor=pl.col("is_authors") & (plain & short).shift(1).fill_null(False),
    )
    nb = nb.with_columns(
        is_title=plain & pl.col("is_anchor").shift(-1).fill_null(False),
    ).with_columns(
        is_abstract=plain & ~pl.col("is_title") & pl.col("is_anchor").shift(1).fill_null(False),
    )
    in_record = pl.col("is_title") | pl.col("is_anchor") | pl.col("is_abstract")
    nb = nb.with_columns(
        rec=pl.when(in_record).then(pl.col("is_title").cast(pl.Int64).cum_sum()),
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
        .agg(title=pick("is_title"), author_line=pick("is_anchor"), abstract=pick("is_abstract"))
    )
    records = _name_lists(records).with_columns(
        title=collapse_spaces(pl.col("title")),
        authors_truncated=pl.lit(False),
    )
    owner = nb.filter(pl.col("is_owner"))["content"].first()
    owner_name = None
    if owner:
        family, _, given = owner.partition(", ")
        owner_name = f"{given.strip()} {family.strip()}"
    labelled = nb.select("line_no", "role", "rec", "reason")
    return ParsedDump(attach_labels(lines, labelled), records, {"owner_name": owner_name})
