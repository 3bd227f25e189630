"""The grammar of person names and author lists, as regular expressions over whole columns.

Author lists carry names of every shape: "Kay Liu", "Jean-Luc Godard",
"George H. Chen", "J Smith", "JP Morgan", "ZHANG Wei", "Wei ZHANG",
"Shaquille O'Neal", "Yann LeCun", "Ludwig van Beethoven", "Jean d'Alembert",
"Omar al-Farsi", "Martin Luther King Jr.", "Sukarno", "王秀英". The word lists
below (particles, elided and hyphenated articles, suffixes) follow nameparser's
vocabulary; ``tests/test_grammar.py`` checks them against it and parses a
corpus of real names from Faker's locales.

Two grammars:

- ``NAME`` is strict enough to find where a title glued to its author list
  ends (collapsed profile pages): inside a word, a capital may follow a
  lower-case letter only after a known prefix ("Mc", "Le", ...), so the glue
  point of "...Attributed GraphsKay Liu" is never inside a name.
- ``NAMES_LINE`` tells a line that can be an author list from one that cannot
  ("Load more papers", a sentence, numbers): any capitalised word counts.
"""

from __future__ import annotations

import polars as pl


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Lower-case particles inside family names ("van der Berg", "'t Hooft",
# "ibn Sina"): nameparser's PARTICLES in Latin script, plus Spanish "y",
# Dutch "die" and "ten" ("ten Brink") and Irish "an" ("Mac an Déisigh").
PARTICLES = _words(
    "'t ’t aan abu aen af al an auf av bar bat bin bint binte binti bon da dal das de degli dei "
    "del dela della delle delli dello dem den der di die do dos du dí freiherr freiherrin heer "
    "het ibn la las le los mac mc ní op san santa st ste te ten ter tho thoe ua van vande vander "
    "vd vel vom von y zu ó"
)
# Particles elided onto the next word: "d'Alembert", "dell'Acqua", "l'Hôpital".
ELIDED = ("d", "de", "dell", "dall", "l")
# Arabic articles hyphenated onto the next word: "al-Farsi", "el-Sayed", "ash-Shami".
ARTICLES = _words(
    "ad adh al an ar as ash at ath az ed edh el en er es esh et eth ez ul aš aḍ aḏ aṣ aṭ aṯ aẓ"
)
# Prefixes after which a capital starts the rest of the word ("McKenzie",
# "LeCun", "DiPietro", "FitzGerald"). Any other capital inside a word is a
# glue point.
CAMEL_PREFIXES = _words("Mc Mac Fitz De Di Da Du Del Della Dal Le La Lo Van Vander Von St Ben")
# Generational suffixes, after the name or after a comma ("King, Jr.").
SUFFIXES = ("Jr", "Sr", "Jnr", "Snr", "II", "III", "IV")


def _alternation(words: tuple[str, ...]) -> str:
    # Longest first, so that "della" is tried before "del".
    escaped = sorted((w.replace(".", r"\.") for w in words), key=lambda w: (-len(w), w))
    return "(?:" + "|".join(escaped) + ")"


_UP = r"\p{Lu}\p{M}*"
# The rest of a capitalised word: lower-case letters, marks, apostrophes
# ("Ng'ang'a", Uzbek "Ulug‘bek", "Oʻlmas").
_APOSTROPHES = "'’‘ʻʼ"
# Georgian letters are lower case but caseless in use: they never continue a
# Latin capital, or a glued "Gradientთინათინ" would read as one word.
_LOW = rf"[[\p{{Ll}}\p{{M}}{_APOSTROPHES}]--\p{{Georgian}}]+"
# Each shape shares the leading capital (every Unicode class costs regex size):
# "Kay", "O'Brien", "H." / "J.-P." / "J.R.", or a lone initial without its dot
# ("George H Chen", "Nguyen Van A").
_CAPITAL_WORD = rf"{_UP}(?:{_LOW}|[{_APOSTROPHES}]\p{{Lu}}{_LOW}|\.(?:-?\p{{Lu}}\.)*|)"
_CAMEL_ONLY = rf"{_alternation(CAMEL_PREFIXES)}\p{{Lu}}{_LOW}"  # "McKenzie", "LeCun"
_PREFIXED_WORD = (
    rf"(?:{_alternation(CAMEL_PREFIXES)}"  # "McKenzie", "LeCun"
    rf"|{_alternation(ELIDED)}[{_APOSTROPHES}]"  # "d'Alembert", "dell'Acqua"
    rf"|{_alternation(ARTICLES)}-)"  # "al-Farsi"
    rf"\p{{Lu}}{_LOW}"
)
# Hyphenated parts: "Jean-Luc", "Min-jun", "García-López".
_HYPHENATED = rf"(?:-\p{{Lu}}?{_LOW})*"
# Scripts without case (Chinese, Japanese, Korean, Arabic, Devanagari, ...,
# and Georgian, whose letters are lower case); the middle dots join
# transliterated parts ("阿卜杜拉·买买提", "ジョン・スミス"), the zero-width
# joiners shape Indic letters, the apostrophe is Hebrew's geresh ("ג'בארין").
_SCRIPT = r"[\p{Lo}\p{Georgian}][\p{Lo}\p{Lm}\p{M}\p{Georgian}·・'’\u200c\u200d]*"
_WORD = rf"(?:(?:{_CAPITAL_WORD}|{_PREFIXED_WORD}){_HYPHENATED}|{_SCRIPT})"
_CAPS = r"\p{Lu}{2,}(?:-\p{Lu}{2,})*"  # "ZHANG", "GARCÍA-LÓPEZ", "JP"
_PARTICLE = rf"{_alternation(PARTICLES)} "
_SUFFIX = rf"(?:,? {_alternation(SUFFIXES)}\.?)?"

_BODY_REST = rf"(?: (?:{_PARTICLE})*{_WORD})*"
# All-capital words stand at either end of a name: a family name printed in
# capitals ("ZHANG Wei", "Wei ZHANG", "María GARCÍA LÓPEZ") or initials
# without dots ("JP Morgan"). Never in the middle, so that a title's acronym
# glued to a name ("...for LLMJP Morgan") cannot pass for part of a name.
_CAPS_TAIL = rf"(?: (?:{_PARTICLE})*{_CAPS})*"
_NAME_REST = rf"{_BODY_REST}{_CAPS_TAIL}{_SUFFIX}"
_NAME_START = rf"(?:{_CAPS} )*(?:{_PARTICLE})*{_WORD}"
NAME = rf"{_NAME_START}{_NAME_REST}"
ET_AL_TEXT = r" et al\.?"
# Any number of names, then " et al." when the page cut the list.
_LIST_REST = rf"{_NAME_REST}(?:, {NAME})*(?:{ET_AL_TEXT})?"
AUTHOR_LIST = rf"{_NAME_START}{_LIST_REST}"

# The first name of a glued list starts with a capital (or a caseless
# script): a "Given Family" list never starts with a particle, and a particle
# there would find false glue points at the end of any word ("Ka|y Liu").
_GLUED_START = rf"(?:{_CAPS} )*(?:(?:{_CAPITAL_WORD}|{_CAMEL_ONLY}){_HYPHENATED}|{_SCRIPT})"

# A title glued to its author list (collapsed profile page). The lazy title
# makes the regex take the leftmost place where the rest of the line reads as
# an author list; the glue point itself ("GraphsKay") is never inside a valid
# name word, so no earlier place can match. After a title ending in a capital
# ("...for LLM") the first name must not start with a run of capitals:
# "LLMKay Liu" splits as LLM|Kay and "LLMJ Smith" as LLM|J Smith, never
# L|LMJ Smith. A title never ends inside a caseless script: there no glue
# point shows, so such a line goes to the fallback rather than being cut at
# its first character. Title and authors are rebuilt from the parts
# (``glued_split``).
GLUED_TITLE_AUTHORS = (
    r"^(?P<head>.*?)"
    rf"(?:(?P<end>[^\s\p{{Lu}}\p{{Lo}}\p{{M}}])(?P<first>{_GLUED_START})"
    rf"|(?P<end_caps>\p{{Lu}})(?P<first_caps>(?:{_CAPITAL_WORD}|{_PREFIXED_WORD}){_HYPHENATED}"
    rf"|{_SCRIPT}))"
    rf"(?P<rest>{_LIST_REST})"
    r"(?: · (?P<orgs>.+))?$"
)


def glued_split(parts: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(title, authors, ambiguous) from the groups of ``GLUED_TITLE_AUTHORS``.

    Title and authors are null where no split was found. ``ambiguous`` is true
    where a title's closing capitals meet a first name that is a lone capital
    ("...for LLMJ Smith", "...for LLMPOULIOT Martin"): no glue point shows
    where the acronym ends, so the split is a guess (the last capital).
    """
    field = parts.struct.field
    title = pl.concat_str(field("head"), pl.coalesce(field("end"), field("end_caps")))
    authors = pl.concat_str(pl.coalesce(field("first"), field("first_caps")), field("rest"))
    ambiguous = field("end_caps").is_not_null() & field("first_caps").str.contains(
        r"^\p{Lu}\p{M}*$"
    )
    return title, authors, ambiguous


# Fallback when no strict split exists (a name outside the grammar): the last
# capital glued to a non-space after which up to three short comma-separated
# pieces follow. Records split this way are marked and re-checked against
# names known from other dumps (transform/glued.py).
GLUED_FALLBACK = (
    r"^(?P<title>.*\S)(?P<authors>\p{Lu}[^,:;]{0,60}(?:, [^,:;]{1,60}){0,2}(?: et al\.)?)"
    r"(?: · (?P<orgs>.+))?$"
)

# A line that can be an author list: names of capitalised words (any inner
# capitals: "DeWitt", "JoAnn"), initials, particles, caseless scripts,
# separated by ", " or " and ", optionally cut with "et al." and followed by
# " · org1, org2". A lower-case word that is neither a particle nor a short
# word before a capitalised one, a digit or sentence punctuation makes a line
# no author list ("Load more papers", "14 Papers", "see the appendix").
_LOOSE_WORD = (
    rf"(?:{_UP}|\p{{Ll}}+[{_APOSTROPHES}-]?\p{{Lu}})[\p{{L}}\p{{M}}{_APOSTROPHES}\-]*\.?"
    rf"|{_SCRIPT}"
)
# A short lower-case word before a name word passes for a particle the list
# lacks ("zur Linde"): a real name lost costs more than a stray line kept.
_LOOSE_PARTICLE = rf"(?:{_PARTICLE}|\p{{Ll}}{{1,4}} )"
_LOOSE_NAME = (
    rf"(?:{_LOOSE_PARTICLE})*(?:{_LOOSE_WORD})(?: (?:{_LOOSE_PARTICLE})*(?:{_LOOSE_WORD}))*"
)
_SEPARATOR = r"(?:, and |, | and | & )"
# A name printed all in lower case ("danah boyd") passes in a list that has
# another, capitalised name: alone, lower-case words read as a sentence.
_LOWER_NAME = r"\p{Ll}+(?: \p{Ll}+){0,2}"
_ANY_NAME = rf"(?:{_LOOSE_NAME}{_SUFFIX}|{_LOWER_NAME})"
NAMES_LINE = (
    rf"^(?:{_LOWER_NAME}{_SEPARATOR})*{_LOOSE_NAME}{_SUFFIX}(?:{_SEPARATOR}{_ANY_NAME})*"
    rf"(?:{ET_AL_TEXT})?(?: · .+)?$"
)
# A line that is clearly a list of names, not a title that happens to read as
# one ("Deep Learning"): strict names and a list separator or "et al.".
CLEAR_AUTHOR_LIST = rf"^{AUTHOR_LIST}(?: · .+)?$"
LIST_EVIDENCE = r", | et al\.?(?: · |$)| · "

ET_AL = r"\s+et al\.?$"
# A suffix after a comma belongs to the name before it: "King, Jr., Ana Wu".
_SUFFIX_PIECE = rf",\s+({_alternation(SUFFIXES)}\.?)(,|\s+et al|$)"


def is_clear_author_list(line: pl.Expr) -> pl.Expr:
    """True for a line that reads as a list of several names (or a cut one)."""
    return line.str.contains(CLEAR_AUTHOR_LIST) & line.str.contains(LIST_EVIDENCE)


def split_author_line(line: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Split "A B, C D et al. · org1, org2" into (authors, truncated, orgs).

    Returns list-of-names, a boolean "cut with et al.", and a list of org tags.
    " and " and " & " separate names like commas; a suffix after a comma stays
    with its name.
    """
    names_part = line.str.replace(r"\s+·\s+.*$", "")
    orgs_part = line.str.extract(r"\s+·\s+(.*)$", 1)
    truncated = names_part.str.contains(ET_AL)
    names = (
        names_part.str.replace(ET_AL, "")
        .str.replace_all(_SUFFIX_PIECE, " $1$2")
        .str.replace_all(r",\s+and\s+|\s+and\s+|\s*&\s*", ", ")
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


def merge_suffixes(line: pl.Expr) -> pl.Expr:
    """Join a suffix printed after a comma to the name before it ("King, Jr." -> "King Jr.")."""
    return line.str.replace_all(_SUFFIX_PIECE, " $1$2")
