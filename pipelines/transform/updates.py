"""The steps of one relink: each updates a part of the linkage state from what changed.

``Update`` holds the previous state and the dumps added and removed; each
method re-derives one kind of thing (records, pairs, paper ids, papers,
people, network, topics) for what the change touches and reuses the rest.
From an empty state every step re-derives everything. ``linkage.relink``
calls them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import polars as pl

from pipelines.config import MatchConfig
from pipelines.extract import PARSER_VERSION
from pipelines.transform import link, network
from pipelines.transform.blocking import (
    BLOCK_KEYS,
    candidate_pairs,
    record_features,
    still_candidates,
)
from pipelines.transform.glued import MIN_NAME_CHARS, glued_line, is_weak, resplit_glued_titles
from pipelines.transform.match import SCORED, score_pairs
from pipelines.transform.network import CommunityParams
from pipelines.transform.source import Source
from pipelines.transform.state import (
    DUMP_PROFILES,
    DUMP_SOURCES,
    DUMPS,
    NAMES,
    WEAK,
    LinkState,
    SpilledFrame,
    StoredFrame,
)
from pipelines.transform.state import RECORDS as STATE_RECORDS
from pipelines.transform.topics import PAPER_TOPICS, paper_topics
from pipelines.transform.wide import SPLIT_FIELDS, paper_texts

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


@dataclass(frozen=True)
class LinkInputs:
    """The settings and human decisions one link run applies."""

    config: MatchConfig = field(default_factory=MatchConfig)
    overrides: pl.DataFrame | None = None
    aliases: tuple[pl.DataFrame, pl.DataFrame] = field(default_factory=link.empty_aliases)
    taxonomies: object | None = None  # pipelines.taxonomy.Taxonomies; None: no analysis
    params: CommunityParams = field(default_factory=CommunityParams)
    parser_version: str = PARSER_VERSION


class Update:
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

    def old_frame(self, name: str) -> pl.DataFrame:
        """The old state's frame ``name``, read from its file when first needed
        (``StoredFrame``, ``LinkState.from_files``) and held until ``_let_go``."""
        frame = getattr(self.old, name)
        if isinstance(frame, StoredFrame):
            frame = frame.read()
            self.old = replace(self.old, **{name: frame})
        return frame

    def _let_go(self, *names: str) -> None:
        """Drop the old state's frames ``names`` after their last use in this update.

        The update holds a copy of the state without them, so a caller that read
        the state for this link alone (``relink`` given a reader) frees them
        before the next step's peak, instead of holding the whole old state
        beside the new one to the end.
        """
        self.old = replace(self.old, **dict.fromkeys(names))

    # --- dumps and records -----------------------------------------------------

    def dumps(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        dumps, sources, profiles = self.source.dumps(self.added)
        keep = ~pl.col("cache_key").is_in(list(self.removed))
        return (
            pl.concat([self.old_frame("dumps").filter(keep), dumps.cast(dict(DUMPS))]).sort(
                "source_file"
            ),
            pl.concat(
                [self.old_frame("sources").filter(keep), sources.cast(dict(DUMP_SOURCES))]
            ).sort("source_file"),
            pl.concat(
                [self.old_frame("profiles").filter(keep), profiles.cast(dict(DUMP_PROFILES))]
            ).sort("source_file"),
        )

    def records(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """This run's records (STATE_RECORDS without paper_id, plus ``fresh``), the weak
        splits kept for the next run, and the known names."""
        old = self.old_frame("records")
        gone_key = pl.col("cache_key").is_in(list(self.removed))
        new = (
            self.source.records(self.added)
            .select(*NARROW, "cache_key", abstract_len=pl.col("abstract").str.len_chars())
            .collect(engine="streaming")
        )
        # Known names: printed by reliably split records (as parsed: a weak one
        # stays weak after its second look); counted, so a removal is exact.
        weak_ids = self.old_frame("weak").select("record_id", "cache_key")
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
        names = (
            self.old_frame("names")
            .join(counts, on="name", how="full", coalesce=True, suffix="_delta")
            .with_columns(
                n=pl.col("n").fill_null(0) + pl.col("n_delta").fill_null(0),
                was=pl.col("n").fill_null(0) > 0,
            )
        )
        flipped = names.filter((pl.col("n") > 0) != pl.col("was"))["name"]
        names = names.filter(pl.col("n") > 0).select(list(NAMES.names())).sort("name")
        known = names["name"].to_list()

        # Weak splits: new ones, and old ones whose line holds a name that flipped.
        weak_new = new.filter(is_weak()).select(
            "record_id", "cache_key", *SPLIT_FIELDS, line=glued_line()
        )
        weak_old = self.old_frame("weak").filter(~gone_key)
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
        # Only the blocking keys and each record's paper of the old records are read
        # past here (by pairs and affected_papers).
        self.old_blocks = old.select(
            "record_id",
            *BLOCK_KEYS,
            gone=gone_key | pl.col("record_id").is_in(changed["record_id"].implode()),
        ).with_row_index("orid")
        self.old_paper_of = old.select("record_id", "paper_id")
        del old
        self._let_go("records", "weak", "names")
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
            self.old_frame("pairs")
            .filter(~pl.col("record_id_a").is_in(gone) & ~pl.col("record_id_b").is_in(gone))
            .join(ids.rename({"rid": "a", "record_id": "record_id_a"}), on="record_id_a")
            .join(ids.rename({"rid": "b", "record_id": "record_id_b"}), on="record_id_b")
        )
        if kept.height and old_blocks is not None:
            kept = kept.filter(
                still_candidates(kept.select("a", "b"), features, old_blocks, config)
            )
        # In the state's order (by record ids, which do not depend on where a
        # record sits in this run), so the state keeps these pairs without a copy.
        pairs = (
            pl.concat([kept.select(list(SCORED.names())), scored])
            .unique(["a", "b"], keep="first")
            .sort("record_id_a", "record_id_b")
        )
        self.unforced = pairs
        self.old_blocks = None
        self._let_go("pairs")
        return pairs, candidates.height

    # --- papers ------------------------------------------------------------------

    def paper_ids(
        self, features: pl.DataFrame, cluster: pl.Series
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Each record's paper_id; (features with paper_id, papers' id keys)."""
        clusters = features.select("record_id", "title_key", cluster=cluster)
        keys = link.paper_id_keys(clusters)
        known = self.old_frame("papers").select("id_key", "paper_id").unique("id_key")
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
        before = self.old_paper_of.rename({"paper_id": "old_paper"})
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
        gone = self.old_frame("papers").filter(~pl.col("paper_id").is_in(current.implode()))[
            "paper_id"
        ]
        self.old_paper_of = None
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
        papers = pl.concat([self.old_frame("papers").filter(keep).drop("id_key"), papers]).sort(
            "paper_id"
        )
        field_sources = pl.concat(
            [self.old_frame("field_sources").filter(keep), field_sources]
        ).sort("paper_id", "field")
        self._let_go("papers", "field_sources")
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
        dropped = self.old_frame("authorships").filter(pl.col("paper_id").is_in(redo))
        authorships = pl.concat(
            [self.old_frame("authorships").filter(~pl.col("paper_id").is_in(redo)), rows]
        ).sort("paper_id", "author_position")
        paper_authors = pl.concat(
            [
                self.old_frame("paper_authors").filter(~pl.col("paper_id").is_in(redo)),
                link.paper_authors(rows),
            ]
        ).sort("paper_id", "author_position")
        touched = pl.concat([dropped["author_id"], rows["author_id"]]).unique().sort()
        authors = pl.concat(
            [
                self.old_frame("authors").filter(~pl.col("author_id").is_in(touched.implode())),
                link.authors(authorships.filter(pl.col("author_id").is_in(touched.implode()))),
            ]
        ).sort("author_id")
        self._let_go("authorships", "paper_authors", "authors")
        return authorships, paper_authors, authors, touched

    def network(
        self,
        authors: pl.DataFrame,
        paper_authors: pl.DataFrame,
        touched: pl.Series,
        spill: Callable[[str, pl.DataFrame], SpilledFrame] | None = None,
    ) -> tuple[pl.DataFrame | SpilledFrame, pl.DataFrame]:
        """(co-author pairs, NODES): pairs among touched authors recomputed; the
        components where a pair or an author changed re-found and their
        communities re-run. With ``spill`` the pairs are spilled (``relink``)."""
        current = authors["author_id"]
        nothing_old = self.old_frame("coauthors").is_empty() and self.old_frame("nodes").is_empty()
        if nothing_old and current.is_in(touched.implode()).all():
            # A full link: the general path below would find the same, through
            # several whole copies of the pairs (0.9 GB at the step's peak at
            # 1 GB of dumps).
            self._let_go("coauthors", "nodes")
            coauthors, pairs = _before_leiden(network.coauthor_pairs(paper_authors), spill)
            return coauthors, network.network_nodes(current, pairs, self.inputs.params)
        among = touched.implode()
        papers_of = paper_authors.filter(pl.col("author_id").is_in(among))["paper_id"].unique()
        fresh = network.coauthor_pairs(
            paper_authors.filter(pl.col("paper_id").is_in(papers_of.implode())), among=touched
        )
        # Only pairs of two touched authors change. The rows are sorted by (a, b): those
        # with a touched first author are sorted again on their own, and merged back
        # into the others by author_id_a (an author_id_a is in one part only).
        first = pl.col("author_id_a").is_in(among)
        old = self.old_frame("coauthors")
        redone = pl.concat([old.filter(first & ~pl.col("author_id_b").is_in(among)), fresh]).sort(
            "author_id_a", "author_id_b"
        )
        # Streamed: the old pairs of untouched first authors are not copied whole
        # before the merge (the network step's peak in an incremental link).
        coauthors = (
            old.lazy()
            .filter(~first)
            .merge_sorted(redone.lazy(), key="author_id_a")
            .collect(engine="streaming")
        )
        old_nodes = self.old_frame("nodes")
        # A component whose pairs and authors are all as before keeps its nodes (Leiden
        # would find the same communities): a dump of known papers re-runs nothing.
        before = old.filter(first & pl.col("author_id_b").is_in(among))
        # The old pairs are not needed past here: let them go before Leiden's peak.
        del redone, old
        self._let_go("coauthors", "nodes")
        moved = pl.concat(
            [
                before.join(fresh, on=before.columns, how="anti"),
                fresh.join(before, on=before.columns, how="anti"),
            ]
        )
        changed = pl.concat(
            [
                moved["author_id_a"],
                moved["author_id_b"],
                touched.filter(~touched.is_in(old_nodes["author_id"].implode())),
            ]
        )
        del fresh, before, moved
        hit = old_nodes.filter(pl.col("author_id").is_in(changed.implode()))["component"].unique()
        redo = pl.concat(
            [old_nodes.filter(pl.col("component").is_in(hit.implode()))["author_id"], changed]
        ).unique()
        redo = redo.filter(redo.is_in(current.implode())).sort()
        coauthors, pairs = _before_leiden(coauthors, spill)
        within = pairs.filter(pl.col("author_id_a").is_in(redo.implode()))
        del pairs
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
        # Only what the texts need: in a full link every paper is wanted.
        wanted = papers.select("paper_id", "title", "category", "abstract_record_id").filter(
            pl.col("paper_id").is_in(affected.implode())
        )
        found = [pl.DataFrame(schema=PAPER_TOPICS)]
        for texts in paper_texts(self.source, wanted, records):
            found.append(paper_topics(texts, categories, rules))
        return pl.concat(
            [self.old_frame("topics").filter(~pl.col("paper_id").is_in(redo)), *found]
        ).sort("paper_id", "topic", "method")


def _before_leiden(
    coauthors: pl.DataFrame, spill: Callable[[str, pl.DataFrame], SpilledFrame] | None
) -> tuple[pl.DataFrame | SpilledFrame, pl.DataFrame | pl.LazyFrame]:
    """(the pairs the state keeps, the pairs Leiden reads). With ``spill`` the pairs go
    to their file before Leiden, whose graph is the network step's peak, and Leiden
    reads back only the three columns it needs: their strings are not held beside it."""
    if spill is None:
        return coauthors, coauthors
    spilled = spill("coauthors", coauthors)
    return spilled, pl.scan_parquet(spilled.path)
