"""The run report: what the CLI prints and the flow publishes, from one set of sections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from conftest import RAW

from pipelines import report
from pipelines.refresh import combine, extract_batch, link_tables, summarize
from pipelines.sources import DumpFile


def _summary(tmp_path: Path):
    files = {
        "collapsed.txt": (RAW / "002_d3b38a20d54187c7.txt").read_bytes(),
        "daily.txt": (RAW / "003_bfc256623394f453.txt").read_bytes(),
        "notes.txt": b"nothing to see\nhere | there\n",
    }
    dumps = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        dumps.append(DumpFile(tmp_path / name, name, date(2026, 11, 22), "as-of"))
    extracted = extract_batch(dumps)
    tables, _ = link_tables(combine(extracted), tmp_path)
    how = {"collapsed.txt": "reused", "daily.txt": "parsed", "notes.txt": "parsed"}
    return summarize(tables, how, [n for e in extracted for n in e.notes])


def test_report_names_quarantined_files_and_lines(tmp_path: Path) -> None:
    summary = _summary(tmp_path)
    titles = [s.title for s in report.sections(summary)]
    assert titles[:2] == ["Input files", "By format"]
    assert "Quarantined lines by reason" in titles and "Merged papers" in titles

    markdown = report.to_markdown(summary)
    # File, lines and reason of each quarantined run; a "|" in the text is escaped.
    assert "| notes.txt | lines 1-2 | unrecognised format" in markdown
    assert "here \\| there" in markdown
    # The paper listed on both pages is one merge, with both files named.
    assert "| 2 | collapsed.txt, daily.txt |" in markdown
    assert "2 parsed, 1 reused from the cache" in markdown

    rows = {r["file"]: r for r in report.file_rows(summary)}
    assert rows["collapsed.txt"]["extraction"] == "reused"
    assert rows["notes.txt"]["format"] == "(quarantined)"
    assert all(r["accounted"] == "ok" for r in rows.values())


def test_failure_report_says_whether_readers_see_anything_new() -> None:
    text = report.failure_markdown(OSError("disk full"), "stage", published=False)
    assert "Stage **stage**: OSError: disk full" in text and "not changed" in text
    assert "already published" in report.failure_markdown(OSError(), "clean-up", True)


def test_report_shows_cut_records_and_future_dates(tmp_path: Path) -> None:
    text = (RAW / "000_6f50fbf9dd3610f4.txt").read_text(encoding="utf-8")
    text = text.replace("LGDec 4, 2025", "LGDec 4, 2031")  # record 2, lines 26-31
    cut = text[: text.index("economic benefits") + len("economic bene")]  # record 3 ends there
    (tmp_path / "cut.txt").write_text(cut, encoding="utf-8")
    dumps = [DumpFile(tmp_path / "cut.txt", "cut.txt", date(2026, 11, 22), "as-of")]
    extracted = extract_batch(dumps)
    tables, _ = link_tables(combine(extracted), tmp_path)
    summary = summarize(tables, {"cut.txt": "parsed"}, [n for e in extracted for n in e.notes])

    flagged = next(s for s in report.sections(summary) if s.title == "Flagged records")
    assert [row[:3] for row in flagged.rows] == [
        ["cut.txt", "lines 26-31", "dated Dec 4, 2031, after the capture date"],
        ["cut.txt", "lines 33-38", "cut off by the end of the file"],
    ]
    assert flagged.footer == "cut records: 1, dates after the capture date: 1"
    notes = report.notes(summary)
    assert any(n.startswith("cut.txt lines 33-38: record cut off") for n in notes)
    assert any(n.startswith("cut.txt lines 26-31: date Dec 4, 2031") for n in notes)
    assert "## Flagged records" in report.to_markdown(summary)
    # Without flagged records the section is left out.
    assert "Flagged records" not in [s.title for s in report.sections(_summary(tmp_path))]
