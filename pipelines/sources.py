"""Find the dumps in the raw folder and decide each one's capture date.

What a raw folder can make paperlake read (see README, "Security model"):

- regular files under it, in sub-folders too, except hidden entries (a name
  starting with ".") and the configuration files at its top;
- through a symbolic link, a regular file that is itself inside the raw
  folder. A link that leaves the raw folder, or that names a folder, is not
  followed unless the run asks for it (``refresh --follow-links``);
- nothing else: a FIFO, socket or device, a link loop or a dangling link, and
  a file or folder that cannot be read are never opened (so never hung on)
  and are listed with the reason, as ``SkippedEntry``. A refresh records each
  in the ``sources`` table (format null) and in its report.

A name that is not valid UTF-8 is read all the same and listed with its bytes
escaped (``caf\\xe9.txt``).

A dump holds no capture date, and a checkout's file times are checkout times,
so ``raw/manifest.toml`` records when each dump was copied:

    [capture_dates]
    "000_6f50fbf9dd3610f4.txt" = 2026-11-22

The date used is the run's ``--as-of`` if given, else the manifest's entry,
else the file's modification time (with a warning).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, Strict

from pipelines.config import inside
from pipelines.configfiles import ConfigModel, load_model
from pipelines.errors import PaperlakeError
from pipelines.files import kind_of, open_regular

MANIFEST = "manifest.toml"
# Files in the raw folder that configure paperlake rather than hold dumps
# (topics.toml and arxiv_categories.csv replace the taxonomies in pipelines/data).
RESERVED = frozenset(
    {MANIFEST, "overrides.toml", "aliases.toml", "README.md", "topics.toml", "arxiv_categories.csv"}
)
FOLLOW_HINT = "refresh --follow-links follows it"


@dataclass(frozen=True)
class DumpFile:
    path: Path
    source_file: str  # path relative to the raw folder, '/'-separated
    capture_date: date
    capture_date_origin: str  # "as-of", "manifest" or "file-mtime"


@dataclass(frozen=True)
class SkippedEntry:
    """An entry under the raw folder that is not read, and why."""

    source_file: str  # relative, '/'-separated; a folder's name ends with '/'
    reason: str


@dataclass(frozen=True)
class RawScan:
    """What a raw folder holds: dumps to read (path, name) and entries not read."""

    dumps: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 escaped (``\\xe9``)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def _link_problem(path: Path, root: Path, follow_links: bool) -> tuple[str | None, os.stat_result]:
    """Why the symbolic link at ``path`` is not followed (None: follow it), and its target's
    stat (the link's own when it leads nowhere)."""
    target = printable(os.readlink(path))
    try:
        st = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link loop: not read", os.lstat(path)
        if err.errno == errno.ENOENT:
            return f"a dangling symbolic link (to {target}): not read", os.lstat(path)
        return f"a symbolic link that cannot be followed: {err.strerror}", os.lstat(path)
    if not follow_links:
        if not inside(path.resolve(), root):
            return (
                f"a symbolic link to {printable(str(path.resolve()))}, outside the raw folder: "
                f"not followed ({FOLLOW_HINT})",
                st,
            )
        if stat.S_ISDIR(st.st_mode):
            return f"a symbolic link to a folder: not followed ({FOLLOW_HINT})", st
    return None, st


def scan_raw(raw_dir: Path, follow_links: bool = False) -> RawScan:
    """Every dump under ``raw_dir`` and every entry that will not be read, both sorted.

    Opens (and closes) each file once, so a file that cannot be read is
    known here; never opens anything but a regular file.
    """
    if not raw_dir.is_dir():
        raise PaperlakeError(f"raw folder {raw_dir} does not exist or is not a folder")
    root = raw_dir.resolve()
    scan = RawScan()
    seen_folders = {(os.stat(raw_dir).st_dev, os.stat(raw_dir).st_ino)}
    pending: list[tuple[Path, tuple[str, ...]]] = [(raw_dir, ())]
    while pending:
        folder, parts = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as err:
            name = "/".join(parts) + "/"
            scan.skipped.append(SkippedEntry(name, f"folder cannot be read: {err.strerror}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if not parts and entry.name in RESERVED:
                continue
            shown = printable(entry.name)
            rel = (*parts, shown)
            name = "/".join(rel)
            if shown != entry.name:
                scan.notes.append(
                    f"{name}: the file name is not valid UTF-8; listed with those bytes escaped"
                )
            path = Path(entry.path)
            try:
                st = entry.stat(follow_symlinks=False)
                problem = None
                if stat.S_ISLNK(st.st_mode):
                    problem, st = _link_problem(path, root, follow_links)
            except OSError as err:
                problem = f"cannot be inspected: {err.strerror}"
            if problem is None and stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) in seen_folders:
                    problem = "a link to a folder already read: not read twice"
                else:
                    seen_folders.add((st.st_dev, st.st_ino))
                    pending.append((path, rel))
                    continue
            if problem is None and kind_of(st.st_mode):
                problem = f"{kind_of(st.st_mode)}, not a file: not read"
            if problem is None:
                try:
                    os.close(open_regular(path))
                except OSError as err:
                    problem = f"cannot be read: {err.strerror or err}"
            if problem is None:
                scan.dumps.append((path, name))
            else:
                scan.skipped.append(SkippedEntry(name, problem))
    scan.dumps.sort(key=lambda d: d[1])
    scan.skipped.sort(key=lambda s: s.source_file)
    return scan


def discover_dumps(raw_dir: Path) -> list[Path]:
    """Every dump file under ``raw_dir``, sorted by name; see ``scan_raw`` for what is not."""
    return [path for path, _ in scan_raw(raw_dir).dumps]


def _to_date(value: object) -> object:
    # TOML has dates and date-times; a date-time's day is its capture date.
    return value.date() if isinstance(value, datetime) else value


CaptureDate = Annotated[date, BeforeValidator(_to_date), Strict()]


class Manifest(ConfigModel):
    """raw/manifest.toml: when each dump was copied from its page."""

    capture_dates: dict[str, CaptureDate] = Field(default_factory=dict)


def read_manifest(raw_dir: Path) -> dict[str, date]:
    """The manifest's capture dates by file; empty when there is no manifest."""
    manifest = load_model(Manifest, raw_dir / MANIFEST)
    return dict(manifest.capture_dates) if manifest else {}


@dataclass(frozen=True)
class RawInputs:
    """A run's dumps with their capture dates, the entries not read, and warnings."""

    dumps: list[DumpFile]
    skipped: list[SkippedEntry]
    warnings: list[str]


def resolve_raw(raw_dir: Path, as_of: date | None, follow_links: bool = False) -> RawInputs:
    """Scan the raw folder and give each dump its capture date."""
    manifest = read_manifest(raw_dir)
    scan = scan_raw(raw_dir, follow_links)
    warnings = list(scan.notes)
    dumps: list[DumpFile] = []
    for path, name in scan.dumps:
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
    listed = {d.source_file for d in dumps} | {s.source_file for s in scan.skipped}
    for name in sorted(set(manifest) - listed):
        warnings.append(f"{MANIFEST}: lists {name!r}, which is not in {raw_dir}")
    return RawInputs(dumps, scan.skipped, warnings)


def resolve_dumps(
    raw_dir: Path, as_of: date | None, follow_links: bool = False
) -> tuple[list[DumpFile], list[str]]:
    """The dumps with their capture dates, and warnings (entries not read among them)."""
    found = resolve_raw(raw_dir, as_of, follow_links)
    skipped = [f"{s.source_file}: {s.reason}" for s in found.skipped]
    return found.dumps, found.warnings + skipped


def unread_extraction(entry: SkippedEntry, capture: DumpFile | None = None):
    """What a refresh records for an entry it did not read: a ``sources`` row (format
    null, ``format_reason`` the reason), a whole-file ``rejects`` row with the same
    reason and no text. ``capture`` gives the dump's capture date when
    it was found as a dump but then could not be read."""
    import polars as pl

    from pipelines.extract import ExtractedDump
    from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES, conform

    source = conform(
        pl.DataFrame(
            [
                {
                    "source_file": entry.source_file,
                    "capture_date": capture.capture_date if capture else None,
                    "capture_date_origin": capture.capture_date_origin if capture else None,
                    "n_lines": 0,
                    "n_records": 0,
                    "n_rejected_lines": 0,
                    "n_furniture_lines": 0,
                    "n_record_lines": 0,
                    "format_reason": entry.reason,
                    "notes": entry.reason,
                }
            ]
        ),
        SOURCES,
    )
    rejects = conform(
        pl.DataFrame([{"source_file": entry.source_file, "reason": entry.reason}]), REJECTS
    )
    return ExtractedDump(
        source,
        pl.DataFrame(schema=RECORDS),
        rejects,
        pl.DataFrame(schema=PROFILES),
        [],  # the report lists it under "Not read"
    )
