"""Bytes to a column of lines: encoding detection and line splitting.

Dumps are copied out of browsers and editors, so they arrive as UTF-8 (with or
without a byte-order mark), UTF-16 with a BOM, or a legacy Windows code page.
Decoding never raises: what cannot be decoded is replaced and reported.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import polars as pl

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control bytes that never occur in text (tab, LF, CR and form feed do).
_BINARY_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


@dataclass(frozen=True)
class DecodedText:
    """A decoded dump: its text and how it was decoded."""

    text: str
    encoding: str
    note: str | None = None  # set when the encoding was guessed or lossy
    is_binary: bool = False


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(sample.count(bytes([b])) for b in _BINARY_BYTES)
    return control > max(4, len(sample) // 100)


def _utf16_without_bom(data: bytes) -> str | None:
    """Recognise BOM-less UTF-16 by its NUL bytes in every other position."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0) / len(sample[0::2])
    odd_nul = sample[1::2].count(0) / len(sample[1::2])
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def decode_dump(data: bytes) -> DecodedText:
    """Decode a dump's bytes, saying which encoding was used and why."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            bad = text.count("\ufffd")
            note = f"{bad} undecodable bytes replaced" if bad else None
            return DecodedText(text, f"{encoding} (BOM)", note)

    guessed_utf16 = _utf16_without_bom(data)
    if guessed_utf16:
        text = data.decode(guessed_utf16, errors="replace")
        return DecodedText(text, guessed_utf16, f"decoded as {guessed_utf16} without a BOM")

    if _looks_binary(data):
        return DecodedText("", "binary", "binary content (NUL or control bytes)", is_binary=True)

    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as err:
        first_bad, cut_at_end = err.start, err.reason == "unexpected end of data"

    # UTF-8 with damage, not another encoding: its well-formed multi-byte
    # characters outnumber the broken sequences, or the file was cut in the
    # middle of a character (and has well-formed ones: a lone last byte such
    # as the 0xE9 of a Windows-1252 "café" says nothing). Keep the UTF-8
    # reading and replace only what is broken.
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    well_formed = len(text) - len(text.encode("ascii", "ignore")) - bad
    if well_formed > bad or (cut_at_end and well_formed > 0):
        where = (
            "the file ends in the middle of a character"
            if cut_at_end and bad == 1
            else f"first at byte {first_bad}"
        )
        return DecodedText(
            text,
            "utf-8 (lossy)",
            f"UTF-8 with {bad} broken byte sequence{'s' if bad != 1 else ''} ({where}); "
            "replaced with U+FFFD",
        )

    # Not UTF-8. Windows-1252 is a superset of Latin-1's printable range and is
    # what Windows editors save, so it is the right reading of both.
    try:
        text = data.decode("cp1252")
        return DecodedText(
            text,
            "windows-1252",
            f"not UTF-8 (byte {first_bad}); decoded as Windows-1252/Latin-1",
        )
    except UnicodeDecodeError:
        pass

    # Bytes that fit no encoding: keep the UTF-8 reading, replace the rest.
    return DecodedText(
        text, "utf-8 (lossy)", f"{bad} bytes fit no known encoding and were replaced with U+FFFD"
    )


def split_texts(texts: list[str]) -> pl.DataFrame:
    """One row per line of many texts: ``file`` (index into ``texts``), ``line_no`` (1-based)
    and ``text`` without line ends.

    LF, CRLF and lone CR all end a line; a final line end does not start an
    empty last line; an empty text has no lines.
    """
    normalised = (
        pl.Series("text", texts, dtype=pl.String)
        .str.replace_all("\r\n?", "\n")
        .str.strip_suffix("\n")
    )
    empty = pl.Series([not t for t in texts], dtype=pl.Boolean)
    return (
        pl.DataFrame({"file": pl.int_range(len(texts), eager=True), "text": normalised})
        .filter(~empty)
        .with_columns(pl.col("text").str.split("\n"))
        .explode("text")
        .with_columns(line_no=pl.int_range(1, pl.len() + 1).over("file"))
        .select(pl.col("file").cast(pl.Int64), pl.col("line_no").cast(pl.Int64), "text")
    )


def split_lines(text: str) -> pl.DataFrame:
    """One row per line of one text: ``line_no`` (1-based) and ``text``."""
    return split_texts([text]).drop("file")
