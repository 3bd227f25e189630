"""Golden cases: hand-checked expected records for each dump format.

Each case is ``golden/<format>/<case>/`` with ``input.txt``, ``expected.csv``
(one row per record, lists joined with " | ", written by reading the dump,
not the parser's output) and ``profile.json`` (header facts and line
accounting). An input is either an excerpt of a sample dump, or a page from
another field composed in the format by hand; a composed case says so, and
where its text comes from, in its ``README.md``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from conftest import CAPTURE, GOLDEN

from pipelines.extract import extract_dump, formats

CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "expected.csv").exists())
LISTS = ("authors", "affiliations", "author_affiliations")


def _cell(record: dict, column: str) -> str:
    value = record[column]
    if value is None:
        return ""
    if column in LISTS:
        return " | ".join(v if v is not None else "" for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _extract(case: Path):
    return extract_dump((case / "input.txt").read_bytes(), "input.txt", CAPTURE, "as-of")


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_records(case: Path) -> None:
    extracted = _extract(case)
    assert extracted.source["format"][0] == case.parent.name
    expected = list(csv.DictReader((case / "expected.csv").open(encoding="utf-8")))
    got = extracted.records.to_dicts()
    assert len(got) == len(expected)
    for want, record in zip(expected, got, strict=True):
        for column, value in want.items():
            if column == "abstract_start":
                assert (record["abstract"] or "").startswith(value), record["record_index"]
            else:
                assert _cell(record, column) == value, (record["record_index"], column)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_profile_and_accounting(case: Path) -> None:
    extracted = _extract(case)
    want = json.loads((case / "profile.json").read_text())
    source = extracted.source.row(0, named=True)
    profile = extracted.profile.row(0, named=True)
    for key, value in want.items():
        actual = source[key] if key in source else profile[key]
        assert str(actual) == str(value), key
    assert extracted.accounted_lines == source["n_lines"]


def test_every_format_has_a_golden_case() -> None:
    covered = {case.parent.name for case in CASES}
    assert set(formats()) <= covered


def _composed(case: Path) -> bool:
    return (case / "README.md").is_file()


def test_golden_inputs_are_copied_from_the_real_dumps() -> None:
    """Each line of a sample excerpt appears verbatim in some sample dump (no invented text)."""
    from conftest import RAW

    dump_lines = {
        line for p in RAW.glob("*.txt") for line in p.read_text(encoding="utf-8").splitlines()
    }
    excerpts = [case for case in CASES if not _composed(case)]
    assert {case.parent.name for case in excerpts} == set(formats())
    for case in excerpts:
        for line in (case / "input.txt").read_text(encoding="utf-8").splitlines():
            assert line in dump_lines, (case, line[:60])


def test_every_format_has_a_page_from_another_field() -> None:
    """Besides a sample excerpt, each format has a composed page the samples never showed."""
    composed = [case for case in CASES if _composed(case)]
    assert {case.parent.name for case in composed} == set(formats())
    for case in composed:
        about = (case / "README.md").read_text(encoding="utf-8")
        assert "Composed" in about and "expected.csv" in about, case


def test_records_frame_matches_schema() -> None:
    from pipelines.extract.schema import RECORDS

    extracted = _extract(CASES[0])
    assert extracted.records.schema == RECORDS
    assert isinstance(extracted.records, pl.DataFrame)
