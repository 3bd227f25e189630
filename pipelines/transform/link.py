"""Link records into papers and people, field by field, with provenance.

Records are matched into papers by ``match.py``. Each paper field then comes
from the best record by a fixed rule, and ``paper_field_sources`` says which
record supplied it:

=============== ===========================================================
field           rule
=============== ===========================================================
title           without LaTeX markup, from a reliable split, in file order
abstract        the longest (a cut-off copy is shorter)
published_date  printed with its year over inferred, then file order
category        the first record that prints one
has_code        true if any record says so
upvotes         the highest
author_count    the highest printed count
authors         an uncut list over a cut one, then the longest
affiliations    the union over all records, in file order
=============== ===========================================================

People: a printed name is a person by its normalised key (accents, case,
hyphens, dots and spacing folded), so "Hu, Qinghao" (printed family first,
turned at parse time) and "Qinghao Hu" are one. Ids are hashes of keys, so
they do not move when an unrelated dump arrives. ``aliases`` merges printed
variants into one person or splits one name into several people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipelines.config import MatchConfig
from pipelines.transform.clean import has_markup, name_key
from pipelines.transform.glued import WEAK
from pipelines.transform.ids import stable_ids
from pipelines.transform.match import MATCHES, match_records

PAPERS = pl.Schema(
    {
        "paper_id": pl.String,
        "title": pl.String,
        "abstract": pl.String,
        "published_date": pl.Date,
        "year": pl.Int32,
        "category": pl.String,
        "has_code": pl.Boolean,
        "upvotes": pl.Int64,
        "authors_truncated": pl.Boolean,
        "author_count": pl.Int64,
        "affiliations": pl.List(pl.String),
        "n_records": pl.Int64,
        "title_key": pl.String,
    }
)
FIELD_SOURCES = pl.Schema(
    {"paper_id": pl.String, "field": pl.String, "record_id": pl.String, "rule": pl.String}
)
ALIASES_SAME = pl.Schema({"canonical": pl.String, "name": pl.String})
ALIASES_SPLIT = pl.Schema({"name": pl.String, "label": pl.String, "record_id": pl.String})


@dataclass(frozen=True)
class LinkedTables:
    papers: pl.DataFrame
    authors: pl.DataFrame
    paper_authors: pl.DataFrame
    paper_sources: pl.DataFrame
    paper_matches: pl.DataFrame
    paper_field_sources: pl.DataFrame
    n_candidate_pairs: int = 0
    notes: list[str] = field(default_factory=list)


def _empty_aliases() -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.DataFrame(schema=ALIASES_SAME), pl.DataFrame(schema=ALIASES_SPLIT)


def _paper_ids(ranked: pl.DataFrame) -> pl.DataFrame:
    """A stable id per cluster: the hash of its smallest title key.

    Two clusters with one title key (kept apart on evidence or by override) add
    their smallest record id to the key, so ids stay unique.
    """
    per_cluster = ranked.group_by("cluster").agg(
        key=pl.col("title_key").min(), first_record=pl.col("record_id").min()
    )
    per_cluster = per_cluster.with_columns(
        id_key=pl.when(pl.len().over("key") > 1)
        .then(pl.format("{}|{}", "key", "first_record"))
        .otherwise(pl.col("key"))
    ).sort("cluster")
    return per_cluster.with_columns(paper_id=stable_ids(per_cluster["id_key"], "pap_")).select(
        "cluster", "paper_id"
    )


def _pick(
    ranked: pl.DataFrame, column: str, order: list[pl.Expr], rule: str, valid: pl.Expr | None = None
) -> pl.DataFrame:
    """The best non-null value of ``column`` per paper and the record it came from."""
    ok = pl.col(column).is_not_null() if valid is None else valid
    return (
        ranked.filter(ok)
        .sort([pl.col("paper_id"), *order, pl.col("rid")])
        .group_by("paper_id", maintain_order=True)
        .first()
        .select("paper_id", column, "record_id")
        .with_columns(field=pl.lit(column), rule=pl.lit(rule))
    )


def _people(
    lists: pl.DataFrame,
    paper_sources: pl.DataFrame,
    same: pl.DataFrame,
    split: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """paper_authors and authors from each paper's chosen author list."""
    notes: list[str] = []
    rows = (
        lists.select("paper_id", "authors")
        .with_columns(author_position=pl.int_ranges(1, pl.col("authors").list.len() + 1))
        .explode("authors", "author_position")
        .rename({"authors": "name"})
        .with_columns(key=name_key(pl.col("name")), display=pl.col("name"))
        .filter(pl.col("key") != "")
    )
    if not same.is_empty():
        mapping = same.select(
            key=name_key(pl.col("name")), canonical_key=name_key(pl.col("canonical"))
        ).unique("key", keep="first", maintain_order=True)
        hits = rows.join(mapping, on="key", how="inner").height
        rows = (
            rows.join(mapping, on="key", how="left")
            .with_columns(key=pl.coalesce("canonical_key", "key"))
            .drop("canonical_key")
        )
        notes.append(f"aliases: {mapping.height} names mapped to one person ({hits} authorships)")
    if not split.is_empty():
        targets = (
            split.join(paper_sources.select("paper_id", "record_id"), on="record_id")
            .select("paper_id", key=name_key(pl.col("name")), label="label")
            .unique(["paper_id", "key"], keep="first", maintain_order=True)
        )
        rows = rows.join(targets, on=["paper_id", "key"], how="left").with_columns(
            key=pl.when(pl.col("label").is_not_null())
            .then(pl.format("{}|{}", "key", "label"))
            .otherwise(pl.col("key")),
            display=pl.coalesce("label", "display"),
        )
        n_split = rows.filter(pl.col("label").is_not_null()).height
        notes.append(f"aliases: {n_split} authorships given a split identity")
    rows = rows.with_columns(author_id=stable_ids(rows["key"], "aut_"))
    # Display name: the most frequent printed form, ties alphabetical.
    authors = (
        rows.group_by("author_id", "display")
        .agg(n=pl.len())
        .sort(["author_id", "n", "display"], descending=[False, True, False])
        .group_by("author_id", maintain_order=True)
        .agg(name=pl.col("display").first(), n_papers=pl.col("n").sum().cast(pl.Int64))
        .sort("author_id")
    )
    paper_authors = (
        rows.select("paper_id", "author_id", pl.col("author_position").cast(pl.Int64))
        .unique(["paper_id", "author_id"], keep="first", maintain_order=True)
        .sort("paper_id", "author_position")
        # Positions stay 1..n when an alias folded two printed names into one.
        .with_columns(author_position=pl.int_range(1, pl.len() + 1).over("paper_id").cast(pl.Int64))
    )
    return paper_authors, authors, notes


def build_papers(
    records: pl.DataFrame,
    config: MatchConfig | None = None,
    overrides: pl.DataFrame | None = None,
    aliases: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> LinkedTables:
    """Match records into papers, merge their fields, resolve their people."""
    config = config or MatchConfig()
    same, split = aliases if aliases is not None else _empty_aliases()
    matched = match_records(records, config, overrides)

    ranked = records.join(matched.clusters, on="record_id")
    ranked = ranked.join(_paper_ids(ranked), on="cluster").with_columns(
        markup=has_markup(pl.col("title")),
        weak_split=pl.col("title_split").is_in(WEAK).fill_null(False),
        printed_year=pl.col("date_text").str.contains(r"\d{4}$").fill_null(False),
        n_authors=pl.col("authors").list.len().cast(pl.Int64),
        abstract_len=pl.col("abstract").str.len_chars().cast(pl.Int64),
    )

    picks = [
        _pick(ranked, "title", [pl.col("markup"), pl.col("weak_split")], "title without LaTeX"),
        _pick(ranked, "abstract", [pl.col("abstract_len").neg()], "longest abstract"),
        _pick(
            ranked,
            "published_date",
            [pl.col("printed_year").not_()],
            "date printed with its year first",
        ),
        _pick(ranked, "category", [], "first record printing a category"),
        _pick(ranked, "has_code", [pl.col("has_code").not_()], "true if any record says so"),
        _pick(ranked, "upvotes", [pl.col("upvotes").neg()], "highest upvotes"),
        _pick(ranked, "author_count", [pl.col("author_count").neg()], "highest printed count"),
        _pick(
            ranked,
            "authors",
            [pl.col("authors_truncated"), pl.col("n_authors").neg()],
            "uncut author list first, then the longest",
            valid=pl.col("n_authors") > 0,
        ),
    ]
    papers = ranked.group_by("paper_id").agg(
        n_records=pl.len().cast(pl.Int64),
        title_key=pl.col("title_key").min(),
        affiliations=pl.col("affiliations")
        .sort_by("rid")
        .explode()
        .drop_nulls()
        .unique(maintain_order=True),
    )
    for pick in picks:
        column = pick.columns[1]
        papers = papers.join(pick.select("paper_id", column), on="paper_id", how="left")
    lists = picks[-1]
    truncated = ranked.join(lists.select("paper_id", "record_id"), on=["paper_id", "record_id"])
    papers = papers.join(
        truncated.select("paper_id", "authors_truncated"), on="paper_id", how="left"
    ).with_columns(
        authors_truncated=pl.col("authors_truncated").fill_null(True),
        year=pl.col("published_date").dt.year().cast(pl.Int32),
    )
    for column, dtype in PAPERS.items():
        if column not in papers.columns:
            papers = papers.with_columns(pl.lit(None, dtype=dtype).alias(column))
    papers = papers.select(list(PAPERS.names())).cast(dict(PAPERS)).sort("paper_id")

    field_sources = pl.concat(
        [p.select("paper_id", "field", "record_id", "rule") for p in picks]
    ).sort("paper_id", "field")
    paper_sources = ranked.select("paper_id", "source_file", "record_index", "record_id").sort(
        "paper_id", "source_file", "record_index"
    )
    paper_authors, authors, notes = _people(lists, paper_sources, same, split)
    return LinkedTables(
        papers=papers,
        authors=authors,
        paper_authors=paper_authors,
        paper_sources=paper_sources,
        paper_matches=matched.matches.select(list(MATCHES.names())),
        paper_field_sources=field_sources.cast(dict(FIELD_SOURCES)),
        n_candidate_pairs=matched.n_candidate_pairs,
        notes=matched.override_notes + notes,
    )
