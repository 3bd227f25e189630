"""Human decisions that a refresh honours: ``raw/overrides.toml`` and ``raw/aliases.toml``.

overrides.toml forces records to be one paper or to stay apart. Name records
by ``record_id`` ("<file>#<record_index>", see the records table) or by title
(every record whose normalised title equals it)::

    [[merge]]
    records = ["002_d3b38a20d54187c7.txt#29", "003_bfc256623394f453.txt#45"]

    [[apart]]
    titles = ["Scaling Laws, Part I", "Scaling Laws, Part II"]

aliases.toml merges printed variants of one person, or splits one printed
name into different people::

    [[same]]
    names = ["Qinghao Hu", "Q. Hu"]      # the first is the display name

    [[split]]
    name = "Wei Wang"
    label = "Wei Wang (Tsinghua)"       # display name and identity
    records = ["004_3fe40d5a5f467540.txt#2"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.errors import PaperlakeError
from pipelines.transform.link import ALIASES_SAME, ALIASES_SPLIT

OVERRIDES = "overrides.toml"
ALIASES = "aliases.toml"
OVERRIDE_SCHEMA = pl.Schema(
    {"kind": pl.String, "group": pl.Int64, "record_id": pl.String, "title": pl.String}
)


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise PaperlakeError(f"{path}: not valid TOML: {err}") from None


def _strings(path: Path, where: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PaperlakeError(f"{path}: {where} must be a list of strings")
    return value


def read_overrides(raw_dir: Path) -> pl.DataFrame:
    """Forced merges and separations as rows (kind, group, record_id | title)."""
    path = raw_dir / OVERRIDES
    data = _load(path)
    unknown = set(data) - {"merge", "apart"}
    if unknown:
        raise PaperlakeError(
            f"{path}: unknown section(s) {sorted(unknown)}; use [[merge]] or [[apart]]"
        )
    rows: list[dict[str, object]] = []
    group = 0
    for kind in ("merge", "apart"):
        for i, entry in enumerate(data.get(kind, [])):
            where = f"[[{kind}]] entry {i + 1}"
            if not isinstance(entry, dict) or not set(entry) <= {"records", "titles"}:
                raise PaperlakeError(f"{path}: {where} takes only 'records' and 'titles'")
            members = [("record_id", r) for r in _strings(path, where, entry.get("records", []))]
            members += [("title", t) for t in _strings(path, where, entry.get("titles", []))]
            if len(members) < 1:
                raise PaperlakeError(f"{path}: {where} names no records or titles")
            group += 1
            rows += [{"kind": kind, "group": group, col: value} for col, value in members]
    return (
        pl.DataFrame(rows, schema=OVERRIDE_SCHEMA) if rows else pl.DataFrame(schema=OVERRIDE_SCHEMA)
    )


def read_aliases(raw_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(same, split) alias tables; empty when there is no aliases file."""
    path = raw_dir / ALIASES
    data = _load(path)
    unknown = set(data) - {"same", "split"}
    if unknown:
        raise PaperlakeError(
            f"{path}: unknown section(s) {sorted(unknown)}; use [[same]] or [[split]]"
        )
    same_rows, split_rows = [], []
    for i, entry in enumerate(data.get("same", [])):
        names = _strings(path, f"[[same]] entry {i + 1} 'names'", entry.get("names"))
        if len(names) < 2:
            raise PaperlakeError(f"{path}: [[same]] entry {i + 1} needs two or more names")
        same_rows += [{"canonical": names[0], "name": n} for n in names]
    for i, entry in enumerate(data.get("split", [])):
        where = f"[[split]] entry {i + 1}"
        name, label = entry.get("name"), entry.get("label")
        if not isinstance(name, str) or not isinstance(label, str):
            raise PaperlakeError(f"{path}: {where} needs 'name' and 'label' strings")
        for record_id in _strings(path, f"{where} 'records'", entry.get("records")):
            split_rows.append({"name": name, "label": label, "record_id": record_id})
    same = (
        pl.DataFrame(same_rows, schema=ALIASES_SAME)
        if same_rows
        else pl.DataFrame(schema=ALIASES_SAME)
    )
    split = (
        pl.DataFrame(split_rows, schema=ALIASES_SPLIT)
        if split_rows
        else pl.DataFrame(schema=ALIASES_SPLIT)
    )
    return same, split
