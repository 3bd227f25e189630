"""The wide tables (records, papers with their abstracts) as LazyFrames over the source.

Linking reads and keeps narrow columns only. The abstracts are joined in
here, lazily, from the per-dump records (the extraction cache), so a table
writer that streams never holds every abstract at once; ``paper_texts``
hands the keyword topics their text one slice of dumps at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import polars as pl

from pipelines.transform.link import PAPERS

if TYPE_CHECKING:
    from pipelines.transform.source import Source

SPLIT_FIELDS = ("title", "authors", "authors_truncated", "affiliations", "title_split")
# Abstracts read together for the topics: enough for long columns, a small
# part of memory.
TEXT_CHUNK_CHARS = 64_000_000


def records_frame(source: Source, keys: Sequence[str], records: pl.DataFrame) -> pl.LazyFrame:
    """The ``records`` table: every dump's records in file order, weak splits redone.

    ``records``: linking's narrow records (record_id, title_split and the
    other SPLIT_FIELDS as re-split).
    """
    wide = source.records(keys).drop("cache_key")
    patch = records.filter(pl.col("title_split") == "known_name").select("record_id", *SPLIT_FIELDS)
    if patch.is_empty():
        return wide
    return (
        wide.join(
            patch.lazy(),
            on="record_id",
            how="left",
            suffix="__resplit",
            maintain_order="left",
            build_side="force_right",  # the few re-split records, not every record
        )
        .with_columns(pl.coalesce(f"{f}__resplit", f).alias(f) for f in SPLIT_FIELDS)
        .drop(*(f"{f}__resplit" for f in SPLIT_FIELDS))
    )


def _abstract_keys(papers: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """(cache_key, source_file, chars) of the dumps holding the chosen abstracts."""
    return (
        records.join(papers.select(record_id="abstract_record_id"), on="record_id", how="semi")
        .group_by("cache_key", "source_file")
        .agg(chars=pl.col("abstract_len").sum())
        .sort("source_file")
    )


def papers_frame(source: Source, papers: pl.DataFrame, records: pl.DataFrame) -> pl.LazyFrame:
    """The ``papers`` table: linking's paper rows with each one's chosen abstract.

    The rows come in no useful order (the writer sorts each bucket). The
    records stream past the papers, never the other way round: the join is
    told to build its hash table on the narrow papers (left to itself, the
    streaming engine built it on the records: 0.7 GB more at 1 GB of dumps),
    so the abstracts of all records are never in memory at once.
    """
    keys = _abstract_keys(papers, records)["cache_key"].to_list()
    has_abstract = pl.col("abstract_record_id").is_not_null()
    with_abstract = (
        source.records(keys)
        .select("record_id", "abstract")
        .join(
            papers.lazy().filter(has_abstract),
            left_on="record_id",
            right_on="abstract_record_id",
            how="left",
            coalesce=False,
            build_side="force_right",
        )
        .filter(pl.col("paper_id").is_not_null())
    )
    without = papers.lazy().filter(~has_abstract).with_columns(abstract=pl.lit(None, pl.String))
    names = list(PAPERS.names())
    return pl.concat([with_abstract.select(names), without.select(names)])


def collect_papers(papers: pl.LazyFrame) -> pl.DataFrame:
    """The ``papers_frame`` rows in memory, by id (as the other paper tables are)."""
    return papers.collect().sort("paper_id")


def paper_texts(
    source: Source, papers: pl.DataFrame, records: pl.DataFrame
) -> Iterator[pl.DataFrame]:
    """(paper_id, title, abstract, category) of ``papers``, a slice of dumps at a time."""
    without = papers.filter(pl.col("abstract_record_id").is_null())
    if without.height:
        yield without.select(
            "paper_id", "title", abstract=pl.lit(None, pl.String), category="category"
        )
    keys = _abstract_keys(papers, records)
    chars_of = dict(keys.select("cache_key", "chars").iter_rows())
    batch: list[str] = []
    chars = 0
    # Slices of whole storage groups (the cache's packs): a slice that took a few
    # dumps of every pack would read every pack once per slice.
    for group in source.stored_together(keys["cache_key"].to_list()):
        batch += group
        chars += sum(chars_of[key] or 0 for key in group)
        if chars >= TEXT_CHUNK_CHARS:
            yield _texts(source, papers, batch)
            batch, chars = [], 0
    if batch:
        yield _texts(source, papers, batch)


def _texts(source: Source, papers: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    abstracts = source.records(keys).select("record_id", "abstract").collect()
    return papers.join(
        abstracts, left_on="abstract_record_id", right_on="record_id", how="inner"
    ).select("paper_id", "title", "abstract", "category")
