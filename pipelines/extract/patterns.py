"""Regular expressions and column expressions shared by the parsers.

Everything here works on whole columns (Polars expressions over Rust regex),
so a parser never loops over lines in Python.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.taxonomy import category_ids, shipped_categories

# --- dates -----------------------------------------------------------------

MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# "Dec 4, 2025" or "May 18" (the site drops the year of the capture year).
DATE = rf"{MONTH} \d{{1,2}}(?:, \d{{4}})?"
DATE_PARTS = rf"^(?P<mon>{MONTH}) (?P<day>\d{{1,2}})(?:, (?P<year>\d{{4}}))?$"

# --- arXiv category codes and record heads -----------------------------------------

# A category code as the pages print it: upper case, the archive with a dot
# or not ("LG", "QUANT-PH", "MATH.AP", "COND-MAT.STAT-MECH", "Q-BIO.NC"). Any
# code of this shape counts, known to the taxonomy or not: an unknown one is
# kept as printed and flagged at link time (categories.is_known).
CATEGORY_CODE = r"[A-Z][A-Z0-9]*(?:[.\-][A-Z0-9]+)*"


def _known_ids() -> str:
    """arXiv ids as arXiv writes them ("math.AP", "hep-th"), from the shipped taxonomy."""
    ids = category_ids(shipped_categories())
    return "|".join(re.escape(i) for i in sorted(ids, key=lambda i: (-len(i), i)))


# The code, or a taxonomy id in arXiv's own case ("cond-mat.stat-mech").
CATEGORY = rf"(?:{_known_ids()}|{CATEGORY_CODE})"
# A line holding only a category: the profile header's primary category.
CATEGORY_ONLY = rf"^{CATEGORY}$"

# A profile page's record head: "DCMay 18Code", "QUANT-PHNov 26, 2021",
# "MATH.APJan 3, 1998". A code never ends in a lower-case letter and a month
# always has one, so the code stops where the date starts.
META = rf"^(?P<category>{CATEGORY})(?P<date_text>{DATE})(?P<code>Code)?$"

# --- page furniture ------------------------------------------------------------------

# Links and buttons the sites print between records: never data, wherever they stand.
PAGE_LINKS = (
    r"(?i)^(?:(?:load|show|see|view) (?:more|less|all)"
    r"(?: (?:papers|results|publications|articles))?|back to top|loading\.*|more)$"
)

# --- record ends -----------------------------------------------------------------------

# An abstract that ends like a finished paragraph: final punctuation (or a
# closing bracket or quote), or a link ("... at https://github.com/x/y").
FINISHED_TEXT = r"[.!?…。！？)\]}\"'”’»]$|(?:https?://|www\.)\S+$"

_MONTH_NUMBER = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def resolve_date(date_text: pl.Expr, capture_date: pl.Expr) -> pl.Expr:
    """Turn printed dates into DATEs.

    A date without a year takes the capture year, or the year before when that
    would put it after the capture date. Impossible dates become null.
    """
    parts = date_text.str.extract_groups(DATE_PARTS)
    month = (
        parts.struct.field("mon")
        .str.slice(0, 3)
        .replace_strict(_MONTH_NUMBER, default=None, return_dtype=pl.Int32)
    )
    day = parts.struct.field("day").cast(pl.Int32, strict=False)
    printed_year = parts.struct.field("year").cast(pl.Int32, strict=False)
    capture_year = capture_date.dt.year().cast(pl.Int32)

    def build(year: pl.Expr) -> pl.Expr:
        return pl.format(
            "{}-{}-{}",
            year,
            month.cast(pl.String).str.zfill(2),
            day.cast(pl.String).str.zfill(2),
        ).str.to_date("%Y-%m-%d", strict=False)

    this_year = build(capture_year)
    return (
        pl.when(printed_year.is_not_null())
        .then(build(printed_year))
        .when(this_year > capture_date)
        .then(build(capture_year - 1))
        .otherwise(this_year)
    )


def only_where(condition: pl.Expr, text: pl.Expr) -> pl.Expr:
    """``text`` where ``condition`` holds, else "" (null stays null).

    The name-list regexes are slow on long lines; feeding them "" elsewhere
    keeps them to the few lines that can matter.
    """
    return pl.when(condition).then(text).otherwise(pl.lit(""))


def collapse_spaces(expr: pl.Expr) -> pl.Expr:
    """Trim and fold runs of white space to one space."""
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()
