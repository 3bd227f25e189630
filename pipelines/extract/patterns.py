"""Regular expressions and column expressions shared by the parsers.

Everything here works on whole columns (Polars expressions over Rust regex),
so a parser never loops over lines in Python.
"""

from __future__ import annotations

import polars as pl

# --- dates -----------------------------------------------------------------

MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# "Dec 4, 2025" or "May 18" (the site drops the year of the capture year).
DATE = rf"{MONTH} \d{{1,2}}(?:, \d{{4}})?"
DATE_PARTS = rf"^(?P<mon>{MONTH}) (?P<day>\d{{1,2}})(?:, (?P<year>\d{{4}}))?$"

# A profile page's record head: "DCMay 18Code", "QUANT-PHNov 26, 2021". The lazy
# category stops where a date starts.
META = rf"^(?P<category>[A-Z][A-Z0-9-]*?)(?P<date_text>{DATE})(?P<code>Code)?$"

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


# --- person names ------------------------------------------------------------

# A capitalised name word ("Kay", "Jean-Luc", "O'Brien", "McKenzie", "LeCun",
# "Sören"). Inner capitals only after known prefixes: a general CamelCase word
# would let a glued "GraphsKay" read as a name.
_CAP = (
    r"(?:\p{Lu}[\p{Ll}'’]+|(?:Mc|Mac|Le|De|Di|Da|Du|La|Van|Von)\p{Lu}\p{Ll}+"
    r"|\p{Lu}['’]\p{Lu}\p{Ll}+)"
    r"(?:-\p{Lu}?\p{Ll}+)*"
)
_INITIAL = r"\p{Lu}\.(?:-?\p{Lu}\.)*"  # "H.", "J.-P."
_PARTICLE = r"(?:van|von|der|den|de|del|della|di|da|du|dos|das|le|la|bin|ibn|al|ter|ten)"
_SCRIPT = r"\p{Lo}+"  # names in scripts without case (Chinese, Korean, ...)
_WORD = rf"(?:{_CAP}|{_INITIAL}|{_SCRIPT})"
_SUFFIX = r"(?: (?:Jr\.|Sr\.|II|III|IV))?"
NAME = rf"(?:{_PARTICLE} )*{_WORD}(?: (?:{_PARTICLE} )*{_WORD}){{0,5}}{_SUFFIX}"

# A profile page prints at most three names, then " et al." when it cut the list,
# then optionally " · org1, org2" (organisation tags, lower case).
AUTHOR_LIST = rf"{NAME}(?:, {NAME}){{0,2}}(?: et al\.)?"

# A title glued to its author list (collapsed profile page). The lazy title
# makes the regex take the leftmost place where the rest of the line reads as
# an author list; the glue point itself ("GraphsKay") is never a valid name
# word, so no earlier place can match.
GLUED_TITLE_AUTHORS = rf"^(?P<title>.*?\S)(?P<authors>{AUTHOR_LIST})(?: · (?P<orgs>.+))?$"

# Fallback when no strict split exists (a name outside the grammar): the last
# capital glued to a non-space after which up to three short comma-separated
# pieces follow. Records split this way are marked and re-checked against
# names known from other dumps (transform/glued.py).
GLUED_FALLBACK = (
    r"^(?P<title>.*\S)(?P<authors>\p{Lu}[^,:;]{0,60}(?:, [^,:;]{1,60}){0,2}(?: et al\.)?)"
    r"(?: · (?P<orgs>.+))?$"
)

ET_AL = r"\s+et al\.?$"


def split_author_line(line: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Split "A B, C D et al. · org1, org2" into (authors, truncated, orgs).

    Returns list-of-names, a boolean "cut with et al.", and a list of org tags.
    """
    names_part = line.str.replace(r"\s+·\s+.*$", "")
    orgs_part = line.str.extract(r"\s+·\s+(.*)$", 1)
    truncated = names_part.str.contains(ET_AL)
    names = (
        names_part.str.replace(ET_AL, "")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    orgs = (
        orgs_part.str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    return names, truncated, orgs


def only_where(condition: pl.Expr, text: pl.Expr) -> pl.Expr:
    """``text`` where ``condition`` holds, else "" (null stays null).

    The name-list regexes are slow on long lines; feeding them "" elsewhere
    keeps them to the few lines that can matter.
    """
    return pl.when(condition).then(text).otherwise(pl.lit(""))


def collapse_spaces(expr: pl.Expr) -> pl.Expr:
    """Trim and fold runs of white space to one space."""
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()
