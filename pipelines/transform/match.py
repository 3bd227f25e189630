"""Find the same paper across records: scoring, decisions, overrides, clusters.

1. Blocking (``blocking.py``): records are compared only when they share a
   small block of a title key.
2. Scoring: rapidfuzz title similarity over the whole pair column, adjusted by
   evidence: a shared printed author raises it, printed author lists with no
   one in common and distant dates lower it. Numbers that differ ("Part I" vs
   "Part II", "Llama 2" vs "Llama 3") keep records apart. An abstract is never
   evidence on its own: two different papers can share one. A pair's score
   depends on its two records only, so a pair scored in an earlier run keeps
   its score.
3. Decisions: ``merged``, ``review`` or ``apart`` with the rule that decided;
   human overrides win.
4. Clusters: connected components of merged pairs are papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import igraph
import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from pipelines.config import MatchConfig
from pipelines.transform.blocking import candidate_pairs, record_features
from pipelines.transform.clean import name_key, title_key

MATCHES = pl.Schema(
    {
        "record_id_a": pl.String,
        "record_id_b": pl.String,
        "score": pl.Float64,
        "title_similarity": pl.Float64,
        "shared_authors": pl.Int64,
        "date_gap_days": pl.Int64,
        "rule": pl.String,
        "decision": pl.String,
    }
)
# Scored pairs while linking: MATCHES plus this run's rids of both records.
SCORED = pl.Schema({"a": pl.UInt32, "b": pl.UInt32, **MATCHES})
OVERRIDES = pl.Schema(
    {"kind": pl.String, "group": pl.Int64, "record_id": pl.String, "title": pl.String}
)

PAIRS_PER_SLICE = 500_000


@dataclass(frozen=True)
class MatchResult:
    """Scored candidate pairs and the paper cluster of every record."""

    matches: pl.DataFrame  # schema MATCHES, pairs at or above the floor
    clusters: pl.DataFrame  # rid, record_id, title_key, cluster (its first record_id)
    n_candidate_pairs: int
    n_records: int
    override_notes: list[str]


def person_key(name: pl.Expr) -> pl.Expr:
    """An order-free name key for evidence only: "Jia Zhihao" meets "Zhihao Jia"."""
    return name_key(name).str.split(" ").list.sort().list.join(" ")


def _ratio(left: np.ndarray, right: np.ndarray, cutoff: float = 0.0) -> pl.Series:
    """Element-wise rapidfuzz ratio in 0..1 (C++ over the whole column); 0 below ``cutoff``."""
    if len(left) == 0:
        return pl.Series(dtype=pl.Float64)
    scores = process.cpdist(left, right, scorer=fuzz.ratio, score_cutoff=cutoff, workers=-1)
    return pl.Series(scores, dtype=pl.Float64) / 100.0


def _pair_features(rids: np.ndarray, records: pl.DataFrame) -> pl.DataFrame:
    """The per-record inputs of scoring, for the records ``rids`` only (in that order)."""
    return (
        records.select("record_id", "title_key", "numbers", "published_date", "authors")[rids]
        .with_columns(
            person_keys=pl.col("authors").list.eval(person_key(pl.element())),
            # Plural "s" dropped, so "GPUs"/"GPU" and "towards"/"toward" are no
            # difference when two titles' words are compared.
            title_words=pl.col("title_key")
            .str.split(" ")
            .list.eval(pl.element().str.replace(r"^(.{3,})s$", "${1}")),
        )
        .drop("authors")
    )


def score_pairs(pairs: pl.DataFrame, records: pl.DataFrame, config: MatchConfig) -> pl.DataFrame:
    """Score candidate ``pairs`` (a, b rids) of ``records`` (row i is rid i, with
    record_id, title_key, numbers, published_date, authors); return the pairs a
    decision or the matches table needs (schema SCORED), in slices."""
    keys = records["title_key"].fill_null("").to_numpy()
    out = [pl.DataFrame(schema=SCORED)]
    for chunk in pairs.iter_slices(PAIRS_PER_SLICE):
        out.append(_score_slice(chunk, keys, records, config))
    return pl.concat(out)


def _score_slice(
    pairs: pl.DataFrame, keys: np.ndarray, records: pl.DataFrame, config: MatchConfig
) -> pl.DataFrame:
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    # A pair can only be kept (score >= floor, or review/merged) when its title
    # similarity plus the largest bonus reaches the lower of floor and review:
    # below that, rapidfuzz stops early and the pair is dropped here, unscored.
    # (Half a point of margin: a lower cutoff only scores more pairs in full.)
    cutoff = max(0.0, (min(config.floor, config.review) - config.shared_author_bonus) * 100 - 0.5)
    similarity = _ratio(keys[a], keys[b], cutoff)
    if cutoff > 0:
        keep = (similarity > 0).to_numpy()
        a, b, similarity = a[keep], b[keep], similarity.filter(pl.Series(keep))
    rids, where = np.unique(np.concatenate([a, b]), return_inverse=True)
    features = _pair_features(rids, records)
    left, right = where[: len(a)], where[len(a) :]
    frame = pl.concat(
        [
            pl.DataFrame({"a": a, "b": b}, schema={"a": pl.UInt32, "b": pl.UInt32}),
            features[left],
            features[right].rename(lambda c: f"{c}_b"),
        ],
        how="horizontal",
    ).with_columns(title_similarity=similarity)
    return _decide(frame, config)


def _decide(frame: pl.DataFrame, config: MatchConfig) -> pl.DataFrame:
    """Score, decision and rule of scored pairs; only the pairs worth keeping."""
    both_printed = (pl.col("person_keys").list.len() > 0) & (pl.col("person_keys_b").list.len() > 0)
    shared = (pl.col("person_keys").list.set_intersection(pl.col("person_keys_b")).list.len()).cast(
        pl.Int64
    )
    gap = (pl.col("published_date") - pl.col("published_date_b")).dt.total_days().abs()
    frame = frame.with_columns(
        shared_authors=pl.when(both_printed).then(shared),
        date_gap_days=gap.cast(pl.Int64),
        numbers_differ=pl.col("numbers") != pl.col("numbers_b"),
        same_key=pl.col("title_key") == pl.col("title_key_b"),
    )
    disjoint = pl.col("shared_authors").fill_null(1) == 0
    far = pl.col("date_gap_days").fill_null(0) > config.max_date_gap_days
    score = (
        pl.col("title_similarity")
        + pl.when(pl.col("shared_authors").fill_null(0) > 0)
        .then(config.shared_author_bonus)
        .otherwise(0.0)
        - pl.when(disjoint).then(config.disjoint_authors_malus).otherwise(0.0)
        - pl.when(far).then(config.date_gap_malus).otherwise(0.0)
    ).clip(0.0, 1.0)
    frame = frame.with_columns(score=score)
    # Only a pair at the floor, or one that can be merged or reviewed, is kept:
    # the words two titles do not share are compared for those alone.
    frame = frame.filter(
        (pl.col("score") >= config.floor)
        | (~pl.col("numbers_differ") & (pl.col("same_key") | (pl.col("score") >= config.review)))
    )
    words_a, words_b = pl.col("title_words"), pl.col("title_words_b")
    frame = frame.with_columns(
        only_a=words_a.list.set_difference(words_b).list.sort().list.join(" "),
        only_b=words_b.list.set_difference(words_a).list.sort().list.join(" "),
    )
    frame = frame.with_columns(
        # Words each title has that the other lacks: a typo leaves look-alikes,
        # another paper of the same group swaps in a different word.
        swapped_similarity=_ratio(frame["only_a"].to_numpy(), frame["only_b"].to_numpy()),
    )
    frame = frame.with_columns(
        # Words only one title has ("... Revisited", a dropped "OQA:") or words
        # swapped for unlike ones ("for"/"across"): another paper, not a copy.
        words_swapped=((pl.col("only_a") != "") | (pl.col("only_b") != ""))
        & (
            (pl.col("only_a") == "")
            | (pl.col("only_b") == "")
            | (pl.col("swapped_similarity") < config.swapped_word_similarity)
            # Short words are names and acronyms ("TPUs"/"CPUs"), not typos.
            | (pl.col("only_a").str.len_chars() < 6)
            | (pl.col("only_b").str.len_chars() < 6)
        ),
    )
    decision = (
        pl.when(pl.col("numbers_differ"))
        .then(pl.lit("apart"))
        .when(pl.col("same_key") & far & (pl.col("shared_authors").fill_null(0) == 0))
        .then(pl.lit("apart"))
        .when(pl.col("same_key") & ~disjoint)
        .then(pl.lit("merged"))
        .when(pl.col("same_key") & disjoint & far)
        .then(pl.lit("apart"))
        .when(pl.col("same_key"))
        .then(pl.lit("review"))
        .when((pl.col("score") >= config.merge) & ~pl.col("words_swapped"))
        .then(pl.lit("merged"))
        .when(pl.col("score") >= config.review)
        .then(pl.lit("review"))
        .otherwise(pl.lit("apart"))
    )
    # Keep only what a decision or the matches table needs; say why for those.
    frame = frame.with_columns(decision=decision).filter(
        (pl.col("score") >= config.floor) | (pl.col("decision") != "apart")
    )
    rule = (
        pl.when(pl.col("numbers_differ"))
        .then(pl.format("numbers differ ({} / {})", pl.col("numbers"), pl.col("numbers_b")))
        .when(pl.col("same_key") & disjoint & far)
        .then(pl.lit("same title, no shared author, dates apart"))
        .when(pl.col("same_key") & far & (pl.col("shared_authors").fill_null(0) == 0))
        .then(pl.lit("same title, dates apart, no author evidence"))
        .when(pl.col("same_key") & disjoint)
        .then(pl.lit("same title, printed authors share nobody"))
        .when(pl.col("same_key"))
        .then(pl.lit("same normalised title"))
        .otherwise(
            pl.format(
                "title similarity {}{}{}{}",
                pl.col("title_similarity").round(3),
                pl.when(pl.col("shared_authors").fill_null(0) > 0)
                .then(pl.lit(", shared author"))
                .when(disjoint)
                .then(pl.lit(", no shared author"))
                .otherwise(pl.lit("")),
                pl.when(far).then(pl.lit(", dates apart")).otherwise(pl.lit("")),
                pl.when(pl.col("words_swapped"))
                .then(pl.format(", words differ ({} / {})", "only_a", "only_b"))
                .otherwise(pl.lit("")),
            )
        )
    )
    return (
        frame.with_columns(rule=rule)
        .select(
            "a",
            "b",
            record_id_a="record_id",
            record_id_b="record_id_b",
            score="score",
            title_similarity="title_similarity",
            shared_authors="shared_authors",
            date_gap_days="date_gap_days",
            rule="rule",
            decision="decision",
        )
        .cast(dict(SCORED))
    )


def override_pairs(records: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Expand overrides (kind, group, record_id | title) into forced pairs of rids.

    ``records`` is rid-indexed with record_id and title_key. A title names
    every record whose normalised title equals it.
    """
    if overrides.is_empty():
        return pl.DataFrame(
            schema={"a": pl.UInt32, "b": pl.UInt32, "kind": pl.String, "group": pl.Int64}
        )
    indexed = records.select("record_id", "title_key").with_row_index("rid")
    by_record = overrides.filter(pl.col("record_id").is_not_null()).join(
        indexed.select("rid", "record_id"), on="record_id"
    )
    by_title = (
        overrides.filter(pl.col("title").is_not_null())
        .with_columns(title_key=title_key(pl.col("title")))
        .join(indexed.select("rid", "title_key"), on="title_key")
    )
    members = pl.concat(
        [by_record.select("kind", "group", "rid"), by_title.select("kind", "group", "rid")]
    ).unique()
    pairs = (
        members.join(members, on=["kind", "group"], suffix="_b")
        .filter(pl.col("rid") < pl.col("rid_b"))
        .select(a="rid", b="rid_b", kind="kind", group="group")
    )
    return pairs.with_columns(pl.col("a").cast(pl.UInt32), pl.col("b").cast(pl.UInt32))


def apply_overrides(
    scored: pl.DataFrame, records: pl.DataFrame, overrides: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Scored pairs with the overrides' forced decisions on top; (pairs, forced, notes)."""
    forced = override_pairs(
        records, overrides if overrides is not None else pl.DataFrame(schema=OVERRIDES)
    )
    if forced.is_empty():
        return scored, forced, []
    ids = records.select("record_id").with_row_index("rid")
    forced_rows = forced.select(
        "a",
        "b",
        rule=pl.format("override: force {}", "kind"),
        decision=pl.when(pl.col("kind") == "merge")
        .then(pl.lit("merged"))
        .otherwise(pl.lit("apart")),
    )
    scored = (
        scored.join(forced_rows, on=["a", "b"], how="full", coalesce=True, suffix="_forced")
        .with_columns(
            rule=pl.coalesce("rule_forced", "rule"),
            decision=pl.coalesce("decision_forced", "decision"),
        )
        .drop("rule_forced", "decision_forced", "record_id_a", "record_id_b")
        .join(ids.rename({"rid": "a", "record_id": "record_id_a"}), on="a")
        .join(ids.rename({"rid": "b", "record_id": "record_id_b"}), on="b")
        .select(list(SCORED.names()))
    )
    n_merge = forced.filter(pl.col("kind") == "merge").height
    n_apart = forced.height - n_merge
    notes = [f"overrides: {n_merge} forced-merge and {n_apart} forced-apart pairs applied"]
    return scored, forced, notes


def broken_apart_notes(
    forced: pl.DataFrame, cluster: pl.Series, records: pl.DataFrame
) -> list[str]:
    """An apart override broken by a chain of other merges cannot be honoured: say so."""
    apart = forced.filter(pl.col("kind") == "apart")
    if apart.is_empty():
        return []
    broken = apart.filter(cluster.gather(apart["a"]) == cluster.gather(apart["b"]))
    ids = records["record_id"]
    return [
        f"override apart not honoured: records {ids[a]} and {ids[b]} are linked through "
        "other records"
        for a, b in broken.select("a", "b").iter_rows()
    ]


def matches_table(scored: pl.DataFrame, config: MatchConfig) -> pl.DataFrame:
    """The ``paper_matches`` rows: pairs at or above the floor, and every override."""
    return (
        scored.filter(
            (pl.col("score").fill_null(1.0) >= config.floor)
            | pl.col("rule").str.starts_with("override")
        )
        .sort("a", "b")
        .select(list(MATCHES.names()))
        .cast(dict(MATCHES))
    )


def connected_clusters(n: int, edges: pl.DataFrame) -> pl.Series:
    """Component label (smallest member rid) of rids 0..n-1, given edges (a, b)."""
    if n == 0:
        return pl.Series("cluster", [], dtype=pl.UInt32)
    pairs = edges.select("a", "b").to_numpy() if edges.height else np.zeros((0, 2), np.int64)
    graph = igraph.Graph(n=n, edges=pairs, directed=False)
    membership = pl.Series("component", graph.connected_components().membership, pl.UInt32)
    rid = pl.int_range(n, dtype=pl.UInt32, eager=True)
    first = rid.to_frame("rid").with_columns(component=membership)
    # igraph numbers components by their first vertex, so min rid is per component.
    return first.with_columns(cluster=pl.col("rid").min().over("component"))["cluster"]


def match_records(
    records: pl.DataFrame,
    config: MatchConfig,
    overrides: pl.DataFrame | None = None,
) -> MatchResult:
    """Match records to papers from scratch, in memory; see the module docstring.

    ``records`` needs record_id, source_file, record_index, title, authors and
    published_date. Linking a warehouse runs the same steps through
    ``pipelines.transform.linkage``, which keeps them between runs.
    """
    ordered = records.sort("source_file", "record_index")
    features = record_features(ordered).with_columns(
        published_date=ordered["published_date"], authors=ordered["authors"]
    )
    blocks = features.with_row_index("rid").with_columns(fresh=pl.lit(True))
    pairs = candidate_pairs(blocks, None, config)
    scored, forced, notes = apply_overrides(
        score_pairs(pairs, features, config), features, overrides
    )
    merged = scored.filter(pl.col("decision") == "merged")
    cluster = connected_clusters(features.height, merged)
    notes += broken_apart_notes(forced, cluster, features)
    ids = features["record_id"]
    clusters = blocks.select("rid", "record_id", "title_key").with_columns(
        cluster=ids.gather(cluster)
    )
    return MatchResult(
        matches_table(scored, config), clusters, pairs.height, features.height, notes
    )
