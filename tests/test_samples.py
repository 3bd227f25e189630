"""Whole-file facts about the five sample dumps, counted by hand from the files."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import CAPTURE, RAW

from pipelines.extract import extract_dump

# file -> (format, records, lines). Records counted from the dumps: category/date
# lines for profile pages, title+abstract pairs for the daily listing (60 with a
# "·" trailer and 2 without), author lines for the scholar profile.
EXPECTED = {
    "000_6f50fbf9dd3610f4.txt": ("profile_page", 14, 108),
    "001_f44773a72a01ad56.txt": ("profile_page", 43, 311),
    "002_d3b38a20d54187c7.txt": ("collapsed_profile_page", 43, 129),
    "003_bfc256623394f453.txt": ("daily_papers", 62, 499),
    "004_3fe40d5a5f467540.txt": ("scholar_profile", 9, 28),
}


@pytest.fixture(scope="module")
def extracted():
    return {
        name: extract_dump((RAW / name).read_bytes(), name, CAPTURE, "manifest")
        for name in EXPECTED
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_counts(extracted, name: str) -> None:
    fmt, n_records, n_lines = EXPECTED[name]
    source = extracted[name].source.row(0, named=True)
    assert (source["format"], source["n_records"], source["n_lines"]) == (fmt, n_records, n_lines)
    assert source["n_rejected_lines"] == 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_line_accounted_for(extracted, name: str) -> None:
    e = extracted[name]
    assert e.accounted_lines == e.source["n_lines"][0]
    # Records never overlap and are in line order.
    spans = e.records.select("line_start", "line_end")
    assert (spans["line_start"] <= spans["line_end"]).all()
    assert (spans["line_start"].shift(-1).drop_nulls() > spans["line_end"].head(-1)).all()


def test_profile_headers_match_listed_counts(extracted) -> None:
    """The header's paper count equals the records a full profile page lists."""
    for name in ("000_6f50fbf9dd3610f4.txt", "001_f44773a72a01ad56.txt"):
        profile = extracted[name].profile.row(0, named=True)
        assert profile["paper_count"] == extracted[name].records.height
        assert profile["listed_paper_count"] == profile["paper_count"]


def test_every_record_has_title_and_abstract(extracted) -> None:
    records = pl.concat([e.records for e in extracted.values()])
    assert records["title"].null_count() == 0
    assert records["abstract"].null_count() == 0
    assert (records["title"].str.len_chars() < 200).all()


def test_collapsed_page_splits_all_by_pattern(extracted) -> None:
    records = extracted["002_d3b38a20d54187c7.txt"].records
    assert records["title_split"].to_list() == ["pattern"] * records.height
    # No title keeps a glued capital at its end ("...GraphsKay").
    assert not records["title"].str.contains(r"\p{Ll}\p{Lu}\p{Ll}+$").any()


def test_year_less_dates_take_the_capture_year(extracted) -> None:
    records = pl.concat([e.records for e in extracted.values()])
    yearless = records.filter(~pl.col("date_text").str.contains(r"\d{4}$"))
    assert yearless.height > 0
    assert (yearless["published_date"].dt.year() == CAPTURE.year).all()
    assert (records["published_date"].drop_nulls() <= CAPTURE).all()


def test_extract_text_parses_a_decoded_text_like_the_dump() -> None:
    from pipelines.extract import extract_text

    for path in sorted(RAW.glob("*.txt")):
        parsed = extract_text(path.read_text("utf-8"), path.name, CAPTURE)
        whole = extract_dump(path.read_bytes(), path.name, CAPTURE, "manifest")
        assert parsed.format == whole.source["format"][0]
        assert parsed.records.equals(whole.records)
        assert parsed.n_lines == whole.source["n_lines"][0]


def test_detection_counts_are_for_the_lines_it_read() -> None:
    from pipelines.extract import detect_format
    from pipelines.extract.text import split_lines

    lines = split_lines((RAW / "001_f44773a72a01ad56.txt").read_text("utf-8"))
    assert lines.height == 311
    whole = detect_format(lines, max_lines=None)
    window = detect_format(lines)  # what a refresh reads: the first 200 lines
    assert whole.format == window.format == "profile_page"
    assert whole.reason.startswith("43 category/date lines")
    assert not window.reason.startswith("43 ")
