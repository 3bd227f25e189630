"""The linkage state a refresh keeps for the next one: what is kept, and when it is void.

One frame per kind of thing, all narrow (no abstracts): the next refresh
reads them (``pipelines.state_files.read_state``), applies what changed, and keeps
the result with the version it publishes (``write_state``), so the state
always matches the published tables, also after a rollback.

The state is void, and the next refresh links everything again, when
anything it was derived with differs (``context``): the linker, paperlake or
parser version, the match thresholds, the community settings, the overrides,
the aliases or the taxonomies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import polars as pl

from pipelines import __version__
from pipelines.extract.schema import PROFILES, SOURCES
from pipelines.transform.blocking import BLOCK_KEYS
from pipelines.transform.link import (
    AUTHORS,
    AUTHORSHIPS,
    FIELD_SOURCES,
    PAPER_AUTHORS,
    PAPER_ROWS,
)
from pipelines.transform.match import MATCHES
from pipelines.transform.network import NODES, PAIRS
from pipelines.transform.topics import PAPER_TOPICS

# Bump whenever linking's output for the same records changes (a rule, a key,
# a state column): a refresh then links everything again instead of reusing
# what the old linker kept.
LINKER_VERSION = "1"

# Per record: where it comes from, its (re-split) fields, its keys, its paper.
RECORDS = pl.Schema(
    {
        "record_id": pl.String,
        "source_file": pl.String,
        "record_index": pl.Int64,
        "cache_key": pl.String,
        "title": pl.String,
        "authors": pl.List(pl.String),
        "authors_truncated": pl.Boolean,
        "affiliations": pl.List(pl.String),
        "title_split": pl.String,
        "date_text": pl.String,
        "published_date": pl.Date,
        "category": pl.String,
        "has_code": pl.Boolean,
        "upvotes": pl.Int64,
        "author_count": pl.Int64,
        "abstract_len": pl.UInt32,
        **{key: pl.String for key in BLOCK_KEYS},
        "numbers": pl.String,
        "paper_id": pl.String,
    }
)
# Weakly split collapsed-page records as parsed, so their split can be redone
# when the known names change.
WEAK = pl.Schema(
    {
        "record_id": pl.String,
        "cache_key": pl.String,
        "title": pl.String,
        "authors": pl.List(pl.String),
        "authors_truncated": pl.Boolean,
        "affiliations": pl.List(pl.String),
        "title_split": pl.String,
        "line": pl.String,
    }
)
# Names printed by reliably split records, with how many records print them.
NAMES = pl.Schema({"name": pl.String, "n": pl.Int64})
DUMPS = pl.Schema({"cache_key": pl.String, "source_file": pl.String, "notes": pl.List(pl.String)})
DUMP_SOURCES = pl.Schema({"cache_key": pl.String, **SOURCES})
DUMP_PROFILES = pl.Schema({"cache_key": pl.String, **PROFILES})
PAPERS = pl.Schema({**PAPER_ROWS, "id_key": pl.String})
# Dumps the tables hold without a cache entry (files that could not be read):
# their sources and rejects rows came from the run, so the next run must know
# them to tell which rows it changes.
UNCACHED = pl.Schema({"source_file": pl.String})
CONTEXT = pl.Schema({"name": pl.String, "value": pl.String})


class StateUnreadable(Exception):
    """A frame of the kept state could not be read when a step needed it (the link is
    then done again from scratch)."""


@dataclass(frozen=True)
class StoredFrame:
    """A frame of the kept state not yet read: its file (``path``) in the published
    version, read by the step that first needs it (``LinkState.from_files``). Never
    part of a new state: the published version's files are not moved."""

    path: Path

    def read(self) -> pl.DataFrame:
        try:
            return pl.read_parquet(self.path)
        except (OSError, pl.exceptions.PolarsError) as err:
            raise StateUnreadable(f"{self.path}: {err}") from None


@dataclass(frozen=True)
class SpilledFrame:
    """A state frame already written to its state file (``path``) and let go: the
    link keeps no copy of a frame only the next run reads (``relink``'s ``spill``)."""

    path: Path


@dataclass(frozen=True)
class LinkState:
    """Everything linking keeps between runs (each a frame; see the schemas above).

    One read from its files (``from_files``) holds ``StoredFrame``s until a step
    reads them (``Update.old_frame``)."""

    context: pl.DataFrame  # CONTEXT
    dumps: pl.DataFrame  # DUMPS: one row per cached dump
    sources: pl.DataFrame  # DUMP_SOURCES
    profiles: pl.DataFrame  # DUMP_PROFILES
    records: pl.DataFrame  # RECORDS, by source_file and record_index
    weak: pl.DataFrame  # WEAK
    names: pl.DataFrame  # NAMES
    pairs: pl.DataFrame  # MATCHES: scored pairs a decision needs, before overrides
    papers: pl.DataFrame  # PAPERS (without abstracts)
    field_sources: pl.DataFrame  # FIELD_SOURCES
    authorships: pl.DataFrame | SpilledFrame  # AUTHORSHIPS
    paper_authors: pl.DataFrame  # PAPER_AUTHORS
    authors: pl.DataFrame  # AUTHORS
    coauthors: pl.DataFrame | SpilledFrame  # network PAIRS
    nodes: pl.DataFrame  # network NODES
    topics: pl.DataFrame  # PAPER_TOPICS
    uncached: pl.DataFrame  # UNCACHED

    @classmethod
    def empty(cls) -> LinkState:
        return cls(**{f.name: pl.DataFrame(schema=SCHEMAS[f.name]) for f in fields(cls)})

    def frames(self) -> dict[str, pl.DataFrame | SpilledFrame]:
        """The frames by their state name (``link_<field>``), for ``state_files.write_state``
        (a spilled one for ``state_files.keep_state_file``)."""
        return {f"link_{f.name}": getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_files(cls, path_of: Callable[[str], Path | None]) -> LinkState | None:
        """The state kept in the files ``path_of(name)``, each frame a ``StoredFrame``
        (the KEY_FRAMES read), so a link holds an old frame only from the step that
        needs it to the one that lets it go. None when a file is missing or its
        schema (from the file's footer) is not the frame's."""
        frames: dict[str, pl.DataFrame | StoredFrame] = {}
        for f in fields(cls):
            path = path_of(f"link_{f.name}")
            try:
                if path is None or pl.read_parquet_schema(path) != SCHEMAS[f.name]:
                    return None
                frames[f.name] = (
                    pl.read_parquet(path) if f.name in KEY_FRAMES else StoredFrame(path)
                )
            except (OSError, pl.exceptions.PolarsError):
                return None
        return cls(**frames)


def read_frame(read, name: str) -> pl.DataFrame | None:
    """The state's frame ``name`` (a ``LinkState`` field) from ``read(name)``, or None when
    it is missing or not of its schema: for reading one small frame, not the state."""
    frame = read(f"link_{name}")
    return frame if frame is not None and frame.schema == SCHEMAS[name] else None


# The small frames that say what a state was derived from: read whole to
# compare, without the rest of the state.
KEY_FRAMES = ("context", "dumps", "uncached")


def read_key_frames(read) -> dict[str, pl.DataFrame] | None:
    """The state's KEY_FRAMES by name from ``read(name)``, or None when any is missing."""
    frames = {name: read_frame(read, name) for name in KEY_FRAMES}
    return None if any(frame is None for frame in frames.values()) else frames


SCHEMAS = {
    "context": CONTEXT,
    "dumps": DUMPS,
    "sources": DUMP_SOURCES,
    "profiles": DUMP_PROFILES,
    "records": RECORDS,
    "weak": WEAK,
    "names": NAMES,
    "pairs": MATCHES,
    "papers": PAPERS,
    "field_sources": FIELD_SOURCES,
    "authorships": AUTHORSHIPS,
    "paper_authors": PAPER_AUTHORS,
    "authors": AUTHORS,
    "coauthors": PAIRS,
    "nodes": NODES,
    "topics": PAPER_TOPICS,
    "uncached": UNCACHED,
}


def _digest(frame: pl.DataFrame | None) -> str:
    rows = [] if frame is None else frame.rows()
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:16]


def context(
    config,
    params,
    parser_version: str,
    overrides: pl.DataFrame | None,
    aliases: tuple[pl.DataFrame, pl.DataFrame],
    taxonomies,
) -> pl.DataFrame:
    """What the state was derived with; a refresh reuses it only when all are equal."""
    values = {
        "linker_version": LINKER_VERSION,
        "paperlake_version": __version__,
        "parser_version": parser_version,
        "match_config": json.dumps(asdict(config), sort_keys=True),
        "community_params": json.dumps(asdict(params), sort_keys=True),
        "overrides": _digest(overrides),
        "aliases": _digest(aliases[0]) + _digest(aliases[1]),
        "taxonomies": "none"
        if taxonomies is None
        else _digest(taxonomies.categories) + _digest(taxonomies.topics),
    }
    return pl.DataFrame({"name": list(values), "value": list(values.values())}, schema=CONTEXT)


def context_changes(old: pl.DataFrame, new: pl.DataFrame) -> list[str]:
    """The names of the context entries that differ between two runs."""
    before, after = dict(old.iter_rows()), dict(new.iter_rows())
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
