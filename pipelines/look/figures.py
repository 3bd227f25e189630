"""What the report shows, aggregated in SQL over the published views.

Each function returns small frames (one row per year, format, reason, ...)
whatever the warehouse's size; lists that could grow with it are capped here,
and the cap and the full count are returned together so the report can say
what it left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.look.database import frame, scalar

MAX_REASONS = 30
SAMPLES_PER_REASON = 3
SAMPLE_CHARS = 160
MAX_CATEGORIES = 15
MAX_TOPICS = 30
MAX_TOP_AUTHORS = 15
# Growth compares the last GROWTH_YEARS dated years with the GROWTH_YEARS before.
GROWTH_YEARS = 3

VIEWS = (
    "sources",
    "records",
    "rejects",
    "papers",
    "authors",
    "paper_authors",
    "paper_matches",
    "papers_by_year",
    "category_year",
    "topic_year",
    "author_summary",
    "author_network",
    "coauthor_pairs",
)


def overview(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The warehouse's headline counts."""
    return frame(
        con,
        """
        select
            (select count(*) from sources) as n_files,
            (select count(*) from sources where format is null) as n_quarantined_files,
            (select coalesce(sum(n_lines), 0) from sources)::bigint as n_lines,
            (select count(*) from records) as n_records,
            (select coalesce(sum(n_rejected_lines), 0) from sources)::bigint as n_rejected_lines,
            (select count(*) from papers) as n_papers,
            (select count(*) from papers where year is null) as n_undated_papers,
            (select count(*) from authors) as n_authors,
            (select count(*) from coauthor_pairs) as n_coauthor_pairs
        """,
    ).row(0, named=True)


def formats(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Inputs by format and their line accounting (record + rejected + furniture = lines)."""
    return frame(
        con,
        """
        select coalesce(format, '(quarantined)') as format,
               count(*)::bigint as files,
               sum(n_lines)::bigint as lines,
               sum(n_records)::bigint as records,
               sum(n_record_lines)::bigint as record_lines,
               sum(n_rejected_lines)::bigint as rejected_lines,
               sum(n_furniture_lines)::bigint as furniture_lines,
               (sum(n_lines) - sum(n_record_lines) - sum(n_rejected_lines)
                - sum(n_furniture_lines))::bigint as unaccounted_lines
        from sources
        group by all
        order by format
        """,
    )


@dataclass(frozen=True)
class Quarantine:
    reasons: pl.DataFrame  # reason, runs, lines, files
    samples: pl.DataFrame  # reason, source_file, line_start, line_end, text
    n_reasons: int


def quarantine(con: duckdb.DuckDBPyConnection) -> Quarantine:
    """Quarantined lines by reason (most lines first), a few sample runs of each."""
    reasons = frame(
        con,
        """
        select reason, count(*)::bigint as runs,
               coalesce(sum(line_end - line_start + 1), 0)::bigint as lines,
               count(distinct source_file)::bigint as files
        from rejects
        group by reason
        order by lines desc, reason
        """,
    )
    samples = frame(
        con,
        """
        select reason, source_file, line_start, line_end, left(raw_text, $chars) as text
        from rejects
        qualify row_number() over (
            partition by reason order by source_file, line_start nulls first
        ) <= $n
        order by reason, source_file, line_start nulls first
        """,
        {"chars": SAMPLE_CHARS, "n": SAMPLES_PER_REASON},
    )
    shown = reasons.head(MAX_REASONS)
    return Quarantine(
        shown,
        samples.filter(pl.col("reason").is_in(shown["reason"].implode())),
        reasons.height,
    )


def years(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """papers_by_year (every year, zeros included) with the change on the year before."""
    return frame(
        con,
        """
        select year, n_papers, n_authors, n_new_authors, mean_team_size,
               n_papers - lag(n_papers) over (order by year) as change
        from papers_by_year
        order by year
        """,
    )


@dataclass(frozen=True)
class ByYear:
    """A (key, year) grid, zero-filled, of the most frequent keys, and their growth."""

    grid: pl.DataFrame  # key, year, n_papers
    growth: pl.DataFrame  # key, total, previous, recent, change
    n_keys: int  # keys in the warehouse (the grid holds at most the cap)
    recent: tuple[int, int] | None  # the years compared, (first, last) of each window
    previous: tuple[int, int] | None


def _growth(grid: pl.DataFrame) -> tuple[pl.DataFrame, tuple | None, tuple | None]:
    if grid.is_empty():
        empty = pl.DataFrame(
            schema={
                "key": pl.String,
                "total": pl.Int64,
                "previous": pl.Int64,
                "recent": pl.Int64,
                "change": pl.Int64,
            }
        )
        return empty, None, None
    last = int(grid["year"].max())
    recent = (last - GROWTH_YEARS + 1, last)
    previous = (last - 2 * GROWTH_YEARS + 1, last - GROWTH_YEARS)
    growth = (
        grid.group_by("key")
        .agg(
            total=pl.col("n_papers").sum(),
            previous=pl.col("n_papers").filter(pl.col("year").is_between(*previous)).sum(),
            recent=pl.col("n_papers").filter(pl.col("year").is_between(*recent)).sum(),
        )
        .with_columns(change=pl.col("recent") - pl.col("previous"))
        .sort(["change", "total", "key"], descending=[True, True, False])
    )
    return growth, recent, previous


def _by_year(con: duckdb.DuckDBPyConnection, grid_sql: str, keys_sql: str, cap: int) -> ByYear:
    grid = frame(con, grid_sql, {"cap": cap})
    growth, recent, previous = _growth(grid)
    return ByYear(grid, growth, int(scalar(con, keys_sql) or 0), recent, previous)


def category_years(con: duckdb.DuckDBPyConnection) -> ByYear:
    """Papers per arXiv category and year, for the categories with most papers."""
    return _by_year(
        con,
        """
        with ranked as (
            select category_id, sum(n_papers) as total from category_year
            group by category_id
            order by total desc, category_id
            limit $cap
        )
        select c.category_id || coalesce(' ' || c.category_name, '') as key,
               c.year, c.n_papers
        from category_year c join ranked using (category_id)
        order by key, year
        """,
        "select count(distinct category_id) from category_year",
        MAX_CATEGORIES,
    )


def topic_years(con: duckdb.DuckDBPyConnection) -> ByYear:
    """Papers per topic and year, for the topics with most papers."""
    return _by_year(
        con,
        """
        with ranked as (
            select topic, sum(n_papers) as total from topic_year
            group by topic
            order by total desc, topic
            limit $cap
        )
        select t.topic as key, t.year, t.n_papers
        from topic_year t join ranked using (topic)
        order by key, year
        """,
        "select count(distinct topic) from topic_year",
        MAX_TOPICS,
    )


@dataclass(frozen=True)
class TopAuthors:
    table: pl.DataFrame  # author_summary rows of the top authors
    grid: pl.DataFrame  # name, year, n_papers (zero-filled over the dated years)
    n_authors: int


def top_authors(con: duckdb.DuckDBPyConnection) -> TopAuthors:
    """The authors with most papers, and their papers per year."""
    table = frame(
        con,
        """
        select author_id, name, n_papers, first_year, last_year, n_coauthors,
               top_topic, top_category_id
        from author_summary
        order by n_papers desc, n_coauthors desc, author_id
        limit $cap
        """,
        {"cap": MAX_TOP_AUTHORS},
    )
    grid = frame(
        con,
        """
        with top as (
            select author_id, name from author_summary
            order by n_papers desc, n_coauthors desc, author_id
            limit $cap
        ),
        span as (select year from papers_by_year),
        -- top as a filter (in), not a join: with the join DuckDB scanned papers
        -- filtered on the top authors' paper ids, 4x slower at 1 GB than
        -- hashing papers and probing it with their paper_authors rows.
        counted as (
            select pa.author_id, p.year, count(distinct p.paper_id)::bigint as n
            from paper_authors pa
            join papers p using (paper_id)
            where p.year is not null and pa.author_id in (select author_id from top)
            group by pa.author_id, p.year
        )
        select t.name, t.author_id, s.year, coalesce(c.n, 0)::bigint as n_papers
        from top t cross join span s
        left join counted c on c.author_id = t.author_id and c.year = s.year
        order by t.name, s.year
        """,
        {"cap": MAX_TOP_AUTHORS},
    )
    return TopAuthors(table, grid, int(scalar(con, "select count(*) from authors") or 0))


@dataclass(frozen=True)
class Merges:
    n_merged_papers: int  # papers linked from more than one record
    n_merged_records: int  # records in those papers
    by_size: pl.DataFrame  # n_records, papers
    decisions: pl.DataFrame  # decision, pairs
    n_overridden: int  # pairs decided by raw/overrides.toml


def merges(con: duckdb.DuckDBPyConnection) -> Merges:
    """How records became papers: merged papers, pair decisions, human overrides."""
    counts = frame(
        con,
        """
        select count(*) filter (where n_records > 1) as papers,
               coalesce(sum(n_records) filter (where n_records > 1), 0)::bigint as records
        from papers
        """,
    ).row(0)
    by_size = frame(
        con,
        """
        select n_records, count(*)::bigint as papers from papers
        group by n_records order by n_records
        """,
    )
    decisions = frame(
        con,
        """
        select decision, count(*)::bigint as pairs from paper_matches
        group by decision order by decision
        """,
    )
    overridden = scalar(con, "select count(*) from paper_matches where rule like 'override%'")
    return Merges(int(counts[0]), int(counts[1]), by_size, decisions, int(overridden or 0))
