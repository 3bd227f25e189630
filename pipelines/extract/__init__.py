"""Extraction: detect each dump's format and parse it into records.

Importing this package registers every parser.
"""

from pipelines.extract import daily_papers, profile_page, scholar_profile  # noqa: F401
from pipelines.extract.dump import ExtractedDump, extract_dump, extract_text
from pipelines.extract.registry import detect_format, formats

__all__ = ["ExtractedDump", "detect_format", "extract_dump", "extract_text", "formats"]
