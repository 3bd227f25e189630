"""The link stage: the published version's linkage state plus this run's dumps give the
linked and analysis tables (``pipelines.transform.linkage`` does the linking).

The dumps' records are read lazily from the extraction cache (``CacheSource``);
``link_tables`` links tables already in memory, from scratch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import polars as pl

import pipelines.extract as extract
from pipelines import state_files, store
from pipelines.config import MatchConfig
from pipelines.curation import read_aliases, read_overrides
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES
from pipelines.taxonomy import Taxonomies, load_taxonomies
from pipelines.transform.linkage import (
    NOT_RUN,
    LinkInputs,
    LinkReport,
    LinkResult,
    MemorySource,
    dumps_notes,
    inputs_context,
    pair_decisions,
    relink,
    weak_splits,
)
from pipelines.transform.state import (
    DUMP_PROFILES,
    DUMP_SOURCES,
    DUMPS,
    LinkState,
    SpilledFrame,
    StateUnreadable,
    context_changes,
    read_key_frames,
)
from pipelines.transform.wide import collect_papers


class CacheSource:
    """The records of a run's dumps, read lazily from the extraction cache."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._cache: store.ExtractCache | None = None

    @property
    def cache(self) -> store.ExtractCache:
        # Read when first needed: the cache is complete by then (after collect).
        if self._cache is None:
            self._cache = store.ExtractCache(self.cache_dir)
        return self._cache

    def records(self, keys: Sequence[str]) -> pl.LazyFrame:
        return self.cache.scan(keys, "records", RECORDS)

    def rejects(self, keys: Sequence[str]) -> pl.LazyFrame:
        return self.cache.scan(keys, "rejects", REJECTS).drop("cache_key")

    def stored_together(self, keys: Sequence[str]) -> list[list[str]]:
        return self.cache.by_pack(keys)

    def dumps(self, keys: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        keys = list(keys)
        sources = self.cache.scan(keys, "source", SOURCES).collect()
        profiles = self.cache.scan(keys, "profile", PROFILES).collect()
        notes = pl.DataFrame(
            {"cache_key": keys, "notes": [self.cache.notes(key) for key in keys]},
            schema={"cache_key": pl.String, "notes": pl.List(pl.String)},
        )
        dumps = notes.join(sources.select("cache_key", "source_file"), on="cache_key", how="left")
        return (
            dumps.select(list(DUMPS.names())),
            sources.select(list(DUMP_SOURCES.names())),
            profiles.select(list(DUMP_PROFILES.names())),
        )


def _inputs(raw_dir: Path, config: MatchConfig | None, taxonomies: Taxonomies | None) -> LinkInputs:
    return LinkInputs(
        config=config or MatchConfig(),
        overrides=read_overrides(raw_dir),
        aliases=read_aliases(raw_dir),
        taxonomies=taxonomies or load_taxonomies(raw_dir),
        parser_version=extract.PARSER_VERSION,
    )


def link_warehouse(
    collected,
    warehouse_dir: Path,
    raw_dir: Path,
    config: MatchConfig | None = None,
    taxonomies: Taxonomies | None = None,
) -> LinkResult:
    """Link a run's dumps from the linkage state the published version kept.

    Only what the new, changed and removed dumps touch is re-derived (a full
    re-link when no state is kept, or overrides, aliases, taxonomies, match
    settings or versions changed: the report says which). The tables are
    those of ``link_tables``; the wide ones (records, papers) are LazyFrames
    over the extraction cache. Overrides (raw/overrides.toml), aliases
    (raw/aliases.toml) and the taxonomies are honoured.

    The state frames no table needs are written to ``state_files.spill_folder`` as
    soon as they are final; ``staging.write_version`` moves them into the
    version (and removes the folder).
    """
    spilled = state_files.spill_folder(warehouse_dir)
    store.discard_version(spilled)  # a folder left by a run that did not write its link

    def spill(name: str, frame: pl.DataFrame) -> SpilledFrame:
        return SpilledFrame(state_files.write_state(spilled, f"link_{name}", frame))

    def link(old) -> LinkResult:
        return relink(
            old,
            collected.entries,
            CacheSource(store.cache_dir(warehouse_dir)),
            _inputs(raw_dir, config, taxonomies),
            uncached=collected.uncached,
            spill=spill,
        )

    # The state's files, not its frames: each step reads the old frames it needs
    # and lets them go as it replaces them.
    try:
        return link(LinkState.from_files(lambda name: state_files.state_path(warehouse_dir, name)))
    except StateUnreadable as err:
        store.discard_version(spilled)
        linked = link(None)
        reason = f"the linkage state could not be read ({err})"
        linked.report = dataclasses.replace(linked.report, reason=reason)
        return linked


def unchanged_link(
    collected,
    warehouse_dir: Path,
    raw_dir: Path,
    published: tuple[str, dict],
    tables: dict[str, pl.LazyFrame],
    taxonomies: Taxonomies | None = None,
) -> tuple[LinkReport, list[str]] | None:
    """What linking ``collected`` would report when it would change no row of the
    published version (``published``: its id and build record; ``tables``: its tables):
    (the report, the dumps' extraction notes). None when the dumps must be linked.

    Known without linking, from three small frames of that version's linkage
    state: it was derived with the same settings, parser version, overrides,
    aliases and taxonomies (its context, as ``relink`` compares it), from the
    same cache entries (no dump added or removed, so none re-split and no
    paper re-derived), and neither that run nor this one had a file without a
    cache entry (whose rows come from the run itself).
    """
    if collected.uncached:
        return None
    version, record = published
    frames = read_key_frames(lambda n: state_files.read_state(warehouse_dir, n))
    if frames is None:
        return None
    inputs = _inputs(raw_dir, None, taxonomies)
    if context_changes(frames["context"], inputs_context(inputs)) or frames["uncached"].height:
        return None
    linked_before = sorted(frames["dumps"].select("source_file", "cache_key").rows())
    if linked_before != sorted(collected.entries):
        return None
    notes = record.get("link_notes")
    if notes is None and not (inputs.overrides.height or any(a.height for a in inputs.aliases)):
        notes = []  # recorded before link notes were: without overrides or aliases there are none
    if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        return None
    report = LinkReport(
        decisions=pair_decisions(tables["paper_matches"]),
        weak_splits=weak_splits(tables["records"].sort("source_file", "record_index")),
        notes=notes,
        mode=NOT_RUN,
        reason=f"version {version} was linked from the same dumps and settings",
    )
    return report, dumps_notes(frames["dumps"])


def link_tables(
    tables: dict[str, pl.DataFrame],
    raw_dir: Path,
    config: MatchConfig | None = None,
    taxonomies: Taxonomies | None = None,
) -> tuple[dict[str, pl.DataFrame], LinkReport]:
    """The linked and analysis tables from extraction tables in memory, from scratch.

    Adds papers, authors, paper_authors, paper_sources, paper_matches,
    paper_field_sources, honouring raw/overrides.toml and raw/aliases.toml,
    and the analysis tables built on them: categories, topics, paper_topics,
    author_network (graph measures) and profile_owners. ``taxonomies``
    defaults to raw_dir's copies of the taxonomy files, else the shipped ones.

    The second look at weak title splits happens here, not at extraction, so
    each dump's cached extraction does not depend on the other dumps.
    """
    source = MemorySource(tables)
    result = relink(None, source.entries(), source, _inputs(raw_dir, config, taxonomies))
    return collect_tables(result.tables), result.report


def collect_tables(tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    """Every table as a DataFrame (the wide ones are LazyFrames over the source).

    The papers come out of their LazyFrame in no order: collected, by id.
    """
    return {
        name: (collect_papers(frame) if name == "papers" else frame.collect())
        if isinstance(frame, pl.LazyFrame)
        else frame
        for name, frame in tables.items()
    }
