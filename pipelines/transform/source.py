"""Where linking reads the dumps' records: the ``Source`` protocol, and one in memory.

The warehouse's source is the extraction cache (``pipelines.linking.CacheSource``);
``MemorySource`` serves frames already in memory (tests, benchmarks, library use).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import polars as pl

from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES
from pipelines.transform.state import DUMP_PROFILES, DUMP_SOURCES, DUMPS


class Source(Protocol):
    """Where the records of the dumps come from (the extraction cache, or memory)."""

    def records(self, keys: Sequence[str]) -> pl.LazyFrame:
        """The wide records of these dumps (RECORDS + ``cache_key``), in no set order."""

    def rejects(self, keys: Sequence[str]) -> pl.LazyFrame:
        """Their quarantined lines (REJECTS)."""

    def dumps(self, keys: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """Their (DUMPS, DUMP_SOURCES, DUMP_PROFILES) rows."""

    def stored_together(self, keys: Sequence[str]) -> list[list[str]]:
        """``keys`` in groups whose records are stored together: reading a group reads
        its files once (for callers that read the records a slice at a time)."""


class MemorySource:
    """Records held in memory, one "dump" per source file (tests, benchmarks, library use)."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self._tables = tables

    @classmethod
    def from_records(cls, records: pl.DataFrame) -> MemorySource:
        return cls({"records": records})

    def entries(self) -> list[tuple[str, str]]:
        names = set(self._tables["records"]["source_file"])
        if "sources" in self._tables:
            names |= set(self._tables["sources"]["source_file"])
        return [(name, name) for name in sorted(names)]

    def _of(self, table: str, schema: pl.Schema, keys: Sequence[str]) -> pl.DataFrame:
        frame = self._tables.get(table)
        if frame is None:
            frame = pl.DataFrame(schema=schema)
        frame = frame.filter(pl.col("source_file").is_in(list(keys)))
        return frame.with_columns(cache_key=pl.col("source_file"))

    def records(self, keys: Sequence[str]) -> pl.LazyFrame:
        frame = self._of("records", RECORDS, keys)
        order = pl.DataFrame({"cache_key": list(keys)}).with_row_index("_order")
        return (
            frame.join(order, on="cache_key")
            .sort("_order", "record_index", maintain_order=True)
            .drop("_order")
            .lazy()
        )

    def rejects(self, keys: Sequence[str]) -> pl.LazyFrame:
        return self._of("rejects", REJECTS, keys).drop("cache_key").lazy()

    def stored_together(self, keys: Sequence[str]) -> list[list[str]]:
        return [[key] for key in keys]

    def dumps(self, keys: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        sources = self._of("sources", SOURCES, keys).select(list(DUMP_SOURCES.names()))
        profiles = self._of("profiles", PROFILES, keys).select(list(DUMP_PROFILES.names()))
        dumps = pl.DataFrame(
            {"cache_key": list(keys), "source_file": list(keys), "notes": [[]] * len(keys)},
            schema=DUMPS,
        )
        return dumps, sources, profiles
