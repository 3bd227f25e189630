"""Run settings in one typed place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def default_sql_dir() -> Path:
    """``sql/`` beside the package in a checkout, or the copy inside a wheel."""
    for candidate in (PACKAGE_DIR.parent / "sql", PACKAGE_DIR / "sql"):
        if candidate.is_dir():
            return candidate
    return PACKAGE_DIR.parent / "sql"


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

    @property
    def database_path(self) -> Path:
        return self.warehouse_dir / "paperlake.duckdb"

    @property
    def cache_dir(self) -> Path:
        """Per-dump extractions, keyed by content, capture date and parser version."""
        return self.warehouse_dir / "cache" / "extract"
