"""The registry of dump formats and format detection.

A format is a detector (scores a file's first lines) plus a parser (turns the
file's lines into labelled lines, records and page-header facts). Register one
with ``@register_format``; detection picks the highest score and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from pipelines.errors import PaperlakeError

# How many lines detection looks at: enough for several records of any format.
DETECTION_LINES = 200
# Below this score no format is trusted and the file is quarantined whole.
MIN_DETECTION_SCORE = 0.5


@dataclass(frozen=True)
class Detection:
    """How well a file fits one format, and the evidence."""

    score: float
    reason: str


@dataclass(frozen=True)
class ParsedDump:
    """What a parser returns.

    ``lines`` has one row per input line with ``role`` ("record", "furniture"
    or "reject"), ``rec`` (record number, for record lines) and ``reason`` (for
    rejects). ``records`` has one row per ``rec`` with the fields the format
    prints; ``profile`` holds page-header facts.
    """

    lines: pl.DataFrame
    records: pl.DataFrame
    profile: dict[str, object] = field(default_factory=dict)


Detector = Callable[[pl.DataFrame], Detection]
Parser = Callable[[pl.DataFrame], ParsedDump]


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


def detect_format(lines: pl.DataFrame) -> DetectionResult:
    """Score every registered format on the first lines; the best one wins."""
    head = lines.head(DETECTION_LINES)
    results = {name: fmt.detect(head) for name, fmt in sorted(_FORMATS.items())}
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
