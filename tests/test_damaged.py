"""Damaged input: encodings, line ends, cut-off files, stray fragments, junk.

None of it may raise or lose a line; each problem is reported.
"""

from __future__ import annotations

import polars as pl
import pytest
from conftest import CAPTURE, RAW

from pipelines.extract import extract_dump
from pipelines.extract.text import decode_dump, split_lines

PROFILE = RAW / "000_6f50fbf9dd3610f4.txt"
DAILY = RAW / "003_bfc256623394f453.txt"
SCHOLAR = RAW / "004_3fe40d5a5f467540.txt"


def _extract(data: bytes, name: str = "damaged.txt"):
    e = extract_dump(data, name, CAPTURE, "as-of")
    assert e.accounted_lines == e.source["n_lines"][0]
    return e


def _titles(e) -> list[str]:
    return e.records["title"].to_list()


def test_line_ends_do_not_change_records() -> None:
    text = PROFILE.read_text(encoding="utf-8")
    base = _extract(text.encode())
    for ending in ("\r\n", "\r"):
        e = _extract(text.replace("\n", ending).encode())
        assert _titles(e) == _titles(base)
        assert e.records["authors"].to_list() == base.records["authors"].to_list()
        assert e.source["n_lines"][0] == base.source["n_lines"][0]


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-8", b"\xef\xbb\xbf", "utf-8 (BOM)"),
        ("utf-16-le", b"\xff\xfe", "utf-16-le (BOM)"),
        ("utf-16-be", b"\xfe\xff", "utf-16-be (BOM)"),
    ],
)
def test_unicode_encodings_with_bom(encoding: str, bom: bytes, label: str) -> None:
    text = DAILY.read_text(encoding="utf-8")
    e = _extract(bom + text.encode(encoding))
    assert e.source["encoding"][0] == label
    assert e.records.height == 62
    assert e.records["title"][0] == _titles(_extract(text.encode()))[0]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encodings_are_recognised(encoding: str) -> None:
    text = (
        SCHOLAR.read_text(encoding="utf-8")
        .replace("Qinghao", "Qïnghaö")
        .replace("Efficient", "Efficient—fast")
    )
    if encoding == "latin-1":
        text = text.replace("—", "-")
    e = _extract(text.encode(encoding))
    assert e.source["encoding"][0] == "windows-1252"
    assert "Latin-1" in e.source["notes"][0]
    assert any("Qïnghaö Hu" in authors for authors in e.records["authors"].to_list())
    assert not any("\ufffd" in t for t in _titles(e))


def test_undecodable_bytes_fall_back_and_are_reported() -> None:
    data = SCHOLAR.read_bytes().replace(b"Qinghao", b"Qing\x81\x8dhao", 1) + "é".encode()
    e = _extract(data)
    assert e.source["encoding"][0] == "utf-8 (lossy)"
    assert "U+FFFD" in e.source["notes"][0]


def test_file_cut_mid_record_keeps_complete_records() -> None:
    lines = PROFILE.read_text(encoding="utf-8").split("\n")
    cut = "\n".join(lines[:14])  # ends on the first record's title line
    e = _extract(cut.encode())
    assert e.records.height == 1
    assert e.records["authors"][0].to_list() == []
    assert e.records["abstract"][0] is None


def test_daily_listing_cut_after_a_title_quarantines_it() -> None:
    lines = DAILY.read_text(encoding="utf-8").split("\n")
    e = _extract("\n".join(lines[:21]).encode())  # ends with the second record's title
    assert e.records.height == 1
    assert e.rejects.height == 1
    assert e.rejects["line_start"][0] == 21
    assert "no abstract" in e.rejects["reason"][0]


def test_stray_fragment_is_quarantined_with_its_line() -> None:
    lines = PROFILE.read_text(encoding="utf-8").split("\n")
    lines.insert(18, "Load more papers")  # after the first record's abstract
    e = _extract("\n".join(lines).encode())
    assert e.records.height == 14
    reject = e.rejects.row(0, named=True)
    assert (reject["line_start"], reject["raw_text"]) == (19, "Load more papers")
    assert "unexpected line" in reject["reason"]


def test_stray_fragment_in_daily_listing() -> None:
    lines = DAILY.read_text(encoding="utf-8").split("\n")
    lines.insert(19, "Show more")
    e = _extract("\n".join(lines).encode())
    assert e.records.height == 62
    assert e.rejects["raw_text"].to_list() == ["Show more"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file"),
        (b"\x00\x01\x02binary\x00" * 50, "binary"),
        (b"just some notes\nnothing like a listing\n", "unrecognised format"),
    ],
)
def test_bad_files_are_quarantined_whole(data: bytes, reason: str) -> None:
    e = _extract(data)
    assert e.source["format"][0] is None
    assert e.records.height == 0
    assert reason in e.rejects["reason"][0]
    assert any("quarantined whole" in note for note in e.notes)


def test_split_lines_counts_like_an_editor() -> None:
    assert split_lines("a\nb").height == 2
    assert split_lines("a\nb\n").height == 2
    assert split_lines("a\r\n\r\nb\rc").height == 4
    assert split_lines("").height == 0


def test_decode_prefers_utf8() -> None:
    assert decode_dump("naïve".encode()).encoding == "utf-8"
    assert decode_dump("naïve".encode("cp1252")).text == "naïve"


def _without_line(path, line_no: int) -> bytes:
    lines = path.read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[: line_no - 1] + lines[line_no:]).encode()


def test_lost_title_line_quarantines_its_record() -> None:
    # 000 line 27 is "RLHFSpec: ..." (record 3 spans lines 26-31).
    e = _extract(_without_line(PROFILE, 27))
    assert e.records.height == 13
    assert not e.records["title"].str.contains("Siqi Wang").any()
    reject = e.rejects.row(0, named=True)
    assert (reject["line_start"], reject["line_end"]) == (26, 30)
    assert "no title" in reject["reason"]


def test_lost_author_line_keeps_the_record_without_authors() -> None:
    # 000 line 29 is "Siqi Wang, Hailong Yang, Junjie Zhu et al.".
    e = _extract(_without_line(PROFILE, 29))
    assert e.records.height == 14
    record = e.records.filter(pl.col("title").str.starts_with("RLHFSpec")).row(0, named=True)
    assert record["authors"] == []
    assert record["abstract"].startswith("Reinforcement Learning from Human Feedback")
    assert e.rejects.is_empty()


def test_lost_scholar_title_does_not_promote_an_abstract() -> None:
    # 004 line 5 is the title "FastGL: ..."; its author line now follows an abstract.
    e = _extract(_without_line(SCHOLAR, 5))
    assert e.records.height == 8
    assert (e.records["title"].str.len_chars() < 200).all()
    assert "no title before it" in e.rejects["reason"][0]


def test_page_cut_after_its_header_keeps_the_header_facts() -> None:
    text = PROFILE.read_text(encoding="utf-8")
    e = _extract(text[:68].encode())
    assert e.source["format"][0] == "profile_page"
    assert e.profile["h_index"][0] == 22
    assert e.records.height == 0


def test_scholar_names_with_lower_case_particles() -> None:
    abstract = "We study the problem at hand in depth. " * 8
    text = "\n".join(
        [
            "Hu, Qinghao",
            "Understanding Sparse Attention",
            "le Roux, Emma (U Madrid) | al-Farsi, Weicheng (ETH) | ten Brink, Mengdi",
            abstract,
            "Second Paper",
            "van der Berg, Ana, Ångström, Christos",
            abstract,
        ]
    )
    e = _extract(text.encode())
    assert e.records["authors"].to_list() == [
        ["Emma le Roux", "Weicheng al-Farsi", "Mengdi ten Brink"],
        ["Ana van der Berg", "Christos Ångström"],
    ]
    assert e.rejects.is_empty()
