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
    assert e.records["is_cut"][0]  # kept as far as it goes, and flagged


def test_daily_listing_cut_after_a_title_quarantines_it() -> None:
    lines = DAILY.read_text(encoding="utf-8").split("\n")
    e = _extract("\n".join(lines[:21]).encode())  # ends with the second record's title
    assert e.records.height == 1
    assert e.rejects.height == 1
    assert e.rejects["line_start"][0] == 21
    assert "no abstract" in e.rejects["reason"][0]


def _with_lines(path, at: int, *new: str) -> list[str]:
    """The dump's lines with ``new`` inserted before 1-based line ``at``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[: at - 1] + list(new) + lines[at - 1 :]


def test_known_furniture_after_a_record_is_furniture() -> None:
    lines = _with_lines(PROFILE, 19, "Load more papers")  # after the first record's abstract
    e = _extract("\n".join(lines).encode())
    base = _extract(PROFILE.read_bytes())
    assert e.records.height == 14 and e.rejects.is_empty()
    assert e.source["n_furniture_lines"][0] == base.source["n_furniture_lines"][0] + 1
    assert _titles(e) == _titles(base)


def test_stray_text_after_the_abstract_is_quarantined_with_its_line() -> None:
    stray = "Sponsored: try our reading app today"
    lines = _with_lines(PROFILE, 19, stray)
    e = _extract("\n".join(lines).encode())
    assert e.records.height == 14
    reject = e.rejects.row(0, named=True)
    assert (reject["line_start"], reject["raw_text"]) == (19, stray)
    assert "unexpected line" in reject["reason"]


@pytest.mark.parametrize("stray", ["Load more papers", "Show more", "h-index22", "14 Papers", "LG"])
def test_furniture_inside_a_record_is_no_field(stray: str) -> None:
    # Between the first record's title (line 13) and its author line (line 15).
    e = _extract("\n".join(_with_lines(PROFILE, 14, stray)).encode())
    first = e.records.row(0, named=True)
    assert first["authors"] == ["Xing Cong", "Fukai Sun", "Yifan Chen"]
    assert first["abstract"].startswith("Sparse matrix-vector multiplication")
    assert (first["line_start"], first["line_end"]) == (12, 18)
    assert e.rejects.is_empty() and e.records.height == 14


def test_a_line_that_is_no_author_list_is_quarantined_alone() -> None:
    # A sentence between the title and the real author list of record 0.
    e = _extract("\n".join(_with_lines(PROFILE, 14, "see the appendix for all proofs")).encode())
    first = e.records.row(0, named=True)
    assert first["authors"] == ["Xing Cong", "Fukai Sun", "Yifan Chen"]
    assert first["abstract"].startswith("Sparse matrix-vector multiplication")
    reject = e.rejects.row(0, named=True)
    assert (reject["line_start"], reject["line_end"]) == (14, 14)
    assert "not the author list" in reject["reason"]
    assert e.records.height == 14  # the record spans the line but keeps its fields


def test_an_author_line_of_no_names_is_quarantined_and_the_record_kept() -> None:
    lines = PROFILE.read_text(encoding="utf-8").split("\n")
    lines[14] = "in proceedings of the workshop, 2024"  # line 15, record 0's author line
    e = _extract("\n".join(lines).encode())
    first = e.records.row(0, named=True)
    assert first["authors"] == [] and first["title"].startswith("CB-SpMV")
    assert first["abstract"].startswith("Sparse matrix-vector multiplication")
    assert e.rejects["raw_text"].to_list() == ["in proceedings of the workshop, 2024"]


def test_swapped_title_and_author_lines() -> None:
    lines = PROFILE.read_text(encoding="utf-8").split("\n")
    lines[26], lines[28] = lines[28], lines[26]  # record 2: lines 27 and 29
    e = _extract("\n".join(lines).encode())
    record = e.records.row(2, named=True)
    assert record["title"].startswith("RLHFSpec: Breaking the Efficiency Bottleneck")
    assert record["authors"] == ["Siqi Wang", "Hailong Yang", "Junjie Zhu"]
    assert record["authors_truncated"] is True
    assert e.rejects.is_empty()


def test_collapsed_page_stray_line_between_title_and_abstract() -> None:
    collapsed = RAW / "002_d3b38a20d54187c7.txt"
    e = _extract("\n".join(_with_lines(collapsed, 3, "Show more", "cited by 12")).encode())
    first = e.records.row(0, named=True)
    assert first["authors"] == ["Kay Liu", "Yingtong Dou", "Yue Zhao"]
    assert first["abstract"].startswith("Detecting which nodes in graphs are outliers")
    assert e.rejects["raw_text"].to_list() == ["cited by 12"]
    assert e.records.height == 43


def test_furniture_inside_daily_and_scholar_records() -> None:
    daily = _extract("\n".join(_with_lines(DAILY, 14, "Show more")).encode())
    assert daily.records.height == 62 and daily.rejects.is_empty()
    assert daily.records["abstract"][0].startswith("In recent years, Transformer-based")
    scholar = _extract("\n".join(_with_lines(SCHOLAR, 3, "Show more")).encode())
    assert scholar.records.height == 9 and scholar.rejects.is_empty()
    assert scholar.records["authors"][0].to_list()[:2] == ["Shang Yang", "Junxian Guo"]


def test_stray_fragment_in_daily_listing() -> None:
    lines = DAILY.read_text(encoding="utf-8").split("\n")
    lines.insert(19, "Sponsored")
    e = _extract("\n".join(lines).encode())
    assert e.records.height == 62
    assert e.rejects["raw_text"].to_list() == ["Sponsored"]


# --- what is cut or impossible -------------------------------------------------


def test_file_cut_mid_abstract_flags_its_last_record() -> None:
    text = PROFILE.read_text(encoding="utf-8")
    # Mid-word in the abstract of record 3 (xGR, lines 33-38).
    cut = text[: text.index("economic benefits") + len("economic bene")]
    e = _extract(cut.encode())
    assert e.records["is_cut"].to_list() == [False, False, False, True]
    assert e.records["abstract"][3].endswith("substantial economic bene")
    assert any("record cut off by the end of the file" in n and "line" in n for n in e.notes)
    assert "is_cut" in e.source["notes"][0]


def test_whole_files_have_no_cut_records() -> None:
    for path in sorted(RAW.glob("*.txt")):
        e = _extract(path.read_bytes(), path.name)
        assert not e.records["is_cut"].any(), path.name
        assert not e.records["is_future_date"].any(), path.name


def test_date_after_the_capture_date_is_kept_and_flagged() -> None:
    text = PROFILE.read_text(encoding="utf-8").replace("LGDec 4, 2025", "LGDec 4, 2031")
    e = _extract(text.encode(), "future.txt")
    record = e.records.row(2, named=True)
    assert str(record["published_date"]) == "2031-12-04" and record["is_future_date"]
    assert e.records["is_future_date"].sum() == 1
    assert [n for n in e.notes if "capture date" in n] == [
        "future.txt lines 26-31: date Dec 4, 2031 is after the capture date 2026-11-22; "
        "kept, flagged is_future_date"
    ]


def test_header_number_too_large_is_left_empty_with_a_note() -> None:
    digits = "9" * 40
    text = PROFILE.read_text(encoding="utf-8").replace("h-index22", f"h-index{digits}")
    e = _extract(text.encode(), "huge.txt")
    assert e.source["format"][0] == "profile_page" and e.records.height == 14
    assert e.profile["h_index"][0] is None and e.profile["paper_count"][0] == 14
    assert e.rejects.is_empty()
    assert f"huge.txt line 4: h_index {digits} is too large to store; left empty" in e.notes


def test_utf8_cut_inside_a_character_stays_utf8() -> None:
    text = SCHOLAR.read_text(encoding="utf-8") + "\nLast paper by Łukasz Müller Ż"
    data = text.encode("utf-8")[:-1]  # "Ż" is two bytes: keep the first
    e = _extract(data)
    assert e.source["encoding"][0] == "utf-8 (lossy)"
    assert "ends in the middle of a character" in e.source["notes"][0]
    decoded = decode_dump(data).text
    assert decoded.endswith("Łukasz Müller \ufffd") and "Hu, Qinghao" in decoded


def test_utf8_with_a_few_broken_bytes_is_not_read_as_windows_1252() -> None:
    text = "Zoë Müller, Sören Łukasz\n" * 20
    data = text.encode("utf-8").replace("ü".encode(), b"\xfc", 1)  # one Latin-1 byte
    decoded = decode_dump(data)
    assert decoded.encoding == "utf-8 (lossy)"
    assert decoded.text.count("\ufffd") == 1 and decoded.text.count("Łukasz") == 20


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


def test_swapped_title_and_author_lines_in_a_scholar_profile() -> None:
    lines = SCHOLAR.read_text(encoding="utf-8").split("\n")
    lines[4], lines[5] = lines[5], lines[4]  # record 1 (FastGL): lines 5 and 6
    e = _extract("\n".join(lines).encode())
    assert e.records.height == 9 and e.rejects.is_empty()
    record = e.records.row(1, named=True)
    assert record["title"].startswith("FastGL: A GPU-Efficient Framework")
    assert record["authors"][:2] == ["Zeyu Zhu", "Peisong Wang"]
    assert (record["line_start"], record["line_end"]) == (5, 7)
    assert record["abstract"].startswith("Graph Neural Networks (GNNs)")


def test_daily_numbers_too_large_are_left_empty_with_a_note() -> None:
    digits = "7" * 30
    text = DAILY.read_text(encoding="utf-8")
    text = text.replace("  • 12 authors", f"  • {digits} authors", 1)
    text = text.replace("Aug 22, 2024 2", f"Aug 22, 2024 {digits}", 1)
    e = _extract(text.encode(), "big.txt")
    assert e.records.height == 62 and e.rejects.is_empty()
    assert e.records["author_count"][0] is None and e.records["affiliations"][0].to_list() == []
    record = e.records.filter(pl.col("line_end") == 107).row(0, named=True)  # "Aug 22, 2024 2"
    assert record["date_text"] == "Aug 22, 2024" and record["upvotes"] is None
    assert f"big.txt line 17: author_count {digits} is too large to store; left empty" in e.notes
    assert f"big.txt line 107: upvotes {digits} is too large to store; left empty" in e.notes
