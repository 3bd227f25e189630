"""Blocking: which records are compared at all, from scratch or after a change.

Every record gets a title key and seven blocking keys (``record_features``).
Two records are a candidate pair when they share a key whose block (the
records with that key) is small: between 2 and ``max_block_size`` records.
Blocks above the cap are left to the other keys, so compared pairs grow about
linearly with the records; a huge block of one exact title links every record
to the block's first one instead, so its copies are still scored.

Every key is a function of the record alone (no corpus statistics), so a
record's keys never move when other dumps arrive or leave. What does depend
on the other records is a block's size and first member, and so whether the
block counts: ``candidate_pairs`` takes the previous run's features and
enumerates only the pairs that are candidates now but were not then, or that
touch a changed record; ``still_candidates`` re-checks kept pairs of blocks
that changed. From scratch (no previous features) every block is new, which
is the whole candidate set.
"""

from __future__ import annotations

import polars as pl

from pipelines.config import MatchConfig
from pipelines.transform.clean import title_key, title_keys

BLOCK_KEYS = ("title_key", "first_words", "last_words", "ends", "stem_set", "long_words", "letters")
PAIRS = pl.Schema({"a": pl.UInt32, "b": pl.UInt32})
_SHIFT = 1 << 32

# Tokens that name a part, a version or a count: if they differ, so do the papers.
NUMBER_TOKEN = r"\b(?:\d+|i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)\b"

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


def record_title_key(title: pl.Expr) -> pl.Expr:
    """The matching key of a title; a title of only punctuation keys as its lower case."""
    key = title_key(title)
    return pl.when(key == "").then(title.str.to_lowercase()).otherwise(key)


def _record_title_keys(titles: pl.Series) -> pl.Series:
    """``record_title_key`` of a whole column (``clean.title_keys``: the same, faster)."""
    key = title_keys(titles)
    return pl.select(
        pl.when(key == "").then(titles.str.to_lowercase()).otherwise(key).alias("title_key")
    )["title_key"]


def record_features(records: pl.DataFrame) -> pl.DataFrame:
    """``record_id``, title key, blocking keys and number tokens of each record, in input order.

    Each row depends on its own record only.
    """
    stems = pl.col("stems")
    return (
        records.select("record_id", title_key=_record_title_keys(records["title"]))
        .with_columns(stems=_stems(pl.col("title_key")))
        .select(
            "record_id",
            "title_key",
            first_words=stems.list.head(3).list.join(" "),
            last_words=stems.list.tail(3).list.join(" "),
            # A typo in a middle word leaves both ends in place.
            ends=pl.concat_str(
                stems.list.head(2).list.join(" "),
                stems.list.tail(2).list.join(" "),
                separator="|",
            ),
            # A reordered subtitle keeps the set.
            stem_set=stems.list.unique().list.sort().list.join(" "),
            # The two longest content words stand in for the rarest ones (long
            # words are the rare ones): a typo in a short common word, or in an
            # early word of a short title, leaves them in place. Unlike corpus
            # frequencies, length does not change when other dumps arrive.
            long_words=stems.list.unique()
            .list.eval(
                pl.element()
                .sort_by([pl.element().str.len_chars(), pl.element()], descending=[True, False])
                .head(2)
            )
            .list.sort()
            .list.join(" "),
            letters=pl.col("title_key").str.replace_all(" ", "").str.head(24),
            numbers=pl.col("title_key").str.extract_all(NUMBER_TOKEN).list.sort().list.join(" "),
        )
    )


def _valid(key: str) -> pl.Expr:
    return pl.col(key).is_not_null() & (pl.col(key) != "")


def _touched(features: pl.DataFrame, old: pl.DataFrame | None, key: str) -> pl.DataFrame:
    """Values of ``key`` whose block gained (fresh) or lost (gone) a member."""
    parts = [features.filter(pl.col("fresh")).select(key)]
    if old is not None:
        parts.append(old.filter(pl.col("gone")).select(key))
    return pl.concat(parts).filter(_valid(key)).unique()


def candidate_pairs(
    features: pl.DataFrame, old: pl.DataFrame | None, config: MatchConfig
) -> pl.DataFrame:
    """Candidate pairs ``(a, b)`` of rids (a < b) that may not have been scored before.

    ``features``: this run's records in rid order (rid = row number, by
    source_file and record_index) with ``record_id``, ``fresh`` (new or
    changed since the previous run) and the blocking keys. ``old``: the
    previous run's records with ``record_id``, ``gone`` (removed or changed)
    and the keys, in their rid order; None from scratch. Returned: every
    candidate pair that touches a fresh record or whose block became active,
    so the candidates now are those pairs plus the previous candidates that
    ``still_candidates`` keeps.
    """
    cap = config.max_block_size
    parts = [pl.DataFrame(schema=PAIRS)]
    for key in BLOCK_KEYS:
        touched = _touched(features, old, key)
        if touched.is_empty():
            continue
        members = (
            features.select("rid", key, "fresh")
            .filter(_valid(key))
            .join(touched, on=key, how="semi")
        )
        blocks = members.group_by(key).agg(n_new=pl.len(), first=pl.col("rid").min())
        if old is not None:
            before = (
                old.select(key, "record_id", "orid")
                .filter(_valid(key))
                .join(touched, on=key, how="semi")
                .group_by(key)
                .agg(n_old=pl.len(), first_old=pl.col("record_id").sort_by("orid").first())
            )
            blocks = blocks.join(before, on=key, how="left")
        else:
            blocks = blocks.with_columns(
                n_old=pl.lit(None, pl.UInt32), first_old=pl.lit(None, pl.String)
            )
        n_old = pl.col("n_old").fill_null(0)
        blocks = blocks.with_columns(
            active=pl.col("n_new").is_between(2, cap),
            was_active=n_old.is_between(2, cap),
        )
        # A block that just became active: all its pairs are new candidates.
        new_blocks = blocks.filter(pl.col("active") & ~pl.col("was_active")).select(key)
        every = members.join(new_blocks, on=key, how="semi").select("rid", key)
        parts.append(
            every.join(every, on=key, suffix="_b")
            .filter(pl.col("rid") < pl.col("rid_b"))
            .select(a="rid", b="rid_b")
        )
        # A block active before and now: only pairs with a fresh member are new.
        kept_blocks = blocks.filter(pl.col("active") & pl.col("was_active")).select(key)
        kept = members.join(kept_blocks, on=key, how="semi")
        parts.append(
            kept.filter(pl.col("fresh"))
            .select("rid", key)
            .join(kept.select("rid", key), on=key, suffix="_b")
            .filter(pl.col("rid") != pl.col("rid_b"))
            .select(a=pl.min_horizontal("rid", "rid_b"), b=pl.max_horizontal("rid", "rid_b"))
        )
        if key == "title_key":
            # Huge blocks of one exact title: each record paired with the block's first.
            big = blocks.filter(pl.col("n_new") > cap).join(
                features.select(first="rid", first_id="record_id", first_fresh="fresh"),
                on="first",
            )
            big = big.with_columns(
                same_star=(n_old > cap)
                & (pl.col("first_old") == pl.col("first_id"))
                & ~pl.col("first_fresh")
            )
            # Pairs of two unchanged records were candidates already when the block
            # had the same first record, or was small (every pair a candidate).
            known = pl.col("same_star") | pl.col("was_active")
            parts.append(
                members.join(
                    big.select(key, "first", "same_star", "first_fresh", "was_active"), on=key
                )
                .filter(
                    (pl.col("rid") != pl.col("first"))
                    & (~known | pl.col("fresh") | pl.col("first_fresh"))
                )
                .select(a="first", b="rid")
            )
    # One 64-bit number per pair: unique and sort over one column, not two.
    pair = pl.col("a").cast(pl.UInt64) * _SHIFT + pl.col("b")
    packed = pl.concat([p.select(pair=pair) for p in parts]).unique().sort("pair")
    return packed.select(
        a=(pl.col("pair") // _SHIFT).cast(pl.UInt32), b=(pl.col("pair") % _SHIFT).cast(pl.UInt32)
    )


def still_candidates(
    pairs: pl.DataFrame, features: pl.DataFrame, old: pl.DataFrame, config: MatchConfig
) -> pl.Series:
    """Which of the previous run's candidate ``pairs`` (a < b, this run's rids, neither
    fresh) are candidates still: a block they share may have grown past the cap or
    changed its first record."""
    cap = config.max_block_size
    check = pl.Series("check", [False] * pairs.height, dtype=pl.Boolean)
    values = {}
    for key in BLOCK_KEYS:
        column = features[key]
        va, vb = column.gather(pairs["a"]), column.gather(pairs["b"])
        shared = (va == vb).fill_null(False) & (va != "").fill_null(False)
        touched = _touched(features, old, key)[key]
        check = check | (shared & va.is_in(touched.implode()))
        values[key] = (va, shared)
    if not check.any():
        return pl.Series("candidate", [True] * pairs.height, dtype=pl.Boolean)
    a = pairs["a"].filter(check)
    candidate = pl.Series("candidate", [False] * a.len(), dtype=pl.Boolean)
    for key in BLOCK_KEYS:
        va, shared = values[key][0].filter(check), values[key][1].filter(check)
        needed = va.filter(shared).unique().to_frame(key)
        blocks = (
            features.select("rid", key)
            .join(needed, on=key, how="semi")
            .group_by(key)
            .agg(n=pl.len(), first=pl.col("rid").min())
        )
        looked = va.to_frame(key).join(blocks, on=key, how="left", maintain_order="left")
        n = looked["n"].fill_null(0)
        ok = n.is_between(2, cap)
        if key == "title_key":
            ok = ok | ((n > cap) & (looked["first"] == a).fill_null(False))
        candidate = candidate | (shared & ok)
    out = pl.Series("candidate", [True] * pairs.height, dtype=pl.Boolean)
    return out.scatter(check.arg_true(), candidate)
