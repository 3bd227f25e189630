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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from pipelines.config import MatchConfig
from pipelines.extract import PARSER_VERSION
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES
from pipelines.transform import link, network
from pipelines.transform.blocking import (
    BLOCK_KEYS,
    candidate_pairs,
    record_features,
    still_candidates,
)
from pipelines.transform.glued import MIN_NAME_CHARS, glued_line, is_weak, resplit_glued_titles
from pipelines.transform.match import (
    MATCHES,
    SCORED,
    apply_overrides,
    broken_apart_notes,
    connected_clusters,
    matches_table,
    score_pairs,
)
from pipelines.transform.network import CommunityParams
from pipelines.transform.profiles import profile_owners
from pipelines.transform.state import (
    DUMP_PROFILES,
    DUMP_SOURCES,
    DUMPS,
    NAMES,
    PAPERS,
    WEAK,
    LinkState,
    context,
    context_changes,
)
from pipelines.transform.state import RECORDS as STATE_RECORDS
from pipelines.transform.topics import PAPER_TOPICS, category_table, paper_topics, topic_table
from pipelines.transform.wide import paper_texts, papers_frame, records_frame

# The record columns linking reads (everything but the wide ones).
NARROW = (
    "record_id",
    "source_file",
    "record_index",
    "title",
    "authors",
    "authors_truncated",
    "affiliations",
    "title_split",
    "date_text",
    "published_date",
    "category",
    "has_code",
    "upvotes",
    "author_count",
)
SPLIT_FIELDS = ("title", "authors", "authors_truncated", "affiliations", "title_split")


class Source(Protocol):
    """Where the records of the dumps come from (the extraction cache, or memory)."""

    def records(self, keys: Sequence[str]) -> pl.LazyFrame:
        """The wide records of these dumps (RECORDS + ``cache_key``), dump by dump in order."""

    def rejects(self, keys: Sequence[str]) -> pl.LazyFrame:
        """Their quarantined lines (REJECTS)."""

    def dumps(self, keys: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """Their (DUMPS, DUMP_SOURCES, DUMP_PROFILES) rows."""


@dataclass(frozen=True)
class LinkInputs:
    """The settings and human decisions one link run applies."""

    config: MatchConfig = field(default_factory=MatchConfig)
    overrides: pl.DataFrame | None = None
    aliases: tuple[pl.DataFrame, pl.DataFrame] = field(default_factory=link.empty_aliases)
    taxonomies: object | None = None  # pipelines.taxonomy.Taxonomies; None: no analysis
    params: CommunityParams = field(default_factory=CommunityParams)
    parser_version: str = PARSER_VERSION


@dataclass(frozen=True)
class LinkReport:
    """What linking did: mode, compared pairs, decisions, weak splits, human overrides."""

    n_candidate_pairs: int = 0  # pairs scored this run
    decisions: dict[str, int] = field(default_factory=dict)
    weak_splits: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mode: str = "full"  # "full" or "incremental"
    reason: str = ""  # why a full re-link
    changes: dict[str, int] = field(default_factory=dict)  # what the run re-derived
    seconds: dict[str, float] = field(default_factory=dict)  # time per linking step


@dataclass(frozen=True)
class LinkResult:
    tables: dict[str, pl.DataFrame | pl.LazyFrame]  # the wide ones (records, papers) lazy
    state: LinkState
    report: LinkReport
    notes: list[str]  # the dumps' extraction notes, in file order
    changed_papers: pl.Series  # paper ids re-derived or removed (a hint for the writer)
    papers: pl.DataFrame  # the papers without their abstracts (PAPER_ROWS)
    counts: dict[str, int]  # rows per table, without collecting the wide ones


def relink(
    old: LinkState | None,
    entries: Sequence[tuple[str, str]],
    source: Source,
    inputs: LinkInputs,
    *,
    uncached: Sequence = (),
    with_analysis: bool = True,
) -> LinkResult:
    """Link the dumps ``entries`` ((source_file, cache_key), in file order) from ``old``.

    ``uncached``: extractions of dumps that have no cache entry (files that
    could not be read: no records), added to sources and rejects only.
    """
    ctx = context(
        inputs.config,
        inputs.params,
        inputs.parser_version,
        inputs.overrides,
        inputs.aliases,
        inputs.taxonomies if with_analysis else None,
    )
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
    run = _Run(base, source, inputs, added, removed)
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
    with step("people"):
        authorships, paper_authors, authors, touched = run.people(
            features, affected, gone_papers, lists
        )
        notes += link.alias_notes(authorships, *inputs.aliases)
    with step("network"):
        coauthors, nodes = run.network(authors, paper_authors, touched)

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
    topics = base.topics
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
        pairs=run.unforced.select(list(MATCHES.names())).sort("record_id_a", "record_id_b"),
        papers=papers_state.join(papers, on="paper_id", how="right").select(list(PAPERS.names())),
        field_sources=field_sources,
        authorships=authorships,
        paper_authors=paper_authors,
        authors=authors,
        coauthors=coauthors,
        nodes=nodes,
        topics=topics,
    )
    report = LinkReport(
        n_candidate_pairs=n_scored,
        decisions=dict(
            tables["paper_matches"].group_by("decision").len().sort("decision").iter_rows()
        ),
        weak_splits=features.filter(pl.col("title_split").is_in(["fallback", "none"]))
        .select("record_id", "title")
        .rows(),
        notes=notes,
        mode=mode,
        reason=reason,
        changes={
            "dumps added": len(added),
            "dumps removed": len(removed),
            "records re-keyed": int(records["fresh"].sum()),
            "pairs scored": n_scored,
            "papers re-derived": affected.len(),
            "papers removed": gone_papers.len(),
            "authors re-derived": touched.len(),
        },
        seconds=step.seconds,
    )
    extraction_notes = dumps.sort("source_file")["notes"].explode().drop_nulls().to_list()
    extraction_notes += [note for e in uncached for note in e.notes]
    counts = {
        name: frame.height if isinstance(frame, pl.DataFrame) else 0
        for name, frame in tables.items()
    }
    counts |= {
        "records": features.height,
        "papers": papers.height,
        "rejects": tables["rejects"].select(pl.len()).collect().item(),
    }
    return LinkResult(
        tables,
        state,
        report,
        extraction_notes,
        pl.concat([affected, gone_papers]).unique().sort(),
        papers,
        dict(sorted(counts.items())),
    )


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
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class _Run:
    """One relink: the previous state, the changed dumps, and what each step found."""

    def __init__(
        self,
        old: LinkState,
        source: Source,
        inputs: LinkInputs,
        added: list[str],
        removed: list[str],
    ) -> None:
        self.old, self.source, self.inputs = old, source, inputs
        self.added, self.removed = added, set(removed)
        self.unforced = pl.DataFrame(schema=SCORED)

    # --- dumps and records -----------------------------------------------------

    def dumps(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        dumps, sources, profiles = self.source.dumps(self.added)
        keep = ~pl.col("cache_key").is_in(list(self.removed))
        return (
            pl.concat([self.old.dumps.filter(keep), dumps.cast(dict(DUMPS))]).sort("source_file"),
            pl.concat([self.old.sources.filter(keep), sources.cast(dict(DUMP_SOURCES))]).sort(
                "source_file"
            ),
            pl.concat([self.old.profiles.filter(keep), profiles.cast(dict(DUMP_PROFILES))]).sort(
                "source_file"
            ),
        )

    def records(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """This run's records (STATE_RECORDS without paper_id, plus ``fresh``), the weak
        splits kept for the next run, and the known names."""
        old = self.old.records
        gone_key = pl.col("cache_key").is_in(list(self.removed))
        new = (
            self.source.records(self.added)
            .select(*NARROW, "cache_key", abstract_len=pl.col("abstract").str.len_chars())
            .collect(engine="streaming")
        )
        # Known names: printed by reliably split records (as parsed: a weak one
        # stays weak after its second look); counted, so a removal is exact.
        weak_ids = self.old.weak.select("record_id", "cache_key")
        counts = pl.concat(
            [
                old.filter(gone_key)
                .join(weak_ids, on=["record_id", "cache_key"], how="anti")
                .select(n=pl.lit(-1, pl.Int64), name="authors"),
                new.filter(~is_weak()).select(n=pl.lit(1, pl.Int64), name="authors"),
            ]
        ).explode("name")
        counts = (
            counts.filter(pl.col("name").str.len_chars() >= MIN_NAME_CHARS)
            .group_by("name")
            .agg(pl.col("n").sum())
        )
        names = self.old.names.join(
            counts, on="name", how="full", coalesce=True, suffix="_delta"
        ).with_columns(
            n=pl.col("n").fill_null(0) + pl.col("n_delta").fill_null(0),
            was=pl.col("n").fill_null(0) > 0,
        )
        flipped = names.filter((pl.col("n") > 0) != pl.col("was"))["name"]
        names = names.filter(pl.col("n") > 0).select(list(NAMES.names())).sort("name")
        known = names["name"].to_list()

        # Weak splits: new ones, and old ones whose line holds a name that flipped.
        weak_new = new.filter(is_weak()).select(
            "record_id", "cache_key", *SPLIT_FIELDS, line=glued_line()
        )
        weak_old = self.old.weak.filter(~gone_key)
        redo_old = (
            weak_old.filter(pl.col("line").str.contains_any(flipped.to_list()))
            if flipped.len() and weak_old.height
            else weak_old.clear()
        )
        weak = pl.concat([weak_old, weak_new.cast(dict(WEAK))]).sort("record_id")
        redone = resplit_glued_titles(
            pl.concat([redo_old, weak_new.cast(dict(WEAK))]), known
        ).select("record_id", "cache_key", *SPLIT_FIELDS)

        # Records whose split changed count as changed: dropped, then re-keyed.
        kept = old.filter(~gone_key)
        changed = (
            kept.join(redone, on=["record_id", "cache_key"], suffix="_new")
            .filter(
                pl.any_horizontal(pl.col(f).ne_missing(pl.col(f"{f}_new")) for f in SPLIT_FIELDS)
            )
            .select("record_id")
        )
        self.gone_ids = pl.concat([old.filter(gone_key).select("record_id"), changed])["record_id"]
        resplit_changed = (
            kept.join(changed, on="record_id", how="semi")
            .drop(*SPLIT_FIELDS)
            .join(redone.drop("cache_key"), on="record_id")
        )
        fresh = pl.concat(
            [
                new.update(redone.drop("cache_key"), on="record_id", include_nulls=True),
                resplit_changed.select(new.columns),
            ]
        )
        fresh = pl.concat(
            [fresh, record_features(fresh).drop("record_id")], how="horizontal"
        ).with_columns(paper_id=pl.lit(None, pl.String), fresh=pl.lit(True))
        unchanged = kept.join(changed, on="record_id", how="anti").with_columns(fresh=pl.lit(False))
        columns = [*STATE_RECORDS.names(), "fresh"]
        records = pl.concat(
            [
                unchanged.select(columns),
                fresh.select(columns).cast(dict(STATE_RECORDS)),
            ]
        ).sort("source_file", "record_index")
        self.old_blocks = old.with_row_index("orid").with_columns(
            gone=gone_key | pl.col("record_id").is_in(changed["record_id"].implode())
        )
        return records, weak, names

    # --- pairs -------------------------------------------------------------------

    def pairs(self, features: pl.DataFrame) -> tuple[pl.DataFrame, int]:
        """Every pair a decision needs (SCORED): kept pairs reused, new candidates scored."""
        config = self.inputs.config
        old_blocks = self.old_blocks if self.old_blocks.height else None
        candidates = candidate_pairs(
            features.select("rid", "record_id", "fresh", *BLOCK_KEYS), old_blocks, config
        )
        scored = score_pairs(candidates, features, config)
        gone = self.gone_ids.implode()
        ids = features.filter(~pl.col("fresh")).select("rid", "record_id")
        kept = (
            self.old.pairs.filter(
                ~pl.col("record_id_a").is_in(gone) & ~pl.col("record_id_b").is_in(gone)
            )
            .join(ids.rename({"rid": "a", "record_id": "record_id_a"}), on="record_id_a")
            .join(ids.rename({"rid": "b", "record_id": "record_id_b"}), on="record_id_b")
        )
        if kept.height and old_blocks is not None:
            kept = kept.filter(
                still_candidates(kept.select("a", "b"), features, old_blocks, config)
            )
        pairs = (
            pl.concat([kept.select(list(SCORED.names())), scored])
            .unique(["a", "b"], keep="first")
            .sort("a", "b")
        )
        self.unforced = pairs
        return pairs, candidates.height

    # --- papers ------------------------------------------------------------------

    def paper_ids(
        self, features: pl.DataFrame, cluster: pl.Series
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Each record's paper_id; (features with paper_id, papers' id keys)."""
        clusters = features.select("record_id", "title_key", cluster=cluster)
        keys = link.paper_id_keys(clusters)
        known = self.old.papers.select("id_key", "paper_id").unique("id_key")
        keys = keys.join(known, on="id_key", how="left")
        missing = keys.filter(pl.col("paper_id").is_null()).sort("cluster")
        if missing.height:
            missing = missing.with_columns(paper_id=link.paper_ids(missing["id_key"]))
            keys = keys.update(missing.select("cluster", "paper_id"), on="cluster")
        features = features.with_columns(
            paper_id=pl.DataFrame({"cluster": cluster}).join(
                keys, on="cluster", how="left", maintain_order="left"
            )["paper_id"]
        )
        return features, keys.select("paper_id", "id_key")

    def affected_papers(self, features: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
        """(papers to re-derive, papers no longer there), both sorted paper ids."""
        before = self.old.records.select("record_id", old_paper="paper_id")
        now = features.select("record_id", "paper_id", "fresh").join(
            before.filter(~pl.col("record_id").is_in(self.gone_ids.implode())),
            on="record_id",
            how="left",
        )
        moved = now.filter(pl.col("fresh") | pl.col("paper_id").ne_missing(pl.col("old_paper")))
        lost = pl.concat(
            [
                before.filter(pl.col("record_id").is_in(self.gone_ids.implode()))["old_paper"],
                moved["old_paper"].drop_nulls(),
            ]
        ).unique()
        affected = (
            pl.concat(
                [
                    moved["paper_id"],
                    now.filter(pl.col("old_paper").is_in(lost.implode()))["paper_id"],
                ]
            )
            .unique()
            .sort()
        )
        current = features["paper_id"].unique()
        gone = self.old.papers.filter(~pl.col("paper_id").is_in(current.implode()))["paper_id"]
        return affected, gone.sort()

    def papers(
        self, features: pl.DataFrame, affected: pl.Series, ids: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(papers, field_sources, chosen author lists of the re-derived papers)."""
        ranked = features.filter(pl.col("paper_id").is_in(affected.implode())).select(
            "paper_id", "rid", *link.RECORD_FIELDS
        )
        papers, field_sources, lists = link.paper_fields(ranked)
        current = ids["paper_id"].implode()
        keep = pl.col("paper_id").is_in(current) & ~pl.col("paper_id").is_in(affected.implode())
        papers = pl.concat([self.old.papers.filter(keep).drop("id_key"), papers]).sort("paper_id")
        field_sources = pl.concat([self.old.field_sources.filter(keep), field_sources]).sort(
            "paper_id", "field"
        )
        return papers, field_sources, lists

    # --- people and the network ----------------------------------------------------

    def people(
        self,
        features: pl.DataFrame,
        affected: pl.Series,
        gone: pl.Series,
        lists: pl.DataFrame,
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.Series]:
        """(authorships, paper_authors, authors, authors re-derived)."""
        same, split = self.inputs.aliases
        redo = pl.concat([affected, gone]).implode()
        sources = features.filter(pl.col("paper_id").is_in(affected.implode())).select(
            "paper_id", "record_id"
        )
        rows = link.authorships(lists, sources, same, split)
        dropped = self.old.authorships.filter(pl.col("paper_id").is_in(redo))
        authorships = pl.concat(
            [self.old.authorships.filter(~pl.col("paper_id").is_in(redo)), rows]
        ).sort("paper_id", "author_position")
        paper_authors = pl.concat(
            [
                self.old.paper_authors.filter(~pl.col("paper_id").is_in(redo)),
                link.paper_authors(rows),
            ]
        ).sort("paper_id", "author_position")
        touched = pl.concat([dropped["author_id"], rows["author_id"]]).unique().sort()
        authors = pl.concat(
            [
                self.old.authors.filter(~pl.col("author_id").is_in(touched.implode())),
                link.authors(authorships.filter(pl.col("author_id").is_in(touched.implode()))),
            ]
        ).sort("author_id")
        return authorships, paper_authors, authors, touched

    def network(
        self, authors: pl.DataFrame, paper_authors: pl.DataFrame, touched: pl.Series
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(co-author pairs, NODES): pairs among touched authors recomputed, their
        components re-found and their communities re-run."""
        among = touched.implode()
        papers_of = paper_authors.filter(pl.col("author_id").is_in(among))["paper_id"].unique()
        fresh = network.coauthor_pairs(
            paper_authors.filter(pl.col("paper_id").is_in(papers_of.implode())), among=touched
        )
        both = pl.col("author_id_a").is_in(among) & pl.col("author_id_b").is_in(among)
        coauthors = pl.concat([self.old.coauthors.filter(~both), fresh]).sort(
            "author_id_a", "author_id_b"
        )
        old_nodes = self.old.nodes
        current = authors["author_id"]
        hit = old_nodes.filter(pl.col("author_id").is_in(among))["component"].unique()
        redo = pl.concat(
            [old_nodes.filter(pl.col("component").is_in(hit.implode()))["author_id"], touched]
        ).unique()
        redo = redo.filter(redo.is_in(current.implode())).sort()
        within = coauthors.filter(pl.col("author_id_a").is_in(redo.implode()))
        nodes = pl.concat(
            [
                old_nodes.filter(
                    ~pl.col("author_id").is_in(redo.implode())
                    & pl.col("author_id").is_in(current.implode())
                ),
                network.network_nodes(redo, within, self.inputs.params),
            ]
        ).sort("author_id")
        return coauthors, nodes

    # --- topics ------------------------------------------------------------------

    def topics(
        self,
        papers: pl.DataFrame,
        affected: pl.Series,
        gone: pl.Series,
        records: pl.DataFrame,
        categories: pl.DataFrame,
        rules: pl.DataFrame,
    ) -> pl.DataFrame:
        redo = pl.concat([affected, gone]).implode()
        wanted = papers.filter(pl.col("paper_id").is_in(affected.implode()))
        found = [pl.DataFrame(schema=PAPER_TOPICS)]
        for texts in paper_texts(self.source, wanted, records):
            found.append(paper_topics(texts, categories, rules))
        return pl.concat([self.old.topics.filter(~pl.col("paper_id").is_in(redo)), *found]).sort(
            "paper_id", "topic", "method"
        )


def _sources_table(sources: pl.DataFrame, uncached: Sequence) -> pl.DataFrame:
    frames = [sources.drop("cache_key")] + [e.source for e in uncached]
    return pl.concat([f.cast(dict(SOURCES)) for f in frames]).sort("source_file")


def _profiles_table(profiles: pl.DataFrame, uncached: Sequence) -> pl.DataFrame:
    frames = [profiles.drop("cache_key")] + [e.profile for e in uncached if e.profile.height]
    return pl.concat([f.cast(dict(PROFILES)) for f in frames]).sort("source_file")


def _rejects_table(source: Source, keys: Sequence[str], uncached: Sequence) -> pl.LazyFrame:
    frames = [source.rejects(keys)] + [e.rejects.lazy() for e in uncached if e.rejects.height]
    return pl.concat([f.cast(dict(REJECTS)) for f in frames])


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

    def dumps(self, keys: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        sources = self._of("sources", SOURCES, keys).select(list(DUMP_SOURCES.names()))
        profiles = self._of("profiles", PROFILES, keys).select(list(DUMP_PROFILES.names()))
        dumps = pl.DataFrame(
            {"cache_key": list(keys), "source_file": list(keys), "notes": [[]] * len(keys)},
            schema=DUMPS,
        )
        return dumps, sources, profiles
