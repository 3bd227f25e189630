"""The refresh stages as plain functions; ``flows.py`` runs them under Prefect.

plan -> extract -> collect (``pipelines.extraction``: only the dumps not
cached are parsed, each chunk cached as it is parsed) -> compare
(``unchanged_summary``: when the published version already holds these
dumps, the run stops here with its report) -> link (``pipelines.linking``:
from the published version's linkage state) -> stage (``pipelines.staging``:
Parquet, DuckDB, data tests and the next linkage state in a staging folder)
-> promote (rename into place) -> clean-up (prune old versions and cache
entries).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import delta, publish, store
from pipelines.curation import unmatched_references
from pipelines.extract.schema import REJECTS

# The extract stage lives in pipelines.extraction; the entry points callers use
# stay importable from here, as the link's and the stage step's do.
from pipelines.extraction import (  # noqa: F401
    PARSED,
    REUSED,
    Collected,
    PlannedDump,
    batches,
    collect_extractions,
    combine,
    extract_batch,
    plan_extraction,
)

# The link stage lives in pipelines.linking; its entry points stay importable from here.
from pipelines.linking import (  # noqa: F401
    CacheSource,
    collect_tables,
    link_tables,
    link_warehouse,
    unchanged_link,
)
from pipelines.load import write_tables

# The stage step lives in pipelines.staging; its entry points stay importable from here.
from pipelines.staging import (  # noqa: F401
    StagedVersion,
    build_info,
    stage_version,
    unchanged_version,
)
from pipelines.taxonomy import Taxonomies
from pipelines.transform.linkage import LinkReport


@dataclass
class RunSummary:
    """What a refresh did, for the CLI and the flow's report."""

    sources: pl.DataFrame
    n_records: int = 0
    n_rejected_lines: int = 0
    n_papers: int = 0
    n_authors: int = 0
    n_views: int = 0
    database_path: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Quarantined line runs: source_file, line_start, line_end, reason, raw_text.
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTS))
    # Papers linked from more than one record: paper_id, title, n_records, sources.
    merges: pl.DataFrame = field(default_factory=pl.DataFrame)
    # Records kept with a flag (is_cut, is_future_date): their ids, lines, title, date.
    flagged: pl.DataFrame = field(default_factory=pl.DataFrame)
    extraction: dict[str, str] = field(default_factory=dict)  # source_file -> parsed/reused
    version: str | None = None  # the version published after this run
    previous_version: str | None = None
    published: bool = False  # False: nothing changed, the current version stays
    recovered: list[str] = field(default_factory=list)
    link: LinkReport = field(default_factory=LinkReport)
    extract_runner: str = "threads"  # where changed dumps were parsed: threads, dask ...
    extract_batches: int = 0
    extract_processes: list[str] = field(default_factory=list)  # host:pid that parsed
    # Override and alias entries naming what no record has (they fail --strict).
    config_warnings: list[str] = field(default_factory=list)
    # Which Prefect API the run reported to, and what its start-up cost.
    prefect_server: str | None = None

    @property
    def n_quarantined_files(self) -> int:
        return int(self.sources["format"].is_null().sum())

    @property
    def has_rejects(self) -> bool:
        return self.n_rejected_lines > 0 or self.n_quarantined_files > 0

    @property
    def n_parsed(self) -> int:
        return sum(1 for how in self.extraction.values() if how == PARSED)

    @property
    def n_reused(self) -> int:
        return sum(1 for how in self.extraction.values() if how == REUSED)

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


Tables = dict[str, pl.DataFrame | pl.LazyFrame]


def load_and_publish(tables: Tables, warehouse_dir: Path, sql_dir: Path) -> tuple[Path, int]:
    """Write the tables as Delta tables under ``warehouse_dir/tables`` and the DuckDB
    file as ``warehouse_dir/paperlake.duckdb``, committed at once.

    No versions, lock, cache or rollback: for benchmarks and scratch warehouses.
    The flow publishes through ``write_version``, ``publish_version`` and
    ``store.promote`` instead.
    Returns (database, views).
    """
    root = store.tables_dir(warehouse_dir)
    written = write_tables(tables, root)
    for name, files in written.items():
        delta.follow(root / name, files, "scratch warehouse")
    database = warehouse_dir / store.DATABASE
    report = publish.build_database(written, root, database, sql_dir)
    return database, report.n_views


def table_counts(tables: Tables) -> dict[str, int]:
    """Rows per table (a LazyFrame is counted, not collected)."""
    return {
        name: frame.select(pl.len()).collect().item()
        if isinstance(frame, pl.LazyFrame)
        else frame.height
        for name, frame in sorted(tables.items())
    }


def summarize(
    tables: Tables,
    extraction: dict[str, str],
    notes: list[str],
    counts: dict[str, int] | None = None,
    papers: pl.DataFrame | None = None,
) -> RunSummary:
    """The run's figures from its tables (publishing fields are filled in by the flow).

    ``papers`` (paper_id, title, n_records) saves reading a lazy papers table;
    ``counts`` (rows per table) counting them.
    """
    counts = counts or table_counts(tables)
    papers = tables["papers"] if papers is None else papers
    merged = (
        papers.lazy()
        .filter(pl.col("n_records") > 1)
        .select("paper_id", "title", "n_records")
        .collect()
    )
    sources_of = (
        tables["paper_sources"]
        .lazy()
        .filter(pl.col("paper_id").is_in(merged["paper_id"].implode()))
        .group_by("paper_id")
        .agg(sources=pl.col("source_file").unique().sort().str.join(", "))
        .collect()
    )
    merges = merged.join(sources_of, on="paper_id", how="left").sort(
        "n_records", "paper_id", descending=[True, False]
    )
    rejects = tables["rejects"]
    return RunSummary(
        sources=tables["sources"],
        n_records=counts["records"],
        n_rejected_lines=int(tables["sources"]["n_rejected_lines"].sum()),
        n_papers=counts["papers"],
        n_authors=counts["authors"],
        rejects=rejects.collect() if isinstance(rejects, pl.LazyFrame) else rejects,
        merges=merges,
        flagged=tables["records"]
        .lazy()
        .filter(pl.col("is_cut") | pl.col("is_future_date"))
        .select(
            "source_file",
            "line_start",
            "line_end",
            "title",
            "date_text",
            "is_cut",
            "is_future_date",
        )
        .collect(),
        extraction=extraction,
        warnings=notes,
    )


def unchanged_summary(
    plan: list[PlannedDump],
    collected: Collected,
    warehouse_dir: Path,
    raw_dir: Path,
    sql_dir: Path,
    notes: list[str],
    taxonomies: Taxonomies | None = None,
) -> RunSummary | None:
    """The summary of a run that links and publishes nothing, read from the published
    version, when that version already is what linking and staging these dumps would
    give; None when they must be linked.

    The no-change shortcut's guarantees (``staging._same_as_published``), known
    before linking: the published version was built from the same dumps (cache
    keys), SQL, code version and layout (``staging.unchanged_version``), and
    linking them from its state would change no row (``linking.unchanged_link``).
    """
    published = unchanged_version(warehouse_dir, plan, collected.entries, sql_dir)
    if published is None or not isinstance(published[1].get("tables"), dict):
        return None
    tables = {
        name: pl.scan_parquet([str(f) for f in table.files])
        for name, table in store.published_tables(warehouse_dir).items()
    }
    kept = unchanged_link(collected, warehouse_dir, raw_dir, published, tables, taxonomies)
    if kept is None:
        return None
    link, extraction_notes = kept
    version, record = published
    sources = tables["sources"].sort("source_file").collect()
    summary = summarize(
        {**tables, "sources": sources}, collected.how, notes + extraction_notes, record["tables"]
    )
    summary.link = link
    summary.version = summary.previous_version = version
    summary.n_views = int(record.get("n_views", 0))
    summary.config_warnings = unmatched_references(raw_dir, tables["records"])
    return summary


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
