"""Extract one dump: decode, detect its format, parse, account for every line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines.extract.assemble import REJECT, finish
from pipelines.extract.registry import detect_format, get_format
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES, conform
from pipelines.extract.text import decode_dump, split_lines


@dataclass(frozen=True)
class ExtractedDump:
    """Everything one input file yields."""

    source: pl.DataFrame  # one row, schema SOURCES
    records: pl.DataFrame
    rejects: pl.DataFrame
    profile: pl.DataFrame  # zero or one row
    notes: list[str] = field(default_factory=list)

    @property
    def accounted_lines(self) -> int:
        """Lines in record spans + quarantined lines + furniture lines."""
        spans = int((self.records["line_end"] - self.records["line_start"] + 1).sum())
        rejected = int(self.source["n_rejected_lines"].item())
        furniture = int(self.source["n_furniture_lines"].item())
        return spans + rejected + furniture


def _whole_file_reject(
    source_file: str, n_lines: int, reason: str, raw: str | None
) -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            [
                {
                    "source_file": source_file,
                    "line_start": 1 if n_lines else None,
                    "line_end": n_lines if n_lines else None,
                    "reason": reason,
                    "raw_text": raw,
                }
            ]
        ),
        REJECTS,
    )


def extract_text(
    text: str,
    source_file: str,
    capture_date: date,
    *,
    format_name: str | None = None,
) -> tuple[str | None, str, pl.DataFrame, pl.DataFrame, int, pl.DataFrame, int]:
    """Parse decoded text. Returns (format, reason, records, rejects, furniture, profile, n_lines).

    ``format_name`` skips detection. An unrecognised text is rejected whole.
    """
    lines = split_lines(text)
    n_lines = lines.height
    if n_lines == 0 or not text.strip():
        rejects = _whole_file_reject(source_file, n_lines, "empty file", text or None)
        return None, "empty", _empty(RECORDS), rejects, 0, _empty(PROFILES), n_lines
    if format_name is None:
        detection = detect_format(lines)
        format_name, reason = detection.format, detection.reason
        if format_name is None:
            rejects = _whole_file_reject(
                source_file, n_lines, f"unrecognised format: {reason}", text
            )
            return None, reason, _empty(RECORDS), rejects, 0, _empty(PROFILES), n_lines
    else:
        reason = "format given"
    parsed = get_format(format_name).parse(lines)
    records, rejects, furniture, profile = finish(parsed, source_file, format_name, capture_date)
    return format_name, reason, records, rejects, furniture, profile, n_lines


def _empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def extract_dump(
    data: bytes,
    source_file: str,
    capture_date: date,
    capture_date_origin: str,
) -> ExtractedDump:
    """Extract one dump's bytes. Never raises on bad input: it quarantines it."""
    notes: list[str] = []
    decoded = decode_dump(data)
    if decoded.note:
        notes.append(f"{source_file}: {decoded.note}")
    if decoded.is_binary:
        n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        fmt, reason = None, "binary"
        records, profile, furniture = _empty(RECORDS), _empty(PROFILES), 0
        rejects = _whole_file_reject(
            source_file, n_lines, "binary file (NUL or control bytes)", None
        )
    else:
        try:
            fmt, reason, records, rejects, furniture, profile, n_lines = extract_text(
                decoded.text, source_file, capture_date
            )
        except Exception as err:  # a parser bug must not stop the run
            n_lines = split_lines(decoded.text).height
            fmt, reason = None, f"parser failed: {type(err).__name__}: {err}"
            records, profile, furniture = _empty(RECORDS), _empty(PROFILES), 0
            rejects = _whole_file_reject(source_file, n_lines, reason, decoded.text)
    n_rejected = int((rejects["line_end"] - rejects["line_start"] + 1).fill_null(0).sum())
    if fmt is None:
        notes.append(f"{source_file}: quarantined whole ({rejects['reason'][0]})")
    source = conform(
        pl.DataFrame(
            [
                {
                    "source_file": source_file,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "format": fmt,
                    "capture_date": capture_date,
                    "capture_date_origin": capture_date_origin,
                    "n_lines": n_lines,
                    "n_records": records.height,
                    "n_rejected_lines": n_rejected,
                    "n_furniture_lines": furniture,
                    "n_record_lines": int((records["line_end"] - records["line_start"] + 1).sum()),
                    "encoding": decoded.encoding,
                    "format_reason": reason,
                    "notes": decoded.note,
                }
            ]
        ),
        SOURCES,
    )
    return ExtractedDump(source, records, rejects, profile, notes)


__all__ = ["REJECT", "ExtractedDump", "extract_dump", "extract_text"]
