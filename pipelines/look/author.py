"""One person's page, like a dblp person page built from the warehouse's own dumps.

A name is looked up forgivingly: first folded as ``author_id`` folds names
(accents, case, hyphens, dots and spacing; "Family, Given" turned round), then
by its initials ("Q. Hu" finds "Qinghao Hu"), then fuzzily with rapidfuzz. A
close fuzzy match that stands alone is taken; otherwise the close names are
offered as suggestions (scored by WRatio, which also finds a part of a name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl
from rapidfuzz import fuzz, process

from pipelines.look.database import frame
from pipelines.transform.clean import name_key

VIEWS = (
    "author_summary",
    "coauthors",
    "author_topics",
    "paper_authors",
    "papers",
    "paper_sources",
    "categories",
    "profile_summary",
)
# A fuzzy match is taken when it scores this high and no other comes close.
FUZZY_TAKE = 90.0
FUZZY_MARGIN = 3.0
FUZZY_SUGGEST = 75.0
MAX_SUGGESTIONS = 8


@dataclass(frozen=True)
class Lookup:
    """Who a name means: ``author_id`` (None when nobody), how it was found, other candidates."""

    query: str
    author_id: str | None
    name: str | None
    how: str  # "folded", "initials", "fuzzy" or "none"
    suggestions: list[tuple[str, int]] = field(default_factory=list)  # (name, papers)


def fold(name: str) -> str:
    """The key ``author_id`` is made from, for a typed name ("Hu, Qinghao" = "qinghao hu")."""
    if name.count(",") == 1:  # Family, Given
        family, given = (part.strip() for part in name.split(","))
        name = f"{given} {family}"
    return pl.select(name_key(pl.lit(name))).item()


def _initials_pattern(key: str) -> str | None:
    """A regex for a key with initials ("q hu" -> "q\\w* hu"), None when it has none."""
    tokens = key.split()
    if not any(len(t) == 1 for t in tokens) or len(tokens) < 2:
        return None
    parts = [re.escape(t) + (r"\w*" if len(t) == 1 else "") for t in tokens]
    return "^" + " ".join(parts) + "$"


def find_author(con: duckdb.DuckDBPyConnection, query: str) -> Lookup:
    """Look ``query`` up among the warehouse's authors (see the module docstring)."""
    key = fold(query)
    authors = frame(
        con, "select author_id, name, n_papers from author_summary order by author_id"
    ).with_columns(key=name_key(pl.col("name")))
    ranked = ["n_papers", "name", "author_id"]

    def chosen(rows: pl.DataFrame, how: str) -> Lookup:
        rows = rows.sort(ranked, descending=[True, False, False])
        best = rows.row(0, named=True)
        others = [(r["name"], r["n_papers"]) for r in rows.slice(1).iter_rows(named=True)]
        return Lookup(query, best["author_id"], best["name"], how, others[:MAX_SUGGESTIONS])

    if not key:
        return Lookup(query, None, None, "none")
    exact = authors.filter(pl.col("key") == key)
    if exact.height:
        return chosen(exact, "folded")
    pattern = _initials_pattern(key)
    by_initials = authors.filter(pl.col("key").str.contains(pattern)) if pattern else None
    if by_initials is not None and by_initials.height == 1:
        return chosen(by_initials, "initials")
    keys = authors["key"].to_list()
    # A typo in a whole name: order-free similarity of the whole keys.
    typos = process.extract(key, keys, scorer=fuzz.token_sort_ratio, limit=2)
    if (
        typos
        and typos[0][1] >= FUZZY_TAKE
        and (len(typos) == 1 or typos[1][1] < typos[0][1] - FUZZY_MARGIN)
    ):
        return chosen(authors[[typos[0][2]]], "fuzzy")
    # Otherwise suggest: WRatio also scores a part of a name ("Zhihao").
    hits = process.extract(
        key, keys, scorer=fuzz.WRatio, limit=MAX_SUGGESTIONS, score_cutoff=FUZZY_SUGGEST
    )
    candidates = authors[[i for _, _, i in hits]]
    if by_initials is not None and by_initials.height:
        candidates = pl.concat([by_initials, candidates]).unique("author_id", maintain_order=True)
    suggestions = [(r["name"], r["n_papers"]) for r in candidates.iter_rows(named=True)]
    return Lookup(query, None, None, "none", suggestions[:MAX_SUGGESTIONS])


@dataclass(frozen=True)
class AuthorPage:
    """Everything ``paperlake author`` shows about one person."""

    summary: dict[str, Any]
    papers: pl.DataFrame  # one row per paper, newest first
    by_year: pl.DataFrame  # year, papers (undated papers as year null)
    coauthors: pl.DataFrame
    topics: pl.DataFrame
    categories: pl.DataFrame
    profiles: pl.DataFrame  # profile pages whose owner this is

    def to_dict(self) -> dict[str, Any]:
        return {
            "author": self.summary,
            "papers_by_year": self.by_year.to_dicts(),
            "papers": self.papers.to_dicts(),
            "coauthors": self.coauthors.to_dicts(),
            "topics": self.topics.to_dicts(),
            "categories": self.categories.to_dicts(),
            "profile_pages": self.profiles.to_dicts(),
        }


def author_page(con: duckdb.DuckDBPyConnection, author_id: str) -> AuthorPage:
    """The page of ``author_id`` (an id from ``find_author``)."""
    params = {"id": author_id}
    summary = frame(con, "select * from author_summary where author_id = $id", params)
    papers = frame(
        con,
        """
        with mine as (
            select paper_id, author_position from paper_authors where author_id = $id
        ),
        printed as (
            select pa.paper_id, string_agg(a.name, ', ' order by pa.author_position) as authors
            from paper_authors pa
            join mine using (paper_id)
            join author_summary a on a.author_id = pa.author_id
            group by pa.paper_id
        ),
        files as (
            select ps.paper_id, string_agg(distinct ps.source_file, ', ' order by ps.source_file)
                   as source_files
            from paper_sources ps
            join mine using (paper_id)
            group by ps.paper_id
        )
        select p.year, p.published_date, p.title, pr.authors, p.authors_truncated,
               m.author_position, c.category_id, p.n_records, f.source_files, p.paper_id
        from mine m
        join papers p using (paper_id)
        left join printed pr using (paper_id)
        left join files f using (paper_id)
        left join categories c on c.category_code = p.category
        order by p.year desc nulls last, p.published_date desc nulls last, p.title, p.paper_id
        """,
        params,
    )
    by_year = (
        papers.group_by("year").agg(papers=pl.len()).sort("year", descending=True, nulls_last=True)
    )
    coauthors = frame(
        con,
        """
        select coauthor_id, coauthor_name, n_papers, fractional_weight, first_year, last_year,
               n_papers_truncated
        from coauthors where author_id = $id
        order by n_papers desc, coauthor_name, coauthor_id
        """,
        params,
    )
    topics = frame(
        con,
        """
        select topic, n_papers, share_of_author_papers from author_topics
        where author_id = $id order by n_papers desc, topic
        """,
        params,
    )
    categories = frame(
        con,
        """
        select c.category_id, min(c.category_name) as category_name,
               count(distinct p.paper_id)::bigint as n_papers
        from paper_authors pa
        join papers p using (paper_id)
        join categories c on c.category_code = p.category
        where pa.author_id = $id
        group by c.category_id
        order by n_papers desc, c.category_id
        """,
        params,
    )
    profiles = frame(
        con,
        """
        select source_file, format, owner_name, primary_category_id, h_index, paper_count,
               citation_count, n_papers_in_file, n_papers_in_file_owner_printed
        from profile_summary where owner_author_id = $id order by source_file
        """,
        params,
    )
    return AuthorPage(
        summary=summary.row(0, named=True),
        papers=papers,
        by_year=by_year,
        coauthors=coauthors,
        topics=topics,
        categories=categories,
        profiles=profiles,
    )
