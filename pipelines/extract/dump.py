"""Extract dumps: decode, detect each one's format, parse, account for every line.

Dumps are extracted in batches: the lines of every file in a batch form one
table, detection and each parser run once over it, and the results are cut
back into one ``ExtractedDump`` per file. A parser that fails on a batch is
run again file by file, so one bad file cannot take its neighbours with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from pipelines.extract.assemble import REJECT, finish
from pipelines.extract.registry import detect_formats, get_format
from pipelines.extract.schema import PROFILES, RECORDS, REJECTS, SOURCES, conform
from pipelines.extract.text import DecodedText, decode_dump, split_texts


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
        """Lines of records + quarantined lines + furniture lines, from the tables themselves.

        A line quarantined alone inside a record's span counts once, in the quarantine.
        """
        spans = int((self.records["line_end"] - self.records["line_start"] + 1).sum())
        rejected = int((self.rejects["line_end"] - self.rejects["line_start"] + 1).sum())
        furniture = int(self.source["n_furniture_lines"].item())
        return spans - nested_reject_lines(self.records, self.rejects) + rejected + furniture


def nested_reject_lines(records: pl.DataFrame, rejects: pl.DataFrame) -> int:
    """Quarantined lines that lie inside a record's span (a stray line where a field belongs)."""
    if records.is_empty() or rejects.is_empty():
        return 0
    inside = rejects.drop_nulls("line_start").join_where(
        records.select("source_file", rec_start="line_start", rec_end="line_end"),
        pl.col("source_file") == pl.col("source_file_right"),
        pl.col("line_start") >= pl.col("rec_start"),
        pl.col("line_end") <= pl.col("rec_end"),
    )
    return int((inside["line_end"] - inside["line_start"] + 1).sum())


@dataclass(frozen=True)
class DumpBytes:
    """One dump to extract: its bytes and where they came from."""

    data: bytes
    source_file: str
    capture_date: date
    capture_date_origin: str


@dataclass
class ParsedText:
    """What parsing one decoded text gave (one file's share of a batch's parse)."""

    format: str | None
    reason: str
    n_lines: int
    records: pl.DataFrame
    rejects: pl.DataFrame
    furniture: int
    profile: pl.DataFrame
    record_lines: int = 0
    notes: list[str] = field(default_factory=list)  # what parsing noted, "<file> line N: ..."


def _empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


# Shared by every file that has no records, rejects or profile (frames are immutable).
_NO_RECORDS, _NO_REJECTS, _NO_PROFILE = _empty(RECORDS), _empty(REJECTS), _empty(PROFILES)


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


def _rejected_whole(source_file: str, n_lines: int, reason: str, raw: str | None) -> ParsedText:
    rejects = _whole_file_reject(source_file, n_lines, reason, raw)
    return ParsedText(None, reason, n_lines, _NO_RECORDS, rejects, 0, _NO_PROFILE)


@dataclass(frozen=True)
class _FileResult:
    """One file's share of a batch's parse."""

    records: pl.DataFrame
    rejects: pl.DataFrame
    furniture: int
    record_lines: int
    profile: pl.DataFrame
    notes: list[str]


def _split_by_file(frame: pl.DataFrame, schema: pl.Schema) -> dict[int, pl.DataFrame]:
    parts = frame.partition_by("file", as_dict=True, include_key=False, maintain_order=True)
    return {key[0]: part.select(list(schema)) for key, part in parts.items()}


def _parse_format(
    format_name: str,
    lines: pl.DataFrame,
    files: pl.DataFrame,
) -> dict[int, _FileResult]:
    """Parse the lines of the files of one format; results by file index."""
    done = finish(get_format(format_name).parse(lines), files)
    by_records = _split_by_file(done.records, RECORDS)
    by_rejects = _split_by_file(done.rejects, REJECTS)
    by_profile = _split_by_file(done.profiles, PROFILES)
    counts = {f: (n_f, n_r) for f, n_f, n_r in done.counts.iter_rows()}
    notes: dict[int, list[str]] = {}
    for f, note in done.notes.iter_rows():
        notes.setdefault(f, []).append(note)
    return {
        f: _FileResult(
            by_records.get(f, _NO_RECORDS),
            by_rejects.get(f, _NO_REJECTS),
            int(counts.get(f, (0, 0))[0]),
            int(counts.get(f, (0, 0))[1]),
            by_profile.get(f, _NO_PROFILE),
            notes.get(f, []),
        )
        for f in files["file"]
    }


def parse_texts(
    texts: list[str],
    source_files: list[str],
    capture_dates: list[date],
    *,
    format_name: str | None = None,
) -> list[ParsedText]:
    """Parse decoded texts in one batch: detect formats, run each parser once.

    ``format_name`` skips detection. An empty or unrecognised text is rejected whole.
    """
    lines = split_texts(texts)
    n_lines = dict(lines.group_by("file").agg(pl.len()).iter_rows())
    out: dict[int, ParsedText] = {}
    blank = {i for i, text in enumerate(texts) if not text.strip()}
    for i in blank:
        out[i] = _rejected_whole(source_files[i], n_lines.get(i, 0), "empty file", texts[i] or None)
        out[i].reason = "empty"
    lines = lines.filter(~pl.col("file").is_in(sorted(blank)))

    if format_name is None:
        detected = detect_formats(lines)
        chosen = {i: (d.format, d.reason) for i, d in detected.items()}
    else:
        chosen = {i: (format_name, "format given") for i in range(len(texts)) if i not in blank}
    for i, (fmt, reason) in chosen.items():
        if fmt is None:
            out[i] = _rejected_whole(
                source_files[i], n_lines[i], f"unrecognised format: {reason}", texts[i]
            )
            out[i].reason = reason

    by_format: dict[str, list[int]] = {}
    for i, (fmt, _) in sorted(chosen.items()):
        if fmt is not None:
            by_format.setdefault(fmt, []).append(i)
    for fmt, indexes in sorted(by_format.items()):
        files = pl.DataFrame(
            {
                "file": indexes,
                "source_file": [source_files[i] for i in indexes],
                "format": [fmt] * len(indexes),
                "capture_date": [capture_dates[i] for i in indexes],
            },
            schema={
                "file": pl.Int64,
                "source_file": pl.String,
                "format": pl.String,
                "capture_date": pl.Date,
            },
        )
        try:
            results = _parse_format(fmt, lines.filter(pl.col("file").is_in(indexes)), files)
        except Exception:
            # Find the file the parser fails on: parse them one by one.
            results = {}
            for i in indexes:
                try:
                    results |= _parse_format(
                        fmt, lines.filter(pl.col("file") == i), files.filter(pl.col("file") == i)
                    )
                except Exception as err:  # a parser bug must not stop the run
                    why = f"parser failed: {type(err).__name__}: {err}"
                    out[i] = _rejected_whole(source_files[i], n_lines[i], why, texts[i])
        for i, r in results.items():
            out[i] = ParsedText(
                fmt,
                chosen[i][1],
                n_lines[i],
                r.records,
                r.rejects,
                r.furniture,
                r.profile,
                r.record_lines,
                r.notes,
            )
    return [out[i] for i in range(len(texts))]


def extract_text(
    text: str,
    source_file: str,
    capture_date: date,
    *,
    format_name: str | None = None,
) -> ParsedText:
    """Parse one decoded text. ``format_name`` skips detection; an unrecognised text is
    rejected whole."""
    return parse_texts([text], [source_file], [capture_date], format_name=format_name)[0]


def _source_row(
    dump: DumpBytes, decoded: DecodedText, parsed: ParsedText, notes: list[str]
) -> ExtractedDump:
    rejects = parsed.rejects
    n_rejected = int((rejects["line_end"] - rejects["line_start"] + 1).fill_null(0).sum())
    if parsed.format is None:
        notes.append(f"{dump.source_file}: quarantined whole ({rejects['reason'][0]})")
    notes.extend(parsed.notes)
    records = parsed.records
    # What reading and parsing noted about the file, for the sources table.
    source_notes = [decoded.note] if decoded.note else []
    source_notes += [n.removeprefix(dump.source_file).lstrip(": ") for n in parsed.notes]
    source = conform(
        pl.DataFrame(
            [
                {
                    "source_file": dump.source_file,
                    "sha256": hashlib.sha256(dump.data).hexdigest(),
                    "format": parsed.format,
                    "capture_date": dump.capture_date,
                    "capture_date_origin": dump.capture_date_origin,
                    "n_lines": parsed.n_lines,
                    "n_records": records.height,
                    "n_rejected_lines": n_rejected,
                    "n_furniture_lines": parsed.furniture,
                    "n_record_lines": parsed.record_lines,
                    "encoding": decoded.encoding,
                    "format_reason": parsed.reason,
                    "notes": "; ".join(source_notes) or None,
                }
            ]
        ),
        SOURCES,
    )
    return ExtractedDump(source, records, rejects, parsed.profile, notes)


def extract_dumps(dumps: list[DumpBytes]) -> list[ExtractedDump]:
    """Extract a batch of dumps, in order. Never raises on bad input: it quarantines it."""
    decoded = [decode_dump(d.data) for d in dumps]
    texts = [d.text for d in decoded]
    try:
        parsed = parse_texts(texts, [d.source_file for d in dumps], [d.capture_date for d in dumps])
    except Exception as err:  # a bug outside any one parser: quarantine the batch's files
        why = f"parser failed: {type(err).__name__}: {err}"
        parsed = [
            _rejected_whole(d.source_file, len(split_texts([t])), why, t)
            for d, t in zip(dumps, texts, strict=True)
        ]
    out = []
    for dump, text, p in zip(dumps, decoded, parsed, strict=True):
        notes = [f"{dump.source_file}: {text.note}"] if text.note else []
        if text.is_binary:
            n_lines = dump.data.count(b"\n") + (
                0 if dump.data.endswith(b"\n") or not dump.data else 1
            )
            p = _rejected_whole(
                dump.source_file, n_lines, "binary file (NUL or control bytes)", None
            )
            p.reason = "binary"
        out.append(_source_row(dump, text, p, notes))
    return out


def extract_dump(
    data: bytes,
    source_file: str,
    capture_date: date,
    capture_date_origin: str,
) -> ExtractedDump:
    """Extract one dump's bytes. Never raises on bad input: it quarantines it."""
    return extract_dumps([DumpBytes(data, source_file, capture_date, capture_date_origin)])[0]


__all__ = [
    "REJECT",
    "DumpBytes",
    "ExtractedDump",
    "ParsedText",
    "extract_dump",
    "extract_dumps",
    "extract_text",
]
