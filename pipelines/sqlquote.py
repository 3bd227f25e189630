"""The one place that puts text into SQL: quoting for what DuckDB cannot bind.

Every value and path paperlake sends to DuckDB is a bound parameter (``?``),
except where DuckDB's grammar takes no parameter: identifiers (table, view,
column names) and the string of ``COMMENT ON ... IS '...'``. Those go through
the two functions here and nowhere else; ``tests/test_security.py`` feeds them
quotes, semicolons, comment markers, newlines and NUL bytes.
"""

from __future__ import annotations

from pipelines.errors import PaperlakeError


def _check(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise PaperlakeError(f"{what} {text!r} is not text")
    if "\x00" in text:
        # DuckDB's parser stops at a NUL: what follows would be lost, not quoted.
        raise PaperlakeError(f"{what} {text!r} contains a NUL byte")
    return text


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier: ``"`` doubled inside double quotes."""
    return '"' + _check(name, "identifier").replace('"', '""') + '"'


def qualified(*parts: str) -> str:
    """A dotted name (``schema.table``, ``table.column``), each part quoted."""
    return ".".join(identifier(part) for part in parts)


def literal(text: str) -> str:
    """``text`` as a SQL string literal: ``'`` doubled inside single quotes.

    DuckDB strings have no backslash escapes, so doubling the quote is the
    whole rule: nothing inside can end the literal.
    """
    return "'" + _check(text, "string").replace("'", "''") + "'"
