"""Normalisation keys for titles and person names.

Keys are for matching only; display values keep what the page printed.
"""

from __future__ import annotations

import polars as pl

# LaTeX escapes that stand for a character ("R\&D").
_LATEX_ESCAPE = r"\\([&%$#_{}])"
# LaTeX commands ("\rm", "\mathrm", "\times"): dropped, their arguments kept.
_LATEX_COMMAND = r"\\[A-Za-z]+\s*"
_LATEX_MARKUP = r"[$^_{}]"


# Commands that stand for a letter or sign, so "$\mu$P" meets "μP".
_LATEX_SYMBOLS = {
    **{
        rf"\\{name}\b": char
        for name, char in zip(
            [
                "alpha",
                "beta",
                "gamma",
                "delta",
                "epsilon",
                "zeta",
                "eta",
                "theta",
                "iota",
                "kappa",
                "lambda",
                "mu",
                "nu",
                "xi",
                "pi",
                "rho",
                "sigma",
                "tau",
                "upsilon",
                "phi",
                "chi",
                "psi",
                "omega",
            ],
            "αβγδεζηθικλμνξπρστυφχψω",
            strict=True,
        )
    },
    r"\\times\b": "×",
    r"\\infty\b": "∞",
}


def strip_latex(text: pl.Expr) -> pl.Expr:
    """Reduce inline LaTeX to its text: ``$\\rm A^2Q$`` -> ``A2Q``, ``$\\mu$`` -> ``μ``."""
    for pattern, char in _LATEX_SYMBOLS.items():
        text = text.str.replace_all(pattern, char)
    return (
        text.str.replace_all(_LATEX_ESCAPE, "$1")
        .str.replace_all(_LATEX_COMMAND, "")
        .str.replace_all(_LATEX_MARKUP, "")
    )


def title_key(title: pl.Expr) -> pl.Expr:
    """A matching key for a title: NFKC, LaTeX reduced, case and punctuation folded.

    "Nexus:Proactive ..." and "Nexus: Proactive ..." get the same key.
    """
    return (
        strip_latex(title.str.normalize("NFKC"))
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


# Every step of strip_latex needs one of these characters: text without them is left as is.
_MARKUP_CHARS = r"[\\$^_{}]"


def title_keys(titles: pl.Series) -> pl.Series:
    """``title_key`` of a whole column, faster: LaTeX is reduced only in the titles
    that hold one of its characters (a few percent), the others skip its passes."""
    text = titles.str.normalize("NFKC")
    marked = text.str.contains(_MARKUP_CHARS).fill_null(False)
    if marked.any():
        rows = marked.arg_true()
        stripped = text.gather(rows).to_frame("t").select(strip_latex(pl.col("t")))["t"]
        text = text.scatter(rows, stripped)
    return (
        text.str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .rename(titles.name)
    )


def has_markup(title: pl.Expr) -> pl.Expr:
    """True when a title carries LaTeX markup."""
    return title.str.contains(r"[$\\]")


def name_key(name: pl.Expr) -> pl.Expr:
    """A matching key for a person's "Given Family" name.

    Accents, case, hyphens, dots and spacing are folded: "Jean-Luc Réné" and
    "jean luc rene" agree.
    """
    return (
        name.str.normalize("NFKD")
        .str.replace_all(r"\p{M}+", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
