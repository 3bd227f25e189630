"""Run settings in one typed place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.errors import PaperlakeError

PACKAGE_DIR = Path(__file__).resolve().parent


def default_sql_dir() -> Path:
    """``sql/`` beside the package in a checkout, or the copy inside a wheel."""
    for candidate in (PACKAGE_DIR.parent / "sql", PACKAGE_DIR / "sql"):
        if candidate.is_dir():
            return candidate
    return PACKAGE_DIR.parent / "sql"


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds of paper matching: one typed place, documented in the README.

    A candidate pair's score is its title similarity (0..1) adjusted by the
    evidence around it; at or above ``merge`` the records become one paper,
    between ``review`` and ``merge`` the pair is listed for a human, below
    ``review`` they stay apart. Pairs below ``floor`` are not recorded.
    """

    floor: float = 0.80
    review: float = 0.88
    merge: float = 0.94
    # Bonus when the printed author lists share a person; malus when both lists
    # are printed and share nobody.
    shared_author_bonus: float = 0.04
    disjoint_authors_malus: float = 0.12
    # Dates further apart than this count against a match.
    max_date_gap_days: int = 400
    date_gap_malus: float = 0.08
    # When each title has words the other lacks and those words look less alike
    # than this, the titles name different things: at most "review".
    swapped_word_similarity: float = 0.75
    # Blocks (records sharing a blocking key) larger than this are compared
    # only through their other keys, so cost stays near-linear.
    max_block_size: int = 64


# Where a refresh parses changed dumps: threads of the flow process, or Dask workers.
TASK_RUNNERS = ("threads", "dask")


@dataclass(frozen=True)
class Settings:
    """What one refresh run reads, writes and assumes."""

    raw_dir: Path = Path("raw")
    warehouse_dir: Path = Path("warehouse")
    # Overrides every dump's capture date (resolves year-less dates).
    as_of: date | None = None
    # Exit non-zero when anything was quarantined.
    strict: bool = False
    sql_dir: Path = field(default_factory=default_sql_dir)
    # Published versions kept for `paperlake rollback` (the current one always is).
    keep_versions: int = 3
    # Wait for a refresh already running instead of exiting with a message.
    wait_for_lock: bool = False
    # Where extraction runs: "threads" of the flow process, or "dask" workers.
    task_runner: str = "threads"
    # The scheduler of a running Dask cluster (tcp://host:port); None: a local cluster.
    dask_address: str | None = None
    # Worker processes of the local Dask cluster; None: one per core.
    dask_workers: int | None = None
    # Read symbolic links that leave the raw folder or name folders (see pipelines.sources).
    follow_links: bool = False

    @property
    def database_path(self) -> Path:
        return self.warehouse_dir / "paperlake.duckdb"

    @property
    def cache_dir(self) -> Path:
        """Per-dump extractions, keyed by content, capture date and parser version."""
        from pipelines.store import cache_dir

        return cache_dir(self.warehouse_dir)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or under it (both resolved)."""
    return path == folder or path.is_relative_to(folder)


def check_layout(raw_dir: Path, warehouse_dir: Path) -> None:
    """Refuse a warehouse inside the raw folder, or a raw folder inside the warehouse.

    Either way one run's output would be read back as the next run's input.
    """
    raw, warehouse = raw_dir.resolve(), warehouse_dir.resolve()
    if inside(warehouse, raw):
        raise PaperlakeError(
            f"warehouse {warehouse_dir} is inside the raw folder {raw_dir}: its files would be "
            "read back as dumps; put the warehouse elsewhere"
        )
    if inside(raw, warehouse):
        raise PaperlakeError(
            f"raw folder {raw_dir} is inside the warehouse {warehouse_dir}; keep them apart"
        )
