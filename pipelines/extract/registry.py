"""The registry of dump formats and format detection.

A format is a detector (scores each file's first lines) plus a parser (turns
the lines into labelled lines, records and page-header facts). Both work on
the lines of many files at once, told apart by a ``file`` column. Register one
with ``@register_format``; detection picks the highest score and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pipelines.errors import PaperlakeError

# How many lines detection looks at: enough for several records of any format.
DETECTION_LINES = 200
# Below this score no format is trusted and the file is quarantined whole.
MIN_DETECTION_SCORE = 0.5


@dataclass(frozen=True)
class Detection:
    """How well one file fits one format, and the evidence."""

    score: float
    reason: str


@dataclass(frozen=True)
class ParsedDump:
    """What a parser returns for a batch of files.

    ``lines`` has one row per input line with ``file``, ``line_no``, ``role``
    ("record", "furniture" or "reject"), ``rec`` (record number, unique in the
    batch, for record lines) and ``reason`` (for rejects). ``records`` has one
    row per ``rec`` with its ``file`` and the fields the format prints;
    ``profile`` has page-header facts, at most one row per ``file``.
    ``records`` may carry ``incomplete`` (fields the format always prints are
    missing: with the last record of a file, a sign the file was cut).
    ``notes`` has ``file``, ``line_no`` and ``note``: facts kept with a caveat
    (a header number too large to store).
    """

    lines: pl.DataFrame
    records: pl.DataFrame
    profile: pl.DataFrame
    notes: pl.DataFrame | None = None


# A detector maps a batch's lines to one row per file: file, score, reason.
Detector = Callable[[pl.DataFrame], pl.DataFrame]
Parser = Callable[[pl.DataFrame], ParsedDump]


def scores_frame(stats: pl.DataFrame, reason: Callable[[dict], tuple[float, str]]) -> pl.DataFrame:
    """Score files from a small table of per-file evidence (one row per file).

    ``reason`` turns one file's evidence into (score, why); it runs once per
    file, never per line.
    """
    rows = [(row["file"], *reason(row)) for row in stats.iter_rows(named=True)]
    return pl.DataFrame(
        rows, schema={"file": pl.Int64, "score": pl.Float64, "reason": pl.String}, orient="row"
    )


@dataclass(frozen=True)
class DumpFormat:
    name: str
    description: str
    detect: Detector
    parse: Parser


_FORMATS: dict[str, DumpFormat] = {}


def register_format(name: str, description: str, detect: Detector) -> Callable[[Parser], Parser]:
    """Register a parser under ``name``; a name can be registered once."""

    def decorate(parse: Parser) -> Parser:
        if name in _FORMATS:
            raise ValueError(f"dump format {name!r} is already registered")
        _FORMATS[name] = DumpFormat(name, description, detect, parse)
        return parse

    return decorate


def formats() -> dict[str, DumpFormat]:
    """All registered formats by name."""
    return dict(_FORMATS)


def get_format(name: str) -> DumpFormat:
    try:
        return _FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(_FORMATS))
        raise PaperlakeError(f"unknown dump format {name!r}; known formats: {known}") from None


@dataclass(frozen=True)
class DetectionResult:
    format: str | None  # None: no format fits well enough
    reason: str
    scores: dict[str, float]


def detect_formats(
    lines: pl.DataFrame, max_lines: int | None = DETECTION_LINES
) -> dict[int, DetectionResult]:
    """Score every registered format on each file's first ``max_lines`` lines (all of them
    when None); the best one wins. The counts in each reason are for those lines.

    ``lines`` holds the lines of many files (``file``, ``line_no``, ``text``).
    """
    head = lines if max_lines is None else lines.filter(pl.col("line_no") <= max_lines)
    files = head["file"].unique().sort()
    per_format = {}
    for name, fmt in sorted(_FORMATS.items()):
        found = fmt.detect(head)
        per_format[name] = {
            f: Detection(s, r) for f, s, r in found.select("file", "score", "reason").iter_rows()
        }
    return {
        f: _best({name: per_format[name].get(f, Detection(0.0, "no text")) for name in per_format})
        for f in files
    }


def _best(results: dict[str, Detection]) -> DetectionResult:
    scores = {name: round(d.score, 3) for name, d in results.items()}
    best = max(results, key=lambda name: (results[name].score, name))
    if results[best].score < MIN_DETECTION_SCORE:
        tried = "; ".join(f"{name} {d.score:.2f} ({d.reason})" for name, d in results.items())
        return DetectionResult(None, f"no known format fits: {tried}", scores)
    runner_up = sorted((d.score for n, d in results.items() if n != best), reverse=True)
    margin = f", next best {runner_up[0]:.2f}" if runner_up else ""
    return DetectionResult(
        best, f"{results[best].reason} (score {results[best].score:.2f}{margin})", scores
    )


def detect_format(lines: pl.DataFrame, max_lines: int | None = DETECTION_LINES) -> DetectionResult:
    """Detect the format of one file's lines (``line_no``, ``text``), from its first
    ``max_lines`` lines (all of them when None)."""
    if "file" not in lines.columns:
        lines = lines.select(pl.lit(0, dtype=pl.Int64).alias("file"), pl.all())
    found = detect_formats(lines, max_lines)
    if not found:
        return _best({name: Detection(0.0, "no text") for name in _FORMATS})
    return next(iter(found.values()))
