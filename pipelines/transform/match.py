"""Find the same paper across records: blocking, scoring, decisions, clusters.

1. Blocking: records are compared only when they share a blocking key: the
   normalised title; its first or last three content words (stop words
   dropped, crudely stemmed); its first two plus last two content words; its
   set of content words; its two rarest
   content words; its first 24 letters without spaces. Blocks above a size
   cap are left to the other keys, so the number of pairs grows about
   linearly with the records.
2. Scoring: rapidfuzz title similarity over the whole pair column, adjusted by
   evidence: a shared printed author raises it, printed author lists with no
   one in common and distant dates lower it. Numbers that differ ("Part I" vs
   "Part II", "Llama 2" vs "Llama 3") keep records apart. An abstract is never
   evidence on its own: two different papers can share one.
3. Decisions: ``merged``, ``review`` or ``apart`` with the rule that decided;
   human overrides win.
4. Clusters: connected components of merged pairs are papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz, process

from pipelines.config import MatchConfig
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

PAIRS_PER_SLICE = 500_000

# Tokens that name a part, a version or a count: if they differ, so do the papers.
_NUMBER_TOKEN = r"\b(?:\d+|i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)\b"


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


# Words that carry no identity for blocking ("Towards ... for ... on GPUs").
_STOPWORDS = [
    "a", "an", "the", "of", "for", "on", "in", "with", "and", "to", "via", "by", "from",
    "at", "towards", "toward", "using", "is", "are", "as", "into", "over", "under", "its",
]  # fmt: skip


def _stems(key: pl.Expr) -> pl.Expr:
    """Content words of a title key, crudely stemmed: plural and -ing variants meet."""
    return key.str.split(" ").list.eval(
        pl.element()
        .filter(~pl.element().is_in(_STOPWORDS))
        .str.replace(r"^(.{3,}?)(?:ies)$", "${1}y")
        .str.replace(r"^(.{3,}?)(?:ing|ed|es|s)$", "${1}")
    )


def prepare(records: pl.DataFrame) -> pl.DataFrame:
    """Matching features of each record, with a dense integer ``rid``."""
    key = title_key(pl.col("title"))
    key = pl.when(key == "").then(pl.col("title").str.to_lowercase()).otherwise(key)
    prepared = (
        records.sort("source_file", "record_index")
        .with_row_index("rid")
        .with_columns(title_key=key)
        .with_columns(stems=_stems(pl.col("title_key")))
        .with_columns(
            first_words=pl.col("stems").list.head(3).list.join(" "),
            last_words=pl.col("stems").list.tail(3).list.join(" "),
            # A typo in a middle word leaves both ends in place.
            ends=pl.concat_str(
                pl.col("stems").list.head(2).list.join(" "),
                pl.col("stems").list.tail(2).list.join(" "),
                separator="|",
            ),
            stem_set=pl.col("stems").list.unique().list.sort().list.join(" "),
            letters=pl.col("title_key").str.replace_all(" ", "").str.head(24),
            numbers=pl.col("title_key").str.extract_all(_NUMBER_TOKEN).list.sort().list.join(" "),
            person_keys=pl.col("authors").list.eval(person_key(pl.element())),
            # Plural "s" dropped, so "GPUs"/"GPU" and "towards"/"toward" are no
            # difference when two titles' words are compared (score_pairs).
            title_words=pl.col("title_key")
            .str.split(" ")
            .list.eval(pl.element().str.replace(r"^(.{3,})s$", "${1}")),
        )
    )
    # The two rarest content words of a title: a typo in a common word, or a
    # reordered subtitle, leaves them in place.
    words = prepared.select("rid", stem=pl.col("stems")).explode("stem").drop_nulls().unique()
    rare = (
        words.with_columns(df=pl.len().over("stem"))
        .sort("rid", "df", "stem")
        .group_by("rid", maintain_order=True)
        .agg(rare_words=pl.col("stem").head(2).sort().str.join(" "))
    )
    return prepared.join(rare, on="rid", how="left").select(
        "rid",
        "record_id",
        "title_key",
        "first_words",
        "last_words",
        "ends",
        "stem_set",
        "stems",
        "rare_words",
        "letters",
        "numbers",
        "person_keys",
        "published_date",
        "title_words",
    )


def candidate_pairs(prepared: pl.DataFrame, config: MatchConfig) -> pl.DataFrame:
    """Pairs of ``rid`` (a < b) that share a blocking key."""
    parts = []
    keys = ("title_key", "first_words", "last_words", "ends", "stem_set", "rare_words", "letters")
    for key in keys:
        blocks = prepared.select("rid", key).filter(pl.col(key).is_not_null() & (pl.col(key) != ""))
        size = pl.len().over(key)
        small = blocks.filter((size >= 2) & (size <= config.max_block_size))
        parts.append(
            small.join(small, on=key, suffix="_b")
            .filter(pl.col("rid") < pl.col("rid_b"))
            .select(a="rid", b="rid_b")
        )
        if key == "title_key":
            # Huge blocks of one exact title: link each record to the block's
            # first, so the scoring still sees (and can veto) every record.
            big = blocks.filter(size > config.max_block_size).with_columns(
                first=pl.col("rid").min().over(key)
            )
            parts.append(big.filter(pl.col("rid") != pl.col("first")).select(a="first", b="rid"))
    pairs = pl.concat(parts).unique().sort("a", "b")
    return pairs.with_columns(pl.col("a").cast(pl.UInt32), pl.col("b").cast(pl.UInt32))


def _similarity(left: pl.Series, right: pl.Series) -> pl.Series:
    """Element-wise rapidfuzz ratio in 0..1 (C++ over the whole column)."""
    if left.is_empty():
        return pl.Series(dtype=pl.Float64)
    scores = process.cpdist(left.to_list(), right.to_list(), scorer=fuzz.ratio, workers=-1)
    return pl.Series(scores, dtype=pl.Float64) / 100.0


def score_pairs(pairs: pl.DataFrame, prepared: pl.DataFrame, config: MatchConfig) -> pl.DataFrame:
    """Features, score, rule and decision of each candidate pair."""
    right = prepared.rename(lambda c: f"{c}_b")
    frame = pairs.join(prepared, left_on="a", right_on="rid").join(
        right, left_on="b", right_on="rid_b"
    )
    words_a, words_b = pl.col("title_words"), pl.col("title_words_b")
    frame = frame.with_columns(
        only_a=words_a.list.set_difference(words_b).list.sort().list.join(" "),
        only_b=words_b.list.set_difference(words_a).list.sort().list.join(" "),
    )
    frame = frame.with_columns(
        title_similarity=_similarity(frame["title_key"], frame["title_key_b"]),
        # Words each title has that the other lacks: a typo leaves look-alikes,
        # another paper of the same group swaps in a different word.
        swapped_similarity=_similarity(frame["only_a"], frame["only_b"]),
    )
    both_printed = (pl.col("person_keys").list.len() > 0) & (pl.col("person_keys_b").list.len() > 0)
    shared = (pl.col("person_keys").list.set_intersection(pl.col("person_keys_b")).list.len()).cast(
        pl.Int64
    )
    gap = (pl.col("published_date") - pl.col("published_date_b")).dt.total_days().abs()
    frame = frame.with_columns(
        shared_authors=pl.when(both_printed).then(shared),
        date_gap_days=gap.cast(pl.Int64),
        numbers_differ=pl.col("numbers") != pl.col("numbers_b"),
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
    return frame.with_columns(rule=rule, decision=decision).select(
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


def override_pairs(prepared: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Expand overrides (kind, group, record_id | title) into forced pairs of rids.

    A title names every record whose normalised title equals it.
    """
    if overrides.is_empty():
        return pl.DataFrame(
            schema={"a": pl.UInt32, "b": pl.UInt32, "kind": pl.String, "group": pl.Int64}
        )
    by_record = overrides.filter(pl.col("record_id").is_not_null()).join(
        prepared.select("rid", "record_id"), on="record_id"
    )
    by_title = (
        overrides.filter(pl.col("title").is_not_null())
        .with_columns(title_key=title_key(pl.col("title")))
        .join(prepared.select("rid", "title_key"), on="title_key")
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


def connected_clusters(n: int, edges: pl.DataFrame) -> pl.Series:
    """Component label (smallest member rid) of rids 0..n-1, by min-label propagation."""
    labels = pl.DataFrame({"rid": pl.arange(0, n, eager=True, dtype=pl.UInt32)}).with_columns(
        label=pl.col("rid")
    )
    if edges.is_empty():
        return labels["label"]
    both = pl.concat([edges.select("a", "b"), edges.select(a="b", b="a")])
    while True:
        proposed = (
            both.join(labels, left_on="b", right_on="rid")
            .group_by("a")
            .agg(pl.col("label").min().alias("proposed"))
        )
        updated = (
            labels.join(proposed, left_on="rid", right_on="a", how="left")
            .with_columns(label=pl.min_horizontal("label", "proposed"))
            .drop("proposed")
        )
        # Pointer jumping: take the label of one's label, halving chain lengths.
        updated = updated.with_columns(
            label=updated["label"].gather(updated["label"]).cast(pl.UInt32)
        )
        if updated["label"].equals(labels["label"]):
            return updated["label"]
        labels = updated


def match_records(
    records: pl.DataFrame,
    config: MatchConfig,
    overrides: pl.DataFrame | None = None,
) -> MatchResult:
    """Match records to papers; see the module docstring."""
    prepared = prepare(records)
    pairs = candidate_pairs(prepared, config)
    # Score in slices: the per-pair features of millions of pairs would
    # otherwise all be alive at once.
    scored = pl.concat(
        [score_pairs(chunk, prepared, config) for chunk in pairs.iter_slices(PAIRS_PER_SLICE)]
        or [score_pairs(pairs, prepared, config)]
    )
    # Keep only what a decision or the matches table needs.
    scored = scored.filter((pl.col("score") >= config.floor) | (pl.col("decision") != "apart"))
    forced = override_pairs(
        prepared,
        overrides
        if overrides is not None
        else pl.DataFrame(
            schema={
                "kind": pl.String,
                "group": pl.Int64,
                "record_id": pl.String,
                "title": pl.String,
            }
        ),
    )
    notes: list[str] = []
    if not forced.is_empty():
        forced_rows = (
            forced.join(prepared.select("rid", "record_id"), left_on="a", right_on="rid")
            .join(prepared.select("rid", record_id_b="record_id"), left_on="b", right_on="rid")
            .select(
                "a",
                "b",
                record_id_a="record_id",
                record_id_b="record_id_b",
                rule=pl.format("override: force {}", "kind"),
                decision=pl.when(pl.col("kind") == "merge")
                .then(pl.lit("merged"))
                .otherwise(pl.lit("apart")),
            )
        )
        scored = (
            scored.join(
                forced_rows.select("a", "b", "rule", "decision"),
                on=["a", "b"],
                how="full",
                coalesce=True,
                suffix="_forced",
            )
            .with_columns(
                rule=pl.coalesce("rule_forced", "rule"),
                decision=pl.coalesce("decision_forced", "decision"),
            )
            .drop("rule_forced", "decision_forced")
        )
        ids = prepared.select("rid", "record_id")
        scored = (
            scored.drop("record_id_a", "record_id_b")
            .join(ids.rename({"rid": "a", "record_id": "record_id_a"}), on="a")
            .join(ids.rename({"rid": "b", "record_id": "record_id_b"}), on="b")
        )
        n_merge = forced.filter(pl.col("kind") == "merge").height
        n_apart = forced.height - n_merge
        notes.append(f"overrides: {n_merge} forced-merge and {n_apart} forced-apart pairs applied")
    merged = scored.filter(pl.col("decision") == "merged")
    cluster = connected_clusters(prepared.height, merged)
    clusters = prepared.select("rid", "record_id", "title_key").with_columns(cluster_rid=cluster)
    # An apart override broken by a chain of other merges cannot be honoured.
    if not forced.is_empty():
        apart = forced.filter(pl.col("kind") == "apart").with_columns(
            ca=cluster.gather(pl.Series(forced.filter(pl.col("kind") == "apart")["a"])),
            cb=cluster.gather(pl.Series(forced.filter(pl.col("kind") == "apart")["b"])),
        )
        broken = apart.filter(pl.col("ca") == pl.col("cb"))
        for row in broken.iter_rows(named=True):
            notes.append(
                f"override apart not honoured: records {prepared['record_id'][row['a']]} and "
                f"{prepared['record_id'][row['b']]} are linked through other records"
            )
    clusters = clusters.join(
        clusters.select(cluster_rid="rid", cluster="record_id"), on="cluster_rid"
    ).select("rid", "record_id", "title_key", "cluster")
    matches = (
        scored.filter(
            (pl.col("score").fill_null(1.0) >= config.floor)
            | pl.col("rule").str.starts_with("override")
        )
        .sort("a", "b")
        .select(list(MATCHES.names()))
        .cast(dict(MATCHES))
    )
    return MatchResult(matches, clusters, pairs.height, prepared.height, notes)
