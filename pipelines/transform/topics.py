"""Categories and topics of papers: pure frame -> frame functions.

``category_table`` resolves every printed arXiv code against the taxonomy and
keeps codes the taxonomy lacks, flagged. ``paper_topics`` gives each paper its
topics: by keyword (one regex pass per topic over title + abstract) and by
the category it was printed with.
"""

from __future__ import annotations

import functools
import os
import re._constants as _c
import re._parser as _parser
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

CATEGORIES = pl.Schema(
    {
        "category_code": pl.String,  # as printed (key)
        "category_id": pl.String,  # arXiv id; the printed code itself when unknown
        "category_name": pl.String,
        "archive": pl.String,
        "group_name": pl.String,
        "also_means": pl.String,
        "is_known": pl.Boolean,
    }
)

TOPICS = pl.Schema(
    {
        "topic": pl.String,
        "topic_position": pl.Int64,
        "description": pl.String,
        "pattern": pl.String,  # the regex actually run (patterns joined, case-insensitive)
        "categories": pl.List(pl.String),
    }
)

PAPER_TOPICS = pl.Schema(
    {
        "paper_id": pl.String,
        "topic": pl.String,
        "method": pl.String,  # 'keyword' or 'category'
        "evidence": pl.String,  # the matched text, or the category id
    }
)

# Longer matches say nothing more about why; a short evidence string stays readable.
EVIDENCE_CHARS = 80


def _code_key(code: pl.Expr) -> pl.Expr:
    """Printed codes are compared trimmed and upper case ("lg " and "LG" agree)."""
    return code.str.strip_chars().str.to_uppercase()


def category_table(printed_codes: pl.Series, taxonomy: pl.DataFrame) -> pl.DataFrame:
    """One row per taxonomy code and per printed code, resolved to an arXiv category.

    A printed code matches a taxonomy row by its code or by its full id (a dump
    printing ``cs.LG`` finds cs.LG). A code matching neither is kept with
    ``is_known`` false and its own text as ``category_id``, so papers carrying it
    still group and count.
    """
    known = taxonomy.rename({"code": "category_code"}).with_columns(is_known=pl.lit(True))
    lookup = pl.concat(
        [
            taxonomy.with_columns(key=_code_key(pl.col("code")), rank=pl.lit(0)),
            taxonomy.with_columns(key=_code_key(pl.col("category_id")), rank=pl.lit(1)),
        ]
    )
    # A code wins over an id spelling the same key; then the first id in code order.
    lookup = lookup.sort("key", "rank", "code").unique("key", keep="first").drop("code", "rank")
    printed = (
        printed_codes.drop_nulls()
        .unique()
        .rename("category_code")
        .to_frame()
        .filter(~pl.col("category_code").is_in(known["category_code"].implode()))
        .with_columns(key=_code_key(pl.col("category_code")))
        .join(lookup, on="key", how="left")
        .with_columns(
            is_known=pl.col("category_id").is_not_null(),
            category_id=pl.coalesce("category_id", "category_code"),
        )
        .drop("key")
    )
    return (
        pl.concat([known, printed], how="diagonal")
        .select(list(CATEGORIES.names()))
        .cast(dict(CATEGORIES))
        .sort("category_code")
    )


def topic_table(rules: pl.DataFrame) -> pl.DataFrame:
    """The topics as a table, with the one regex per topic that ``paper_topics`` runs."""
    return (
        rules.with_columns(
            pattern=pl.when(pl.col("patterns").list.len() > 0).then(
                pl.lit("(?i)(?:")
                + pl.col("patterns").list.eval(pl.lit("(?:") + pl.element() + ")").list.join("|")
                + pl.lit(")")
            )
        )
        .select(list(TOPICS.names()))
        .cast(dict(TOPICS))
        .sort("topic_position")
    )


def paper_topics(
    papers: pl.DataFrame, categories: pl.DataFrame, topics: pl.DataFrame
) -> pl.DataFrame:
    """Topics of each paper: (paper_id, topic, method, evidence), key (paper_id, topic, method).

    ``papers`` needs paper_id, title, abstract and category; ``categories`` is
    ``category_table``'s output and ``topics`` is ``topic_table``'s. Keyword
    matching runs each topic's regex over the whole text column (see
    ``keyword_evidence``); papers without a printed category (daily listings,
    scholar pages) still get keyword topics.
    """
    text = pl.concat_str(
        [pl.col("title").fill_null(""), pl.col("abstract").fill_null("")], separator="\n"
    )
    with_pattern = topics.filter(pl.col("pattern").is_not_null())
    keyword = pl.DataFrame(schema=PAPER_TOPICS)
    if with_pattern.height and papers.height:
        texts = papers.select("paper_id", text=text)
        lowered = Lowered.of(texts["text"])
        rules = with_pattern.select("topic", "pattern").rows()
        match = functools.partial(keyword_evidence, texts["text"], lowered=lowered)
        # A regex pass over a column holds the GIL for none of its time: the
        # topics run side by side, one per core.
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            evidences = list(pool.map(match, [pattern for _, pattern in rules]))
        found = []
        for (topic, _), evidence in zip(rules, evidences, strict=True):
            found.append(
                texts.select("paper_id", evidence=evidence)
                .drop_nulls("evidence")
                .with_columns(topic=pl.lit(topic))
            )
        keyword = pl.concat(found).select(
            "paper_id", "topic", method=pl.lit("keyword"), evidence="evidence"
        )
    implied = topics.select("topic", category_id=pl.col("categories")).explode("category_id")
    by_category = (
        papers.select("paper_id", category_code="category")
        .join(categories.select("category_code", "category_id"), on="category_code")
        .join(implied, on="category_id")
        .select("paper_id", "topic", method=pl.lit("category"), evidence="category_id")
    )
    return (
        pl.concat([keyword.cast(dict(PAPER_TOPICS)), by_category.cast(dict(PAPER_TOPICS))])
        .unique(["paper_id", "topic", "method"], keep="first", maintain_order=True)
        .sort("paper_id", "topic", "method")
    )


# --- Keyword matching, fast and exactly as the regex says -------------------------
#
# Each topic's pattern is case-insensitive ``(?i)``, and Unicode case folding
# keeps the regex engine from its fast literal search: 21 such passes were
# the largest cost of linking. So the text is lowered once, and a pattern is
# first tried case-sensitively on the lowered text, where literal search is
# fast; only texts it matches run the original pattern, for the evidence as
# printed. For a pattern whose letters are all lower-case ASCII this finds the
# same texts: lowering maps every character that folds to an ASCII letter onto
# that letter, except the long s (U+017F), and maps characters one to one
# except the dotted capital I (U+0130); texts holding either run the original
# pattern directly. Any other pattern (upper-case letters, inline flags,
# Unicode classes) runs as given on every text. Before that, a pattern whose
# every match must contain one of a few literals (``required_literals``)
# is tried only on the texts holding one.

_UNSAFE_SYNTAX = ("(?", "\\p", "\\P", "[:", "\\x", "\\u", "\\U", "\\Q", "\\E", "\\b{", "{,")
_META = set(".^$*+?()[]{}|\\")


@dataclass(frozen=True)
class Lowered:
    """A text column lowered once for every topic, and the rows that must run the
    original pattern (lowering changed their length or they hold a long s)."""

    text: pl.Series
    special: pl.Series

    @classmethod
    def of(cls, text: pl.Series) -> Lowered:
        low = text.str.to_lowercase()
        special = (
            (low.str.len_bytes() != text.str.len_bytes())
            | (low.str.len_chars() != text.str.len_chars())
            | text.str.contains("\u017f", literal=True)
        )
        return cls(low, special.fill_null(False))


def keyword_evidence(text: pl.Series, pattern: str, lowered: Lowered | None = None) -> pl.Series:
    """The first match of ``pattern`` in each text, cut to EVIDENCE_CHARS, or null:
    what ``text.str.extract(pattern, 0)`` gives, computed faster. ``lowered`` is
    ``Lowered.of(text)``, passed in when several patterns run on one text."""
    lowered = lowered or Lowered.of(text)
    plain = _lowercase_form(pattern)
    out = pl.Series("evidence", [None] * text.len(), dtype=pl.String)
    if plain is None:
        return text.str.extract(pattern, 0).str.slice(0, EVIDENCE_CHARS).rename("evidence")
    rows = pl.int_range(text.len(), eager=True, dtype=pl.UInt32).filter(~lowered.special)
    literals = required_literals(plain)
    if literals:
        rows = rows.filter(lowered.text.gather(rows).str.contains(_alternation(literals)))
    rows = rows.filter(lowered.text.gather(rows).str.contains(plain))
    rows = pl.concat([rows, lowered.special.arg_true()])
    if rows.len():
        found = text.gather(rows).str.extract(pattern, 0).str.slice(0, EVIDENCE_CHARS)
        out = out.scatter(rows, found)
    return out


@functools.lru_cache(maxsize=256)
def _lowercase_form(pattern: str) -> str | None:
    """``pattern`` without its leading ``(?i)`` when it may run on lowered text, else None."""
    if not pattern.startswith("(?i)"):
        return None
    plain = pattern.removeprefix("(?i)")
    if any(token in plain.replace("(?:", "") for token in _UNSAFE_SYNTAX):
        return None
    try:
        tree = _parser.parse(plain)
    except Exception:  # Rust syntax Python does not read: run the pattern as given
        return None
    return plain if _all_lowercase(tree) else None


def _all_lowercase(items) -> bool:
    for op, av in items:
        if op in (_c.LITERAL, _c.NOT_LITERAL):
            if not _lower_char(av):
                return False
        elif op is _c.RANGE:
            lo, hi = av
            if hi >= 128 or (lo <= ord("Z") and hi >= ord("A")):
                return False
        elif op is _c.IN:
            if not _all_lowercase(av):
                return False
        elif op is _c.SUBPATTERN:
            if av[1] or av[2] or not _all_lowercase(av[-1]):  # inline flags
                return False
        elif op is _c.BRANCH:
            if not all(_all_lowercase(alt) for alt in av[1]):
                return False
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            if not _all_lowercase(av[2]):
                return False
        elif op not in (_c.AT, _c.CATEGORY, _c.ANY, _c.NEGATE):
            return False
    return True


def _lower_char(code: int) -> bool:
    char = chr(code)
    return char.isascii() and not char.isupper()


def _alternation(literals: tuple[str, ...]) -> str:
    return "|".join("".join(f"\\{c}" if c in _META else c for c in lit) for lit in literals)


# A literal set larger than this is no cheap test.
_MAX_LITERALS = 64


@functools.lru_cache(maxsize=256)
def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Literals (lower case) one of which every match of ``pattern`` contains, or None.

    Only worth a pass when the pattern is more than those literals (it has a
    gap such as ``[^.]{0,60}``); None when no such set is found.
    """
    try:
        exact, required = _sequence(list(_parser.parse(pattern)))
    except Exception:
        return None
    if exact is not None or not required:
        return None
    best = max(required, key=lambda s: (min(map(len, s)), -len(s)))
    return tuple(sorted(best))


def _sequence(items) -> tuple[set[str] | None, list[set[str]]]:
    """(the strings the items match, if few) or (sets of literals a match must contain)."""
    required: list[set[str]] = []
    run: set[str] = {""}
    broken = False
    for op, av in items:
        exact, inner = _node(op, av)
        if exact is not None:
            joined = {a + b for a in run for b in exact}
            if len(joined) <= _MAX_LITERALS:
                run = joined
                continue
            required.append(run)
            run, broken = exact, True
            continue
        required.append(run)
        required.extend(inner)
        run, broken = {""}, True
    if not broken:
        return run, []
    required.append(run)
    return None, [s for s in required if s and "" not in s]


def _node(op, av) -> tuple[set[str] | None, list[set[str]]]:
    if op is _c.LITERAL:
        return {chr(av).lower()}, []
    if op is _c.AT:
        return {""}, []
    if op is _c.IN:
        chars = {chr(a).lower() for o, a in av if o is _c.LITERAL}
        if len(chars) == len(av) and len(chars) <= 8:
            return chars, []
        return None, []
    if op is _c.SUBPATTERN:
        return _sequence(av[-1])
    if op is _c.BRANCH:
        alternatives = [_sequence(alt) for alt in av[1]]
        if all(exact is not None for exact, _ in alternatives):
            union = set().union(*(exact for exact, _ in alternatives))
            if len(union) <= _MAX_LITERALS:
                return union, []
        picks = []
        for exact, required in alternatives:
            options = ([exact] if exact is not None and "" not in exact else []) + required
            if not options:
                return None, []
            picks.append(max(options, key=lambda s: (min(map(len, s)), -len(s))))
        union = set().union(*picks)
        return None, [union] if len(union) <= _MAX_LITERALS else []
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        low, high, item = av
        exact, required = _sequence(item)
        if low == 0:
            return (exact | {""}, []) if high == 1 and exact is not None else (None, [])
        if low == 1 and high == 1:
            return exact, required
        return None, ([exact] if exact is not None else []) + required
    return None, []
