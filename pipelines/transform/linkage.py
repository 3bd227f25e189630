"""Linking a warehouse: the previous run's state plus what changed gives the new tables.

``relink`` takes the linkage state the published version kept (``state.py``),
the dumps of this run (cache entries) and a source of their records; it
re-derives only what the changed dumps touch and returns the tables and the
next state. From scratch (no state, or a state derived with other settings)
every dump is new, and the same code computes everything: both ways give the
same tables byte for byte, by construction.

What a change touches, step by step:

1. records: those of new dumps are read and keyed; those of removed dumps
   are dropped. A weak collapsed-page split is redone when a name its line
   contains became known or unknown (``glued.py``); a record whose split
   changed counts as changed.
2. pairs: only pairs with a changed record, or in a block that crossed the
   size cap, are scored (``blocking.py``); kept pairs of unchanged records
   keep their scores.
3. papers: clusters and paper ids are recomputed over all records (narrow:
   one row per record); a paper is re-derived when one of its records
   changed or moved, or its id changed.
4. people: the authorships of re-derived papers, then the authors they name.
5. network: pair weights between authors of re-derived papers, the
   components those authors are in, and their communities (``network.py``).
6. topics: keyword and category topics of re-derived papers.

Wide columns (abstracts) are never all in memory: records are read narrow,
the abstract is chosen by its length, and the wide tables are LazyFrames
over the source (``wide.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import polars as pl

from pipelines.extract.schema import PROFILES, REJECTS, SOURCES
from pipelines.memory import give_back_freed_memory
from pipelines.transform import link, network
from pipelines.transform.glued import WEAK
from pipelines.transform.match import (
    MATCHES,
    apply_overrides,
    broken_apart_notes,
    connected_clusters,
    matches_table,
)
from pipelines.transform.profiles import profile_owners
from pipelines.transform.source import MemorySource, Source
from pipelines.transform.state import (
    PAPERS,
    UNCACHED,
    LinkState,
    SpilledFrame,
    context,
    context_changes,
)
from pipelines.transform.state import RECORDS as STATE_RECORDS
from pipelines.transform.topics import category_table, topic_table
from pipelines.transform.updates import LinkInputs, Update
from pipelines.transform.wide import papers_frame, records_frame

__all__ = [
    "NOT_RUN",
    "FramesToWrite",
    "LinkInputs",
    "LinkReport",
    "LinkResult",
    "MemorySource",
    "Source",
    "WriteHints",
    "dumps_notes",
    "inputs_context",
    "pair_decisions",
    "relink",
    "weak_splits",
]


# A refresh that found nothing to link (``linking.unchanged_link``).
NOT_RUN = "not run"


@dataclass(frozen=True)
class LinkReport:
    """What linking did: mode, compared pairs, decisions, weak splits, human overrides."""

    n_candidate_pairs: int = 0  # pairs scored this run
    decisions: dict[str, int] = field(default_factory=dict)
    weak_splits: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mode: str = "full"  # "full", "incremental" or NOT_RUN
    reason: str = ""  # why a full re-link, or why none
    changes: dict[str, int] = field(default_factory=dict)  # what the run re-derived
    seconds: dict[str, float] = field(default_factory=dict)  # time per linking step


@dataclass(frozen=True)
class WriteHints:
    """What an incremental link changed, in the keys the table writer buckets by.

    Every row of ``records`` and ``rejects`` outside ``sources``, and every
    row of the paper tables (papers, paper_authors, paper_field_sources,
    paper_topics) of a paper whose home dump is outside ``homes``, equals the
    published version's (``layout.unchanged_buckets`` turns this into buckets).

    ``sources``: dumps added, removed, with a record whose weak split was
    redone, or without a cache entry in this run or the last one.
    ``homes``: the home dump (smallest source_file) of each paper re-derived
    or removed, before and after the change.
    ``papers``: the ids of those papers. Every row of a paper table
    (``paper_sources`` too: a record that moves between papers re-derives
    both) whose paper_id is outside it equals the published version's, so
    publish compares only these papers' rows (``publish``, ``_update_table``).
    ``paper_rows``: those papers' rows of each paper table (a removed paper
    has none), so that the writer patches the published files of a bucket
    instead of computing it whole (the papers' abstracts are read only for
    these papers).
    """

    sources: frozenset[str]
    homes: frozenset[str]
    papers: frozenset[str] = frozenset()
    paper_rows: dict[str, pl.DataFrame | pl.LazyFrame] = field(
        default_factory=dict, compare=False, repr=False
    )
    # The rows of ``sources`` in records and rejects, likewise (read from
    # those dumps' cache entries only).
    source_rows: dict[str, pl.DataFrame | pl.LazyFrame] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def nothing(self) -> bool:
        """True when no row of any table can differ from the published version's."""
        return not self.sources and not self.homes


class FramesToWrite:
    """A link's tables and state on their way into files (``staging.write_version``).

    The writer takes each frame out as it writes it, so a frame nobody else
    holds is freed once it is in a file, and the write's peak is what is left
    to write rather than everything linked. A plain object, not a collection:
    a Prefect task's parameters then hold this box, not the frames in it.
    """

    def __init__(self, tables: Mapping[str, pl.DataFrame | pl.LazyFrame], state: LinkState | None):
        self.tables = dict(tables)
        self.state = state
        self.taken = False

    def take_state(self) -> LinkState | None:
        """The state, no longer held here: from now on the box is being emptied."""
        state, self.state, self.taken = self.state, None, True
        return state


@dataclass
class LinkResult:
    tables: dict[str, pl.DataFrame | pl.LazyFrame]  # the wide ones (records, papers) lazy
    state: LinkState | None  # None once handed over
    report: LinkReport
    notes: list[str]  # the dumps' extraction notes, in file order
    changed_papers: pl.Series  # paper ids re-derived or removed (a hint for the writer)
    papers: pl.DataFrame  # the papers without their abstracts (PAPER_ROWS)
    counts: dict[str, int]  # rows per table, without collecting the wide ones
    changed: WriteHints | None  # incremental runs: what the table writer may skip

    def hand_over(self) -> FramesToWrite:
        """The tables and state for the writer, no longer held here (``FramesToWrite``)."""
        frames = FramesToWrite(self.tables, self.state)
        self.tables, self.state = {}, None
        return frames


def relink(
    old: LinkState | None,
    entries: Sequence[tuple[str, str]],
    source: Source,
    inputs: LinkInputs,
    *,
    uncached: Sequence = (),
    with_analysis: bool = True,
    spill: Callable[[str, pl.DataFrame], SpilledFrame] | None = None,
) -> LinkResult:
    """Link the dumps ``entries`` ((source_file, cache_key), in file order) from ``old``.

    ``old``: the previous state, best read from its files
    (``LinkState.from_files``): each step reads the old frames it needs and
    lets them go as the new ones replace them (``Update.old_frame``,
    ``_let_go``), so the old and the new state are never both whole in memory.
    ``uncached``: extractions of dumps that have no cache entry (files that
    could not be read: no records), added to sources and rejects only.
    ``spill(name, frame)``: writes a state frame that no table and no later
    step uses to its state file as soon as its step is done, so the link
    does not hold it to the end (co-author pairs and authorships,
    0.3 GB at 1 GB of dumps); the state then names the file (``SpilledFrame``).
    """
    ctx = inputs_context(inputs, with_analysis)
    mode, reason = "incremental", ""
    if old is None:
        mode, reason = "full", "no linkage state kept"
    elif changes := context_changes(old.context, ctx):
        mode, reason = "full", "changed since the last run: " + ", ".join(changes)
    base = old if mode == "incremental" else LinkState.empty()
    keys = [key for _, key in entries]
    old_keys = set(base.dumps["cache_key"])
    added = [key for key in keys if key not in old_keys]
    removed = sorted(old_keys - set(keys))
    run = Update(base, source, inputs, added, removed)
    # What the end of the link needs of the old state; the rest only ``run`` holds.
    old_dumps, old_uncached = base.dumps, base.uncached
    old_homes = run.old_frame("records").select("paper_id", "source_file")
    old_topics = None if with_analysis else run.old_frame("topics")  # else run.topics does
    del old, base
    step = _Steps()

    with step("records"):
        dumps, sources, profiles = run.dumps()
        records, weak, names = run.records()
        features = records.with_row_index("rid")
    with step("pairs"):
        scored, n_scored = run.pairs(features)
    with step("papers"):
        scored, forced, notes = apply_overrides(scored, features, inputs.overrides)
        merged = scored.filter(pl.col("decision") == "merged")
        cluster = connected_clusters(features.height, merged)
        notes += broken_apart_notes(forced, cluster, features)
        features, papers_state = run.paper_ids(features, cluster)
        affected, gone_papers = run.affected_papers(features)
        papers, field_sources, lists = run.papers(features, affected, papers_state)
        del merged, forced, cluster  # held to the end of the link otherwise
    with step("people"):
        authorships, paper_authors, authors, touched = run.people(
            features, affected, gone_papers, lists
        )
        notes += link.alias_notes(authorships, *inputs.aliases)
        del lists  # every re-derived paper's author list: no longer needed
        if spill is not None:
            authorships = spill("authorships", authorships)
    with step("network"):
        coauthors, nodes = run.network(authors, paper_authors, touched, spill)

    tables: dict[str, pl.DataFrame | pl.LazyFrame] = {
        "sources": _sources_table(sources, uncached),
        "records": records_frame(source, keys, records),
        "rejects": _rejects_table(source, keys, uncached),
        "profiles": _profiles_table(profiles, uncached),
        "papers": papers_frame(source, papers, records),
        "authors": authors,
        "paper_authors": paper_authors,
        "paper_sources": features.select(
            "paper_id", "source_file", "record_index", "record_id"
        ).sort("paper_id", "source_file", "record_index"),
        "paper_matches": matches_table(scored, inputs.config),
        "paper_field_sources": field_sources,
    }
    topics = old_topics
    if with_analysis:
        with step("topics"):
            taxonomies = inputs.taxonomies
            categories = category_table(features["category"], taxonomies.categories)
            topic_rules = topic_table(taxonomies.topics)
            topics = run.topics(papers, affected, gone_papers, records, categories, topic_rules)
            tables |= {
                "categories": categories,
                "topics": topic_rules,
                "paper_topics": topics,
                "author_network": network.network_table(nodes),
                "profile_owners": profile_owners(
                    profiles.drop("cache_key"), authors, inputs.aliases[0]
                ),
            }
    state = LinkState(
        context=ctx,
        dumps=dumps,
        sources=sources,
        profiles=profiles,
        records=features.select(list(STATE_RECORDS.names())),
        weak=weak,
        names=names,
        pairs=run.unforced.select(list(MATCHES.names())),  # by record ids (Update.pairs)
        # The papers' own columns with one more: no second copy of every paper.
        papers=papers.with_columns(
            id_key=papers.select("paper_id").join(
                papers_state, on="paper_id", how="left", maintain_order="left"
            )["id_key"]
        ).select(list(PAPERS.names())),
        field_sources=field_sources,
        authorships=authorships,
        paper_authors=paper_authors,
        authors=authors,
        coauthors=coauthors,
        nodes=nodes,
        topics=topics,
        uncached=pl.DataFrame(
            {"source_file": sorted(_source_file(e) for e in uncached)}, schema=UNCACHED
        ),
    )
    report = LinkReport(
        n_candidate_pairs=n_scored,
        decisions=pair_decisions(tables["paper_matches"]),
        weak_splits=weak_splits(features),
        notes=notes,
        mode=mode,
        reason=reason,
        changes={
            "dumps added": len(added),
            "dumps removed": len(removed),
            "records re-keyed": int(records["fresh"].sum()),
            "papers re-derived": affected.len(),
            "papers removed": gone_papers.len(),
            "authors re-derived": touched.len(),
        },
        seconds=step.seconds,
    )
    extraction_notes = dumps_notes(dumps) + [note for e in uncached for note in e.notes]
    counts = {
        name: frame.height if isinstance(frame, pl.DataFrame) else 0
        for name, frame in tables.items()
    }
    counts |= {
        "records": features.height,
        "papers": papers.height,
        "rejects": tables["rejects"].select(pl.len()).collect().item(),
    }
    changed_papers = pl.concat([affected, gone_papers]).unique().sort()
    hints = None
    if mode == "incremental":
        hints = _write_hints(
            old_dumps, old_uncached, old_homes, state, added, removed, records, changed_papers
        )
        hints = replace(
            hints,
            paper_rows=_paper_rows(tables, source, papers, records, changed_papers),
            source_rows=_source_rows(hints.sources, entries, source, records, uncached),
        )
    return LinkResult(
        tables,
        state,
        report,
        extraction_notes,
        changed_papers,
        papers,
        dict(sorted(counts.items())),
        hints,
    )


def inputs_context(inputs: LinkInputs, with_analysis: bool = True) -> pl.DataFrame:
    """What a link with ``inputs`` derives its state with (``state.context``)."""
    return context(
        inputs.config,
        inputs.params,
        inputs.parser_version,
        inputs.overrides,
        inputs.aliases,
        inputs.taxonomies if with_analysis else None,
    )


def pair_decisions(matches: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """Pairs per decision, from ``paper_matches`` (the report's decisions)."""
    return dict(matches.lazy().group_by("decision").len().sort("decision").collect().iter_rows())


def weak_splits(records: pl.DataFrame | pl.LazyFrame) -> list[tuple[str, str]]:
    """(record_id, title) of the records whose title was split with low confidence."""
    return (
        records.lazy()
        .filter(pl.col("title_split").is_in(WEAK))
        .select("record_id", "title")
        .collect()
        .rows()
    )


def dumps_notes(dumps: pl.DataFrame) -> list[str]:
    """The extraction notes of the cached dumps (state ``DUMPS``), in file order."""
    return dumps.sort("source_file")["notes"].explode().drop_nulls().to_list()


def _write_hints(
    old_dumps: pl.DataFrame,
    old_uncached: pl.DataFrame,
    old_homes: pl.DataFrame,
    new: LinkState,
    added: Sequence[str],
    removed: Sequence[str],
    records: pl.DataFrame,
    changed_papers: pl.Series,
) -> WriteHints:
    """The dumps and paper homes whose table rows can differ between the old state
    (its dumps, uncached files and records' (paper_id, source_file)) and ``new``.

    ``records`` rows come from a dump's cache entry plus the re-split fields
    of its records (``wide.records_frame``), ``rejects`` rows from the cache
    entry or the run's own extraction of an uncached file; a paper's rows
    from its derivation, which is kept as is unless it is re-derived.
    """
    sources = pl.concat(
        [
            new.dumps.filter(pl.col("cache_key").is_in(list(added)))["source_file"],
            old_dumps.filter(pl.col("cache_key").is_in(list(removed)))["source_file"],
            records.filter(pl.col("fresh"))["source_file"],
            old_uncached["source_file"],
            new.uncached["source_file"],
        ]
    )
    ids = changed_papers.implode()
    homes = pl.concat(
        [
            frame.filter(pl.col("paper_id").is_in(ids))
            .group_by("paper_id")
            .agg(pl.col("source_file").min())["source_file"]
            for frame in (old_homes, new.records)
        ]
    )
    papers = frozenset(changed_papers.to_list())
    return WriteHints(frozenset(sources.to_list()), frozenset(homes.to_list()), papers)


def _paper_rows(
    tables: dict[str, pl.DataFrame | pl.LazyFrame],
    source: Source,
    papers: pl.DataFrame,
    records: pl.DataFrame,
    changed_papers: pl.Series,
) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """The rows of ``changed_papers`` in each paper table (``WriteHints.paper_rows``)."""
    mine = pl.col("paper_id").is_in(changed_papers.implode())
    rows: dict[str, pl.DataFrame | pl.LazyFrame] = {
        # Built from these papers alone, so only their abstracts' dumps are read.
        "papers": papers_frame(source, papers.filter(mine), records)
    }
    for name in ("paper_authors", "paper_field_sources", "paper_topics", "paper_sources"):
        if name in tables:
            rows[name] = tables[name].filter(mine)
    return rows


def _source_rows(
    sources: frozenset[str],
    entries: Sequence[tuple[str, str]],
    source: Source,
    records: pl.DataFrame,
    uncached: Sequence,
) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """The rows of the dumps ``sources`` in records and rejects (``WriteHints.source_rows``)."""
    keys = [key for name, key in entries if name in sources]
    mine = [e for e in uncached if _source_file(e) in sources]
    return {
        "records": records_frame(source, keys, records),
        "rejects": _rejects_table(source, keys, mine),
    }


def _source_file(extraction) -> str:
    return extraction.source["source_file"][0]


class _Steps:
    """Wall time per linking step (for the run report and the benchmark)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            # What the step freed goes back before the next step's peak.
            give_back_freed_memory()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def _sources_table(sources: pl.DataFrame, uncached: Sequence) -> pl.DataFrame:
    frames = [sources.drop("cache_key")] + [e.source for e in uncached]
    return pl.concat([f.cast(dict(SOURCES)) for f in frames]).sort("source_file")


def _profiles_table(profiles: pl.DataFrame, uncached: Sequence) -> pl.DataFrame:
    frames = [profiles.drop("cache_key")] + [e.profile for e in uncached if e.profile.height]
    return pl.concat([f.cast(dict(PROFILES)) for f in frames]).sort("source_file")


def _rejects_table(source: Source, keys: Sequence[str], uncached: Sequence) -> pl.LazyFrame:
    frames = [source.rejects(keys)] + [e.rejects.lazy() for e in uncached if e.rejects.height]
    return pl.concat([f.cast(dict(REJECTS)) for f in frames])
