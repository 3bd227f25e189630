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

Both files are validated whole before a run starts (``load_overrides``,
``load_aliases``): wrong types, unknown keys, and a pair that one entry merges
while another keeps it apart are errors naming the file and the entries.
Entries naming a record, title or name that no dump has are warnings
(``unmatched_references``): the run goes on, and ``--strict`` fails on them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import polars as pl
from pydantic import Field, StringConstraints, model_validator

from pipelines.configfiles import ConfigError, ConfigModel, load_model, validate
from pipelines.transform.clean import name_key, title_key
from pipelines.transform.link import ALIASES_SAME, ALIASES_SPLIT

OVERRIDES = "overrides.toml"
ALIASES = "aliases.toml"
OVERRIDE_SCHEMA = pl.Schema(
    {"kind": pl.String, "group": pl.Int64, "record_id": pl.String, "title": pl.String}
)

Text = Annotated[str, StringConstraints(min_length=1)]


class OverrideEntry(ConfigModel):
    """A [[merge]] or [[apart]] entry: records by id, and records by title."""

    records: list[Text] = Field(default_factory=list)
    titles: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_something(self) -> OverrideEntry:
        if not self.records and not self.titles:
            raise ValueError("names no records or titles")
        return self


class Overrides(ConfigModel):
    """raw/overrides.toml."""

    merge: list[OverrideEntry] = Field(default_factory=list)
    apart: list[OverrideEntry] = Field(default_factory=list)


class SameEntry(ConfigModel):
    """A [[same]] entry: printed names of one person, the display name first."""

    names: Annotated[list[Text], Field(min_length=2)]


class SplitEntry(ConfigModel):
    """A [[split]] entry: on these records, ``name`` is a different person, ``label``."""

    name: Text
    label: Text
    records: Annotated[list[Text], Field(min_length=1)]


class Aliases(ConfigModel):
    """raw/aliases.toml."""

    same: list[SameEntry] = Field(default_factory=list)
    split: list[SplitEntry] = Field(default_factory=list)


def _title_keys(titles: list[str]) -> list[str]:
    return (
        pl.Series(titles, dtype=pl.String)
        .to_frame("t")
        .select(title_key(pl.col("t")))["t"]
        .to_list()
    )


def _members(entry: OverrideEntry) -> list[tuple[str, str, str]]:
    """(comparable key, kind, as written) of each member of an entry."""
    out = [(f"record {r}", "record", r) for r in entry.records]
    keys = _title_keys(entry.titles) if entry.titles else []
    out += [(f"title {k}", "title", t) for k, t in zip(keys, entry.titles, strict=True)]
    return out


def _conflicts(overrides: Overrides) -> list[str]:
    """Pairs that merge entries join (together, through shared members) and an apart entry
    separates: each names the entries on both sides."""
    parent = list(range(len(overrides.merge)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, entry in enumerate(overrides.merge):
        for key, _, _ in _members(entry):
            if key in owner:
                parent[root(i)] = root(owner[key])
            owner.setdefault(key, i)
    problems = []
    for j, entry in enumerate(overrides.apart):
        members = _members(entry)
        for n, (key_a, kind_a, a) in enumerate(members):
            for key_b, kind_b, b in members[n + 1 :]:
                if key_a in owner and key_b in owner and root(owner[key_a]) == root(owner[key_b]):
                    group = root(owner[key_a])
                    merges = [
                        f"merge[{i + 1}]" for i in range(len(overrides.merge)) if root(i) == group
                    ]
                    problems.append(
                        f"{' and '.join(merges)} and apart[{j + 1}] both name {kind_a} {a!r} "
                        f"and {kind_b} {b!r}: keep one of the entries"
                    )
    return problems


def load_overrides(raw_dir: Path) -> Overrides:
    """raw/overrides.toml, validated whole; empty when there is none."""
    path = raw_dir / OVERRIDES
    return _without_conflicts(load_model(Overrides, path) or Overrides(), path)


def check_overrides_text(text: str, path: Path) -> Overrides:
    """Validate what is about to be written to ``path`` as overrides.toml would be read."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, [f"not valid TOML: {err}"]) from None
    return _without_conflicts(validate(Overrides, data, path), path)


def _without_conflicts(overrides: Overrides, path: Path) -> Overrides:
    problems = _conflicts(overrides)
    if problems:
        raise ConfigError(path, problems)
    return overrides


def load_aliases(raw_dir: Path) -> Aliases:
    """raw/aliases.toml, validated whole; empty when there is none."""
    return load_model(Aliases, raw_dir / ALIASES, labels={"split": "name"}) or Aliases()


def read_overrides(raw_dir: Path) -> pl.DataFrame:
    """Forced merges and separations as rows (kind, group, record_id | title)."""
    overrides = load_overrides(raw_dir)
    rows: list[dict[str, object]] = []
    group = 0
    for kind, entries in (("merge", overrides.merge), ("apart", overrides.apart)):
        for entry in entries:
            group += 1
            rows += [{"kind": kind, "group": group, "record_id": r} for r in entry.records]
            rows += [{"kind": kind, "group": group, "title": t} for t in entry.titles]
    return pl.DataFrame(rows, schema=OVERRIDE_SCHEMA)


def read_aliases(raw_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(same, split) alias tables; empty when there is no aliases file."""
    aliases = load_aliases(raw_dir)
    same_rows = [{"canonical": e.names[0], "name": n} for e in aliases.same for n in e.names]
    split_rows = [
        {"name": e.name, "label": e.label, "record_id": r} for e in aliases.split for r in e.records
    ]
    return (
        pl.DataFrame(same_rows, schema=ALIASES_SAME),
        pl.DataFrame(split_rows, schema=ALIASES_SPLIT),
    )


def unmatched_references(raw_dir: Path, records: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """Warnings for override and alias entries naming what no record has.

    ``records`` is the records table of the run (record_id, title, authors).
    An entry that matches nothing changes nothing: usually a typo, or a dump
    that was removed.
    """
    overrides, aliases = load_overrides(raw_dir), load_aliases(raw_dir)
    if not (overrides.merge or overrides.apart or aliases.same or aliases.split):
        return []
    # Narrow columns only: records may be a LazyFrame over the extraction cache.
    records = records.lazy().select("record_id", "title", "authors").collect()
    record_ids = set(records["record_id"].to_list())
    out: list[str] = []
    path = raw_dir / OVERRIDES
    if overrides.merge or overrides.apart:
        titles = set(records.select(title_key(pl.col("title")))["title"].drop_nulls().to_list())
        for kind, entries in (("merge", overrides.merge), ("apart", overrides.apart)):
            for i, entry in enumerate(entries):
                for n, rid in enumerate(entry.records):
                    if rid not in record_ids:
                        out.append(f"{path}: {kind}[{i + 1}].records[{n + 1}]: no dump has {rid!r}")
                for n, (key, title) in enumerate(
                    zip(_title_keys(entry.titles), entry.titles, strict=True)
                ):
                    if key not in titles:
                        where = f"{path}: {kind}[{i + 1}].titles[{n + 1}]"
                        out.append(f"{where}: no record is titled {title!r}")
    path = raw_dir / ALIASES
    if aliases.same or aliases.split:
        printed = (
            records.select("record_id", "authors")
            .explode("authors")
            .drop_nulls("authors")
            .with_columns(key=name_key(pl.col("authors")))
        )
        keys = set(printed["key"].to_list())
        on_record = set(printed.select("record_id", "key").iter_rows())
        for i, entry in enumerate(aliases.same):
            for n, name in enumerate(entry.names):
                if _name_key(name) not in keys:
                    out.append(f"{path}: same[{i + 1}].names[{n + 1}]: no record prints {name!r}")
        for i, entry in enumerate(aliases.split):
            key = _name_key(entry.name)
            for n, rid in enumerate(entry.records):
                where = f"{path}: split[{i + 1}] {entry.name!r}.records[{n + 1}]"
                if rid not in record_ids:
                    out.append(f"{where}: no dump has {rid!r}")
                elif (rid, key) not in on_record:
                    out.append(f"{where}: {rid!r} does not print {entry.name!r}")
    return out


def _name_key(name: str) -> str:
    return pl.select(name_key(pl.lit(name, dtype=pl.String))).item()
