"""Link records into papers and authors (v0: equal normalised titles).

Two records are one paper when their title keys are equal. Each paper field
comes from the best record by a fixed rule (see ``build_papers``); ids are
hashes of keys, so they do not depend on file order or unrelated dumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.transform.clean import has_markup, name_key, title_key
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
        "n_records": pl.Int64,
        "title_key": pl.String,
    }
)


@dataclass(frozen=True)
class LinkedTables:
    papers: pl.DataFrame
    authors: pl.DataFrame
    paper_authors: pl.DataFrame
    paper_sources: pl.DataFrame


def _ranked_records(records: pl.DataFrame) -> pl.DataFrame:
    """Records with their paper key and a rank: lower is the better source of a field."""
    key = title_key(pl.col("title"))
    return records.with_columns(
        # A title of punctuation only keeps its own text as key rather than vanish.
        title_key=pl.when(key == "").then(pl.col("title").str.to_lowercase()).otherwise(key),
        markup=has_markup(pl.col("title")),
        printed_year=pl.col("date_text").str.contains(r"\d{4}$").fill_null(False),
    ).filter(pl.col("title_key").is_not_null())


def build_papers(records: pl.DataFrame) -> LinkedTables:
    """Group records into papers and resolve their authors.

    Field rules: title from a record without LaTeX markup if there is one; a
    date printed with its year over an inferred one; the first category and
    abstract in file order; ``has_code`` if any record says so; the highest
    upvotes; the author list from a record whose list is not cut, else the
    longest one.
    """
    ranked = _ranked_records(records).sort("source_file", "record_index")
    ranked = ranked.with_columns(paper_id=stable_ids(ranked["title_key"], "pap_"))

    def best(column: str, *order: pl.Expr) -> pl.Expr:
        valid = pl.col(column).filter(pl.col(column).is_not_null())
        if order:
            keys = [o.filter(pl.col(column).is_not_null()) for o in order]
            return valid.sort_by(*keys, maintain_order=True).first()
        return valid.first()

    papers = ranked.group_by("paper_id").agg(
        title=best("title", pl.col("markup")),
        abstract=best("abstract"),
        published_date=best("published_date", ~pl.col("printed_year")),
        category=best("category"),
        has_code=pl.col("has_code").max(),  # true if any record says so
        upvotes=pl.col("upvotes").max(),
        author_count=pl.col("author_count").max(),
        n_records=pl.len(),
        title_key=pl.col("title_key").first(),
    )
    papers = papers.with_columns(
        year=pl.col("published_date").dt.year().cast(pl.Int32),
    )

    # The author list: uncut first, then the longest, then file order.
    lists = (
        ranked.with_columns(n=pl.col("authors").list.len())
        .filter(pl.col("n") > 0)
        .sort(
            ["paper_id", "authors_truncated", "n", "source_file", "record_index"],
            descending=[False, False, True, False, False],
            nulls_last=True,
        )
        .group_by("paper_id", maintain_order=True)
        .first()
        .select("paper_id", "authors", "authors_truncated")
    )
    papers = papers.join(
        lists.select("paper_id", "authors_truncated"), on="paper_id", how="left"
    ).with_columns(pl.col("authors_truncated").fill_null(True))

    paper_authors = (
        lists.select("paper_id", "authors")
        .with_columns(author_position=pl.int_ranges(1, pl.col("authors").list.len() + 1))
        .explode("authors", "author_position")
        .rename({"authors": "name"})
        .with_columns(name_key=name_key(pl.col("name")))
        .filter(pl.col("name_key") != "")
    )
    paper_authors = paper_authors.with_columns(
        author_id=stable_ids(paper_authors["name_key"], "aut_"),
        author_position=pl.col("author_position").cast(pl.Int64),
    )
    # Display name: the most frequent printed form, ties broken alphabetically.
    authors = (
        paper_authors.group_by("author_id", "name")
        .agg(n=pl.len())
        .sort(["author_id", "n", "name"], descending=[False, True, False])
        .group_by("author_id", maintain_order=True)
        .agg(name=pl.col("name").first(), n_papers=pl.col("n").sum())
        .with_columns(pl.col("n_papers").cast(pl.Int64))
        .sort("author_id")
    )
    paper_authors = (
        paper_authors.select("paper_id", "author_id", "author_position")
        .unique(["paper_id", "author_id"], keep="first", maintain_order=True)
        .sort("paper_id", "author_position")
    )
    paper_sources = ranked.select("paper_id", "source_file", "record_index", "record_id").sort(
        "paper_id", "source_file", "record_index"
    )
    papers = papers.select(list(PAPERS.names())).cast(dict(PAPERS)).sort("paper_id")
    return LinkedTables(papers, authors, paper_authors, paper_sources)
