"""Find the dumps in the raw folder and decide each one's capture date.

A dump holds no capture date, and a checkout's file times are checkout times,
so ``raw/manifest.toml`` records when each dump was copied:

    [capture_dates]
    "000_6f50fbf9dd3610f4.txt" = 2026-11-22

The date used is the run's ``--as-of`` if given, else the manifest's entry,
else the file's modification time (with a warning).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pipelines.errors import PaperlakeError

MANIFEST = "manifest.toml"
# Files in the raw folder that configure paperlake rather than hold dumps
# (topics.toml and arxiv_categories.csv replace the taxonomies in pipelines/data).
RESERVED = frozenset(
    {MANIFEST, "overrides.toml", "aliases.toml", "README.md", "topics.toml", "arxiv_categories.csv"}
)


@dataclass(frozen=True)
class DumpFile:
    path: Path
    source_file: str  # path relative to the raw folder, '/'-separated
    capture_date: date
    capture_date_origin: str  # "as-of", "manifest" or "file-mtime"


def discover_dumps(raw_dir: Path) -> list[Path]:
    """Every dump file under ``raw_dir``, sorted; hidden and reserved files skipped."""
    if not raw_dir.is_dir():
        raise PaperlakeError(f"raw folder {raw_dir} does not exist or is not a folder")
    found = []
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if len(rel.parts) == 1 and rel.name in RESERVED:
            continue
        found.append(path)
    return found


def read_manifest(raw_dir: Path) -> dict[str, date]:
    """The manifest's capture dates by file; empty when there is no manifest."""
    path = raw_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise PaperlakeError(f"{path}: not valid TOML: {err}") from None
    table = data.get("capture_dates", {})
    dates: dict[str, date] = {}
    for name, value in table.items():
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            raise PaperlakeError(
                f"{path}: capture date of {name!r} must be a date like 2026-11-22, got {value!r}"
            )
        dates[name] = value
    return dates


def resolve_dumps(raw_dir: Path, as_of: date | None) -> tuple[list[DumpFile], list[str]]:
    """The dumps with their capture dates, and warnings about how dates were chosen."""
    manifest = read_manifest(raw_dir)
    warnings: list[str] = []
    dumps: list[DumpFile] = []
    for path in discover_dumps(raw_dir):
        name = path.relative_to(raw_dir).as_posix()
        if as_of is not None:
            dumps.append(DumpFile(path, name, as_of, "as-of"))
        elif name in manifest:
            dumps.append(DumpFile(path, name, manifest[name], "manifest"))
        else:
            mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
            warnings.append(
                f"{name}: no capture date in {MANIFEST}; using the file time {mtime.isoformat()}"
            )
            dumps.append(DumpFile(path, name, mtime, "file-mtime"))
    listed = {d.source_file for d in dumps}
    for name in sorted(set(manifest) - listed):
        warnings.append(f"{MANIFEST}: lists {name!r}, which is not in {raw_dir}")
    return dumps, warnings
