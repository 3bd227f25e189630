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

Every rule reads one paper's records only, and narrow columns only (the
abstract is chosen by its length): ``paper_fields`` can derive any subset of
the papers, and the abstract itself is joined in when the wide table is
written (``pipelines.transform.wide``).

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
# Papers without their abstract: which record supplies it instead.
PAPER_ROWS = pl.Schema(
    {
        **{name: dtype for name, dtype in PAPERS.items() if name != "abstract"},
        "abstract_record_id": pl.String,
    }
)
FIELD_SOURCES = pl.Schema(
    {"paper_id": pl.String, "field": pl.String, "record_id": pl.String, "rule": pl.String}
)
ALIASES_SAME = pl.Schema({"canonical": pl.String, "name": pl.String})
ALIASES_SPLIT = pl.Schema({"name": pl.String, "label": pl.String, "record_id": pl.String})
# One printed author of a paper's chosen list, before duplicates are folded.
AUTHORSHIPS = pl.Schema(
    {
        "paper_id": pl.String,
        "author_position": pl.Int64,
        "author_id": pl.String,
        "display": pl.String,
        "aliased": pl.Boolean,  # mapped to another name by aliases [[same]]
        "split": pl.Boolean,  # given its own identity by aliases [[split]]
    }
)
PAPER_AUTHORS = pl.Schema(
    {"paper_id": pl.String, "author_id": pl.String, "author_position": pl.Int64}
)
AUTHORS = pl.Schema({"author_id": pl.String, "name": pl.String, "n_papers": pl.Int64})
# What paper_fields reads of each record (all narrow).
RECORD_FIELDS = (
    "record_id",
    "title",
    "title_split",
    "date_text",
    "published_date",
    "category",
    "has_code",
    "upvotes",
    "author_count",
    "authors",
    "authors_truncated",
    "affiliations",
    "abstract_len",
    "title_key",
)


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


def empty_aliases() -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.DataFrame(schema=ALIASES_SAME), pl.DataFrame(schema=ALIASES_SPLIT)


def paper_id_keys(clusters: pl.DataFrame) -> pl.DataFrame:
    """The key each paper's id hashes: its smallest title key.

    ``clusters``: cluster, title_key, record_id of every record. Two clusters
    with one title key (kept apart on evidence or by override) add their
    smallest record id to the key, so ids stay unique. Returns cluster, id_key.
    """
    per_cluster = clusters.group_by("cluster").agg(
        key=pl.col("title_key").min(), first_record=pl.col("record_id").min()
    )
    return per_cluster.select(
        "cluster",
        id_key=pl.when(pl.len().over("key") > 1)
        .then(pl.format("{}|{}", "key", "first_record"))
        .otherwise(pl.col("key")),
    )


def paper_ids(id_keys: pl.Series) -> pl.Series:
    """``pap_`` + a hash of each id key: the same key, the same id, on any run."""
    return stable_ids(id_keys, "pap_")


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


def paper_fields(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Papers (PAPER_ROWS), their field sources and chosen author lists.

    ``records``: every record of the papers wanted, with paper_id, rid (file
    order) and the RECORD_FIELDS. Returns (papers, field_sources, lists), each
    sorted; lists is (paper_id, record_id, authors) of papers that print authors.
    """
    ranked = records.with_columns(
        markup=has_markup(pl.col("title")),
        weak_split=pl.col("title_split").is_in(WEAK).fill_null(False),
        printed_year=pl.col("date_text").str.contains(r"\d{4}$").fill_null(False),
        n_authors=pl.col("authors").list.len().cast(pl.Int64),
        abstract_len=pl.col("abstract_len").cast(pl.Int64),
    )
    picks = [
        _pick(ranked, "title", [pl.col("markup"), pl.col("weak_split")], "title without LaTeX"),
        _pick(
            ranked.rename({"abstract_len": "abstract"}),
            "abstract",
            [pl.col("abstract").neg()],
            "longest abstract",
        ),
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
        if column == "abstract":
            pick = pick.select("paper_id", abstract_record_id="record_id")
            column = "abstract_record_id"
        papers = papers.join(pick.select("paper_id", column), on="paper_id", how="left")
    lists = picks[-1]
    truncated = ranked.join(lists.select("paper_id", "record_id"), on=["paper_id", "record_id"])
    papers = papers.join(
        truncated.select("paper_id", "authors_truncated"), on="paper_id", how="left"
    ).with_columns(
        authors_truncated=pl.col("authors_truncated").fill_null(True),
        year=pl.col("published_date").dt.year().cast(pl.Int32),
    )
    for column, dtype in PAPER_ROWS.items():
        if column not in papers.columns:
            papers = papers.with_columns(pl.lit(None, dtype=dtype).alias(column))
    papers = papers.select(list(PAPER_ROWS.names())).cast(dict(PAPER_ROWS)).sort("paper_id")
    field_sources = (
        pl.concat([p.select("paper_id", "field", "record_id", "rule") for p in picks])
        .sort("paper_id", "field")
        .cast(dict(FIELD_SOURCES))
    )
    return papers, field_sources, lists.select("paper_id", "record_id", "authors").sort("paper_id")


def authorships(
    lists: pl.DataFrame,
    paper_sources: pl.DataFrame,
    same: pl.DataFrame,
    split: pl.DataFrame,
) -> pl.DataFrame:
    """One row per printed name of each paper's chosen list (AUTHORSHIPS), aliases applied.

    ``paper_sources`` (paper_id, record_id) of the same papers finds the
    records a ``[[split]]`` names.
    """
    rows = (
        lists.select("paper_id", "authors")
        .with_columns(author_position=pl.int_ranges(1, pl.col("authors").list.len() + 1))
        .explode("authors", "author_position")
        .rename({"authors": "name"})
        .with_columns(key=name_key(pl.col("name")), display=pl.col("name"))
        .filter(pl.col("key") != "")
        .with_columns(aliased=pl.lit(False), split=pl.lit(False))
    )
    if not same.is_empty():
        mapping = same.select(
            key=name_key(pl.col("name")), canonical_key=name_key(pl.col("canonical"))
        ).unique("key", keep="first", maintain_order=True)
        rows = (
            rows.join(mapping, on="key", how="left", maintain_order="left")
            .with_columns(
                aliased=pl.col("canonical_key").is_not_null(),
                key=pl.coalesce("canonical_key", "key"),
            )
            .drop("canonical_key")
        )
    if not split.is_empty():
        targets = (
            split.join(paper_sources.select("paper_id", "record_id"), on="record_id")
            .select("paper_id", key=name_key(pl.col("name")), label="label")
            .unique(["paper_id", "key"], keep="first", maintain_order=True)
        )
        rows = rows.join(targets, on=["paper_id", "key"], how="left", maintain_order="left")
        rows = rows.with_columns(
            key=pl.when(pl.col("label").is_not_null())
            .then(pl.format("{}|{}", "key", "label"))
            .otherwise(pl.col("key")),
            display=pl.coalesce("label", "display"),
            split=pl.col("label").is_not_null(),
        )
    rows = rows.with_columns(author_id=stable_ids(rows["key"], "aut_"))
    return (
        rows.select(list(AUTHORSHIPS.names()))
        .cast(dict(AUTHORSHIPS))
        .sort("paper_id", "author_position")
    )


def alias_notes(rows: pl.DataFrame, same: pl.DataFrame, split: pl.DataFrame) -> list[str]:
    """What the aliases did, counted over every paper's authorships."""
    notes = []
    if not same.is_empty():
        n_names = same.select(name_key(pl.col("name"))).unique().height
        hits = int(rows["aliased"].sum())
        notes.append(f"aliases: {n_names} names mapped to one person ({hits} authorships)")
    if not split.is_empty():
        notes.append(f"aliases: {int(rows['split'].sum())} authorships given a split identity")
    return notes


def paper_authors(rows: pl.DataFrame) -> pl.DataFrame:
    """``paper_authors`` of the papers in ``rows``: one row per person per paper."""
    return (
        rows.sort("paper_id", "author_position")
        .unique(["paper_id", "author_id"], keep="first", maintain_order=True)
        # Positions stay 1..n when an alias folded two printed names into one.
        .with_columns(author_position=pl.int_range(1, pl.len() + 1).over("paper_id").cast(pl.Int64))
        .select(list(PAPER_AUTHORS.names()))
        .cast(dict(PAPER_AUTHORS))
    )


def authors(rows: pl.DataFrame) -> pl.DataFrame:
    """``authors`` from every authorship of each author in ``rows``.

    The display name is the most frequent printed form, ties alphabetical.
    """
    return (
        rows.group_by("author_id", "display")
        .agg(n=pl.len())
        .sort(["author_id", "n", "display"], descending=[False, True, False])
        .group_by("author_id", maintain_order=True)
        .agg(name=pl.col("display").first(), n_papers=pl.col("n").sum().cast(pl.Int64))
        .sort("author_id")
        .cast(dict(AUTHORS))
    )


def build_papers(
    records: pl.DataFrame,
    config: MatchConfig | None = None,
    overrides: pl.DataFrame | None = None,
    aliases: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> LinkedTables:
    """Match records into papers, merge their fields, resolve their people: from
    scratch, in memory (the warehouse links through ``linkage.relink``, which this
    calls with no previous state)."""
    from pipelines.transform.linkage import LinkInputs, MemorySource, relink
    from pipelines.transform.wide import collect_papers

    source = MemorySource.from_records(records)
    result = relink(
        None,
        source.entries(),
        source,
        LinkInputs(
            config=config or MatchConfig(),
            overrides=overrides,
            aliases=aliases if aliases is not None else empty_aliases(),
        ),
        with_analysis=False,
    )
    tables = result.tables
    return LinkedTables(
        papers=collect_papers(tables["papers"]),
        authors=tables["authors"],
        paper_authors=tables["paper_authors"],
        paper_sources=tables["paper_sources"],
        paper_matches=tables["paper_matches"],
        paper_field_sources=tables["paper_field_sources"],
        n_candidate_pairs=result.report.n_candidate_pairs,
        notes=result.report.notes,
    )
