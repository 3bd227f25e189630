"""The refresh stages as plain functions; ``flows.py`` runs them under Prefect.

extract (per batch of files) -> link -> load (Parquet) -> publish (DuckDB).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.config import MatchConfig
from pipelines.curation import read_aliases, read_overrides
from pipelines.extract import ExtractedDump, extract_dump
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES
from pipelines.load import write_tables
from pipelines.publish import publish
from pipelines.sources import DumpFile
from pipelines.taxonomy import Taxonomies, load_taxonomies
from pipelines.transform.glued import resplit_glued_titles
from pipelines.transform.link import build_papers
from pipelines.transform.network import author_network
from pipelines.transform.profiles import profile_owners
from pipelines.transform.topics import category_table, paper_topics, topic_table


@dataclass(frozen=True)
class LinkReport:
    """What linking did: compared pairs, decisions, weak splits, human overrides."""

    n_candidate_pairs: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    weak_splits: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    """What a refresh did, for the CLI and the flow's report."""

    sources: pl.DataFrame
    n_records: int = 0
    n_rejected_lines: int = 0
    n_papers: int = 0
    n_authors: int = 0
    n_views: int = 0
    link: LinkReport = field(default_factory=LinkReport)
    database_path: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_quarantined_files(self) -> int:
        return int(self.sources["format"].is_null().sum())

    @property
    def has_rejects(self) -> bool:
        return self.n_rejected_lines > 0 or self.n_quarantined_files > 0

    def by_format(self) -> pl.DataFrame:
        """Files, lines, records and rejected lines per format."""
        return (
            self.sources.with_columns(pl.col("format").fill_null("(quarantined)"))
            .group_by("format")
            .agg(
                files=pl.len(),
                lines=pl.col("n_lines").sum(),
                records=pl.col("n_records").sum(),
                rejected_lines=pl.col("n_rejected_lines").sum(),
                furniture_lines=pl.col("n_furniture_lines").sum(),
            )
            .sort("format")
        )


def extract_batch(dumps: list[DumpFile]) -> list[ExtractedDump]:
    """Extract a batch of dumps; a file that cannot be read is quarantined, not raised."""
    out = []
    for dump in dumps:
        try:
            data = dump.path.read_bytes()
        except OSError as err:
            data = b""
            note = f"{dump.source_file}: could not be read: {err.strerror or err}"
            extracted = extract_dump(
                data, dump.source_file, dump.capture_date, dump.capture_date_origin
            )
            extracted.notes.append(note)
            out.append(extracted)
            continue
        out.append(
            extract_dump(data, dump.source_file, dump.capture_date, dump.capture_date_origin)
        )
    return out


def batches(dumps: list[DumpFile], n_batches: int) -> list[list[DumpFile]]:
    """Split dumps into at most ``n_batches`` batches of similar total size."""
    n_batches = max(1, min(n_batches, len(dumps)))
    buckets: list[list[DumpFile]] = [[] for _ in range(n_batches)]
    sizes = [0] * n_batches
    # Largest first into the lightest bucket: a greedy, deterministic balance.
    for dump in sorted(dumps, key=lambda d: (-d.path.stat().st_size, d.source_file)):
        i = sizes.index(min(sizes))
        buckets[i].append(dump)
        sizes[i] += dump.path.stat().st_size
    return [b for b in buckets if b]


def combine(extracted: list[ExtractedDump]) -> dict[str, pl.DataFrame]:
    """Stack per-file results into the extraction tables."""

    def stack(frames: list[pl.DataFrame], schema: pl.Schema) -> pl.DataFrame:
        frames = [f for f in frames if f.height]
        return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)

    return {
        "sources": stack([e.source for e in extracted], SOURCES),
        "records": stack([e.records for e in extracted], RECORDS),
        "rejects": stack([e.rejects for e in extracted], REJECTS),
        "profiles": stack([e.profile for e in extracted], PROFILES),
    }


def link_tables(
    tables: dict[str, pl.DataFrame],
    raw_dir: Path,
    config: MatchConfig | None = None,
    taxonomies: Taxonomies | None = None,
) -> tuple[dict[str, pl.DataFrame], LinkReport]:
    """Add the linked tables (papers, authors, paper_authors, paper_sources,
    paper_matches, paper_field_sources), honouring raw/overrides.toml and
    raw/aliases.toml, and the analysis tables built on them (see
    ``analysis_tables``). ``taxonomies`` defaults to raw_dir's copies of the
    taxonomy files, else the shipped ones."""
    records = resplit_glued_titles(tables["records"])
    aliases = read_aliases(raw_dir)
    linked = build_papers(records, config, read_overrides(raw_dir), aliases)
    report = LinkReport(
        n_candidate_pairs=linked.n_candidate_pairs,
        decisions=dict(
            linked.paper_matches.group_by("decision").len().sort("decision").iter_rows()
        ),
        weak_splits=records.filter(pl.col("title_split").is_in(["fallback", "none"]))
        .select("record_id", "title")
        .rows(),
        notes=linked.notes,
    )
    linked_tables = {
        **tables,
        "records": records,
        "papers": linked.papers,
        "authors": linked.authors,
        "paper_authors": linked.paper_authors,
        "paper_sources": linked.paper_sources,
        "paper_matches": linked.paper_matches,
        "paper_field_sources": linked.paper_field_sources,
    }
    analysis = analysis_tables(
        linked_tables, taxonomies or load_taxonomies(raw_dir), same_names=aliases[0]
    )
    return {**linked_tables, **analysis}, report


def analysis_tables(
    tables: dict[str, pl.DataFrame],
    taxonomies: Taxonomies,
    same_names: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The tables the analysis views read: categories, topics, paper_topics,
    author_network (graph measures, computed once per refresh) and profile_owners.
    ``same_names`` are the aliases' (canonical, name) pairs, so an owner printed
    under an alias is found."""
    categories = category_table(tables["records"]["category"], taxonomies.categories)
    topics = topic_table(taxonomies.topics)
    return {
        "categories": categories,
        "topics": topics,
        "paper_topics": paper_topics(tables["papers"], categories, topics),
        "author_network": author_network(tables["authors"], tables["paper_authors"]),
        "profile_owners": profile_owners(tables["profiles"], tables["authors"], same_names),
    }


def load_and_publish(
    tables: dict[str, pl.DataFrame], warehouse_dir: Path, sql_dir: Path
) -> tuple[Path, int]:
    """Write the Parquet tables, then the DuckDB file. Returns (database path, views)."""
    written = write_tables(tables, warehouse_dir)
    database = warehouse_dir / "paperlake.duckdb"
    return database, publish(written, database, sql_dir)


class StageTimer:
    """Collects wall time per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, stage: str) -> _Timing:
        return _Timing(self, stage)


class _Timing:
    def __init__(self, timer: StageTimer, stage: str) -> None:
        self.timer, self.stage = timer, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timer.seconds[self.stage] = self.timer.seconds.get(self.stage, 0.0) + (
            time.perf_counter() - self.start
        )
