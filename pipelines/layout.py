"""How each warehouse table is laid out in data files: its row order, buckets and key.

A table's rows are split into buckets by a stable key, so that a change in
a few dumps rewrites a few files and the rest keep theirs:

- per-dump tables (sources, records, rejects, profiles, profile_owners) by
  their ``source_file``;
- paper tables (papers, paper_authors, paper_field_sources, paper_topics,
  paper_sources) by the paper's *home dump*, the smallest ``source_file``
  among its records, so that the new papers of a new dump land in one file;
- paper_matches by the dump of ``record_id_a``; author tables by ``author_id``;
- small tables (categories, topics) in one file.

A key's bucket is the first 4 bytes of its MD5 (big-endian) modulo the
table's bucket count: the same on every machine and run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

# How a table's rows are split into buckets.
BY_SOURCE, BY_PAPER, BY_RECORD_A, BY_AUTHOR, ONE_FILE = (
    "source_file",
    "home dump of paper_id",
    "dump of record_id_a",
    "author_id",
    "one file",
)


@dataclass(frozen=True)
class TableLayout:
    """How one table is laid out in files: its row order (and key), buckets and their key."""

    order: tuple[str, ...]
    split_by: str = ONE_FILE
    buckets: int = 1


# Paper tables: one dump's papers have their homes in about a hundred other
# dumps (the papers it shares with them), so their rows are rewritten in the
# share of buckets those homes fall in: about 80% of 64 buckets, 54% of 128,
# 32% of 256. Every file costs a few fixed milliseconds in a full write, and
# 256 buckets made a full refresh 15 s slower at 100 MB and 1 GB.
PAPER_BUCKETS = 128
TABLES: dict[str, TableLayout] = {
    "sources": TableLayout(("source_file",), BY_SOURCE, 8),
    "records": TableLayout(("source_file", "record_index"), BY_SOURCE, 64),
    "rejects": TableLayout(("source_file", "line_start"), BY_SOURCE, 16),
    "profiles": TableLayout(("source_file",), BY_SOURCE, 8),
    "papers": TableLayout(("paper_id",), BY_PAPER, PAPER_BUCKETS),
    "authors": TableLayout(("author_id",), BY_AUTHOR, 16),
    "paper_authors": TableLayout(("paper_id", "author_position"), BY_PAPER, PAPER_BUCKETS),
    "paper_sources": TableLayout(
        ("paper_id", "source_file", "record_index"), BY_PAPER, PAPER_BUCKETS
    ),
    "paper_matches": TableLayout(("record_id_a", "record_id_b"), BY_RECORD_A, 16),
    "paper_field_sources": TableLayout(("paper_id", "field"), BY_PAPER, PAPER_BUCKETS),
    "categories": TableLayout(("category_code",)),
    "topics": TableLayout(("topic_position",)),
    "paper_topics": TableLayout(("paper_id", "topic", "method"), BY_PAPER, PAPER_BUCKETS),
    "author_network": TableLayout(("author_id",), BY_AUTHOR, 16),
    "profile_owners": TableLayout(("source_file",), BY_SOURCE, 4),
}


def layout_of(name: str, columns: Collection[str]) -> TableLayout:
    """The layout of table ``name`` (a table paperlake does not know: one file, as given)."""
    layout = TABLES.get(name, TableLayout(()))
    order = tuple(c for c in layout.order if c in columns)
    needed = {BY_SOURCE: "source_file", BY_PAPER: "paper_id", BY_RECORD_A: "record_id_a"}
    needed[BY_AUTHOR] = "author_id"
    if layout.split_by != ONE_FILE and needed[layout.split_by] not in columns:
        return TableLayout(order)
    return TableLayout(order, layout.split_by, layout.buckets)


def bucket_of(key: str | None, buckets: int) -> int:
    """The bucket of a key among ``buckets``: MD5's first 4 bytes, big-endian, modulo."""
    if key is None or buckets <= 1:
        return 0
    return int.from_bytes(hashlib.md5(key.encode("utf-8")).digest()[:4], "big") % buckets


def source_buckets(table: str, source_files: Collection[str]) -> set[int]:
    """The buckets of ``table`` that rows of these dumps fall in (per-dump tables, and
    paper tables for papers whose home dump is one of them)."""
    layout = TABLES.get(table, TableLayout(()))
    return {bucket_of(name, layout.buckets) for name in source_files}


# The tables whose rows are exactly those a link's WriteHints name (see
# ``linkage.WriteHints``): per dump, and per paper by its home dump.
HINTED_BY_SOURCE = ("records", "rejects")
HINTED_BY_PAPER = (
    "papers",
    "paper_authors",
    "paper_field_sources",
    "paper_topics",
    "paper_sources",
)


def unchanged_buckets(sources: Collection[str], homes: Collection[str]) -> dict[str, set[int]]:
    """The buckets per table that hold no row a link changed, for ``write_tables``.

    ``sources``: dumps whose per-dump rows may differ; ``homes``: home dumps
    of papers whose rows may differ (a link's ``WriteHints``). Every other
    bucket of the hinted tables keeps the published files without being read.
    """
    unchanged = {}
    for table, keys in [
        *((t, sources) for t in HINTED_BY_SOURCE),
        *((t, homes) for t in HINTED_BY_PAPER),
    ]:
        every = set(range(TABLES[table].buckets))
        unchanged[table] = every - source_buckets(table, keys)
    return unchanged
