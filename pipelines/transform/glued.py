"""Second look at glued title+author lines using the names known from all dumps.

The collapsed-page parser splits "…Attributed GraphsKay Liu, Yue Zhao et al."
with a name grammar. When a list holds a name outside that grammar the parser
falls back to a heuristic and marks the record (``title_split`` = "fallback",
"none" or "ambiguous"). Here, every name printed in another record is a candidate start of
the author list: the earliest known name glued to the text before it wins.
"""

from __future__ import annotations

import polars as pl

from pipelines.extract.names import split_author_line

# Splits the parser was not sure of: the fallback regex, none at all, or a
# title's closing capitals meeting a name's (``names.glued_split``).
WEAK = ("fallback", "none", "ambiguous")
# Shorter printed names are too likely to occur inside a title by chance.
MIN_NAME_CHARS = 4


def glued_line() -> pl.Expr:
    """The line as printed, rebuilt from the parsed title and author fields."""
    authors = pl.col("authors").list.join(", ")
    et_al = pl.when(pl.col("authors_truncated")).then(pl.lit(" et al.")).otherwise(pl.lit(""))
    orgs = (
        pl.when(pl.col("affiliations").list.len() > 0)
        .then(pl.lit(" · ") + pl.col("affiliations").list.join(", "))
        .otherwise(pl.lit(""))
    )
    return pl.concat_str(pl.col("title"), authors, et_al, orgs)


def is_weak() -> pl.Expr:
    """A collapsed-page record whose title/author split was low-confidence."""
    return pl.col("title_split").is_in(WEAK).fill_null(False)


def known_names(authors: pl.Series) -> pl.Series:
    """The names a weak split may be cut at: printed (by reliable records), 4+ characters.

    ``authors``: the author lists of the records whose split was reliable.
    """
    return (
        authors.explode()
        .drop_nulls()
        .rename("name")
        .to_frame()
        .filter(pl.col("name").str.len_chars() >= MIN_NAME_CHARS)
        .unique()
        .sort("name")["name"]
    )


def resplit_glued_titles(records: pl.DataFrame, known: list[str] | None = None) -> pl.DataFrame:
    """Re-split weakly split collapsed-page records at a known author name.

    ``known`` defaults to ``known_names`` of the other records of ``records``.
    The result for a record depends only on it and on which known names its
    line contains.
    """
    weak = is_weak()
    if records.filter(weak).is_empty():
        return records
    if known is None:
        known = known_names(records.filter(~weak)["authors"]).to_list()
    if not known:
        return records
    candidates = (
        records.with_row_index("row")
        .filter(weak)
        .with_columns(line=glued_line())
        .with_columns(at=pl.col("line").str.find_many(known, overlapping=True))
        .explode("at")
        .drop_nulls("at")
        # A split point must be glued: a non-space right before the name.
        .filter(
            (pl.col("at") > 0)
            & ~pl.col("line").str.slice(pl.col("at").cast(pl.Int64) - 1, 1).str.contains(r"\s")
        )
        .sort("row", "at")
        .group_by("row", maintain_order=True)
        .first()
    )
    if candidates.is_empty():
        return records
    title = pl.col("line").str.slice(0, pl.col("at"))
    rest = pl.col("line").str.slice(pl.col("at"))
    names, truncated, orgs = split_author_line(rest)
    fixed = candidates.select(
        "row",
        new_title=title.str.strip_chars(),
        new_authors=names,
        new_truncated=truncated,
        new_orgs=orgs,
    )
    # The new values lined up with the records (a narrow frame): the wide
    # columns (abstracts) are left as they are, neither copied nor reordered.
    patch = (
        records.select(row=pl.int_range(pl.len(), dtype=pl.UInt32))
        .join(fixed, on="row", how="left", maintain_order="left")
        .drop("row")
    )
    return records.with_columns(
        title=pl.coalesce(patch["new_title"], pl.col("title")),
        authors=pl.coalesce(patch["new_authors"], pl.col("authors")),
        authors_truncated=pl.coalesce(patch["new_truncated"], pl.col("authors_truncated")),
        affiliations=pl.coalesce(patch["new_orgs"], pl.col("affiliations")),
        title_split=pl.when(patch["new_title"].is_not_null())
        .then(pl.lit("known_name"))
        .otherwise(pl.col("title_split")),
    )
