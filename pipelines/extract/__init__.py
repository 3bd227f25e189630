"""Extraction: detect each dump's format and parse it into records.

Importing this package registers every parser.
"""

from pipelines.extract import daily_papers, profile_page, scholar_profile  # noqa: F401
from pipelines.extract.dump import (
    DumpBytes,
    ExtractedDump,
    extract_dump,
    extract_dumps,
    extract_text,
)
from pipelines.extract.registry import detect_format, detect_formats, formats

# Part of every extraction cache key: bump it whenever a parser's output for
# the same bytes changes, so the next refresh parses every dump again instead
# of reusing records the old parser made.
PARSER_VERSION = "4"

__all__ = [
    "PARSER_VERSION",
    "DumpBytes",
    "ExtractedDump",
    "detect_format",
    "detect_formats",
    "extract_dump",
    "extract_dumps",
    "extract_text",
    "formats",
]
