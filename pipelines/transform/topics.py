"""Categories and topics of papers: pure frame -> frame functions.

``category_table`` resolves every printed arXiv code against the taxonomy and
keeps codes the taxonomy lacks, flagged. ``paper_topics`` gives each paper its
topics: by keyword (one regex pass per topic over title + abstract) and by
the category it was printed with.
"""

from __future__ import annotations

import polars as pl

CATEGORIES = pl.Schema(
    {
        "category_code": pl.String,  # as printed (key)
        "category_id": pl.String,  # arXiv id; the printed code itself when unknown
        "category_name": pl.String,
        "archive": pl.String,
        "group_name": pl.String,
        "also_means": pl.String,
        "is_known": pl.Boolean,
    }
)

TOPICS = pl.Schema(
    {
        "topic": pl.String,
        "topic_position": pl.Int64,
        "description": pl.String,
        "pattern": pl.String,  # the regex actually run (patterns joined, case-insensitive)
        "categories": pl.List(pl.String),
    }
)

PAPER_TOPICS = pl.Schema(
    {
        "paper_id": pl.String,
        "topic": pl.String,
        "method": pl.String,  # 'keyword' or 'category'
        "evidence": pl.String,  # the matched text, or the category id
    }
)

# Longer matches say nothing more about why; a short evidence string stays readable.
EVIDENCE_CHARS = 80


def _code_key(code: pl.Expr) -> pl.Expr:
    """Printed codes are compared trimmed and upper case ("lg " and "LG" agree)."""
    return code.str.strip_chars().str.to_uppercase()


def category_table(printed_codes: pl.Series, taxonomy: pl.DataFrame) -> pl.DataFrame:
    """One row per taxonomy code and per printed code, resolved to an arXiv category.

    A printed code matches a taxonomy row by its code or by its full id (a dump
    printing ``cs.LG`` finds cs.LG). A code matching neither is kept with
    ``is_known`` false and its own text as ``category_id``, so papers carrying it
    still group and count.
    """
    known = taxonomy.rename({"code": "category_code"}).with_columns(is_known=pl.lit(True))
    lookup = pl.concat(
        [
            taxonomy.with_columns(key=_code_key(pl.col("code")), rank=pl.lit(0)),
            taxonomy.with_columns(key=_code_key(pl.col("category_id")), rank=pl.lit(1)),
        ]
    )
    # A code wins over an id spelling the same key; then the first id in code order.
    lookup = lookup.sort("key", "rank", "code").unique("key", keep="first").drop("code", "rank")
    printed = (
        printed_codes.drop_nulls()
        .unique()
        .rename("category_code")
        .to_frame()
        .filter(~pl.col("category_code").is_in(known["category_code"].implode()))
        .with_columns(key=_code_key(pl.col("category_code")))
        .join(lookup, on="key", how="left")
        .with_columns(
            is_known=pl.col("category_id").is_not_null(),
            category_id=pl.coalesce("category_id", "category_code"),
        )
        .drop("key")
    )
    return (
        pl.concat([known, printed], how="diagonal")
        .select(list(CATEGORIES.names()))
        .cast(dict(CATEGORIES))
        .sort("category_code")
    )


def topic_table(rules: pl.DataFrame) -> pl.DataFrame:
    """The topics as a table, with the one regex per topic that ``paper_topics`` runs."""
    return (
        rules.with_columns(
            pattern=pl.when(pl.col("patterns").list.len() > 0).then(
                pl.lit("(?i)(?:")
                + pl.col("patterns").list.eval(pl.lit("(?:") + pl.element() + ")").list.join("|")
                + pl.lit(")")
            )
        )
        .select(list(TOPICS.names()))
        .cast(dict(TOPICS))
        .sort("topic_position")
    )


def paper_topics(
    papers: pl.DataFrame, categories: pl.DataFrame, topics: pl.DataFrame
) -> pl.DataFrame:
    """Topics of each paper: (paper_id, topic, method, evidence), key (paper_id, topic, method).

    ``papers`` needs paper_id, title, abstract and category; ``categories`` is
    ``category_table``'s output and ``topics`` is ``topic_table``'s. Keyword
    matching runs one regex extraction per topic over the whole text column;
    papers without a printed category (daily listings, scholar pages) still
    get keyword topics.
    """
    text = pl.concat_str(
        [pl.col("title").fill_null(""), pl.col("abstract").fill_null("")], separator="\n"
    )
    with_pattern = topics.filter(pl.col("pattern").is_not_null())
    # Columns are named by position, not by topic name, so any name is safe.
    columns = {
        f"t{row['topic_position']}": row["pattern"]
        for row in with_pattern.select("topic_position", "pattern").iter_rows(named=True)
    }
    keyword = pl.DataFrame(schema=PAPER_TOPICS)
    if columns:
        keyword = (
            papers.select(
                "paper_id",
                *[
                    text.str.extract(pattern, 0).str.slice(0, EVIDENCE_CHARS).alias(name)
                    for name, pattern in columns.items()
                ],
            )
            .unpivot(index="paper_id", variable_name="column", value_name="evidence")
            .drop_nulls("evidence")
            .join(
                with_pattern.select("topic", column=pl.format("t{}", pl.col("topic_position"))),
                on="column",
            )
            .select("paper_id", "topic", method=pl.lit("keyword"), evidence="evidence")
        )
    implied = topics.select("topic", category_id=pl.col("categories")).explode("category_id")
    by_category = (
        papers.select("paper_id", category_code="category")
        .join(categories.select("category_code", "category_id"), on="category_code")
        .join(implied, on="category_id")
        .select("paper_id", "topic", method=pl.lit("category"), evidence="category_id")
    )
    return (
        pl.concat([keyword, by_category])
        .cast(dict(PAPER_TOPICS))
        .unique(["paper_id", "topic", "method"], keep="first", maintain_order=True)
        .sort("paper_id", "topic", "method")
    )
