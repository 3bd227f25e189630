"""Property tests: records rendered in each format parse back to the same fields,
and no text makes a parser raise or lose a line."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from conftest import CAPTURE, RAW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from name_corpus import inner_capital, name_variants, printed_names, starts_with_capitals
from polars.testing import assert_frame_equal

from pipelines.extract import DumpBytes, extract_dump, extract_dumps, formats
from pipelines.extract.assemble import finish
from pipelines.extract.text import split_lines
from pipelines.taxonomy import printed_forms, shipped_categories

GIVEN = ["Kay", "Jean-Luc", "Sören", "Zhihao", "Ana", "José", "Łukasz", "Mei", "George H.", "Yu"]
FAMILY = ["Liu", "Müller", "O'Brien", "McKenzie", "García-López", "Zhang", "Dubois", "Qi", "Jia"]
# Real names of every shape (Faker's locales and their printed variants); the
# collapsed-page split takes those without a capital run at their start or a
# capital inside a word (tests/test_grammar.py shows why those are guesses).
CORPUS = printed_names() + name_variants()
GLUABLE = tuple(n for n in CORPUS if not starts_with_capitals(n) and not inner_capital(n))
# Every printed form of every category in the taxonomy, and unknown codes of the same shape.
PRINTED_CODES = tuple(printed_forms(shipped_categories())["printed"])
UNKNOWN_CODES = ("XYZ", "NEW-ARCH.AB", "PHYSICS.NEW-TOPIC", "Q-BIO.ZZ")
WORDS = [
    "Efficient",
    "Serving",
    "of",
    "for",
    "Large",
    "Language",
    "Models",
    "on",
    "Sparse",
    "Attention",
    "via",
    "Graph",
    "Neural",
    "Networks",
    "with",
    "Speculative",
    "Decoding",
]
ENDINGS = ["GPUs", "LLM", "DNNs", "Max-Flow", "Systems", "Graphs", "Inference", "2.0", "Scale"]
HEADS = ["SpecInfer:", "MagicPIG:", "Quarl:", "TC-GNN:", "Towards", "Scalable", "LightSeq2:"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

names = st.one_of(
    st.builds(lambda g, f: f"{g} {f}", st.sampled_from(GIVEN), st.sampled_from(FAMILY)),
    st.sampled_from(GLUABLE),
)
titles = st.builds(
    lambda head, middle, end: " ".join([head, *middle, end]),
    st.sampled_from(HEADS),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=8),
    st.sampled_from(ENDINGS),
)
abstracts = st.lists(st.sampled_from(WORDS), min_size=40, max_size=80).map(
    lambda w: "We study " + " ".join(w) + "."
)
dates = st.builds(
    lambda y, m, d: (y, m, d),
    # Years after the capture year too: kept, and flagged.
    st.one_of(st.none(), st.integers(1992, 2030)),
    st.integers(1, 12),
    st.integers(1, 28),
)


def _date_text(d: tuple) -> str:
    year, month, day = d
    return f"{MONTHS[month - 1]} {day}" + (f", {year}" if year else "")


def _resolved(d: tuple) -> date:
    year, month, day = d
    if year:
        return date(year, month, day)
    guess = date(CAPTURE.year, month, day)
    return guess if guess <= CAPTURE else date(CAPTURE.year - 1, month, day)


profile_records = st.fixed_dictionaries(
    {
        "category": st.sampled_from(PRINTED_CODES + UNKNOWN_CODES),
        "date": dates,
        "code": st.booleans(),
        "title": titles,
        "authors": st.lists(names, min_size=1, max_size=3),
        "cut": st.booleans(),
        "orgs": st.lists(st.sampled_from(["pku", "berkeley", "deepmind", "uw"]), max_size=2),
        "abstract": abstracts,
    }
)


def _author_line(r: dict) -> str:
    cut = r["cut"] and len(r["authors"]) == 3
    line = ", ".join(r["authors"]) + (" et al." if cut else "")
    return line + (" · " + ", ".join(r["orgs"]) if r["orgs"] else "")


def _parse(text: str):
    e = extract_dump(text.encode("utf-8"), "generated.txt", CAPTURE, "as-of")
    assert e.accounted_lines == e.source["n_lines"][0]
    return e


def _check_profile_records(e, records: list[dict]) -> None:
    assert e.records.height == len(records)
    for got, r in zip(e.records.to_dicts(), records, strict=True):
        assert got["title"] == r["title"]
        assert got["authors"] == r["authors"]
        assert got["authors_truncated"] == (r["cut"] and len(r["authors"]) == 3)
        assert got["affiliations"] == r["orgs"]
        assert got["category"] == r["category"]
        assert got["has_code"] == r["code"]
        assert got["published_date"] == _resolved(r["date"])
        assert got["is_future_date"] == (_resolved(r["date"]) > CAPTURE)
        assert got["abstract"] == r["abstract"]
        assert got["is_cut"] is False


def _meta(r: dict) -> str:
    return r["category"] + _date_text(r["date"]) + ("Code" if r["code"] else "")


def _profile_header(owner: str, primary: str, n: int) -> list[str]:
    facts = ["h-index3", "9papers", "40citations", "Novelty5%", "AI Score7"]
    return [owner, "", primary, *facts, "", f"{n} Papers", ""]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(profile_records, min_size=1, max_size=6),
    st.sampled_from(PRINTED_CODES + UNKNOWN_CODES),
)
def test_profile_page_round_trip(records: list[dict], primary: str) -> None:
    header = _profile_header("Ana Liu", primary, len(records))
    body = []
    for r in records:
        body += [_meta(r), r["title"], "", _author_line(r), "", r["abstract"], ""]
    e = _parse("\n".join(header + body))
    assert e.source["format"][0] == "profile_page"
    assert e.profile["primary_category"][0] == primary
    _check_profile_records(e, records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(profile_records, min_size=2, max_size=6))
def test_collapsed_profile_page_round_trip(records: list[dict]) -> None:
    body = []
    for r in records:
        body += [_meta(r), r["title"] + _author_line(r), r["abstract"]]
    e = _parse("\n".join(body))
    assert e.source["format"][0] == "collapsed_profile_page"
    _check_profile_records(e, records)


@pytest.mark.parametrize("glued", [False, True], ids=["profile_page", "collapsed_profile_page"])
def test_every_printed_category_parses_back(glued: bool) -> None:
    """A page with one record per printed form of every taxonomy code (and unknown ones)."""
    codes = PRINTED_CODES + UNKNOWN_CODES
    authors = ["Kay Liu", "Omar al-Farsi", "Wei ZHANG", "王秀英", "Jean d'Alembert"]
    lines: list[str] = [] if glued else _profile_header("Ana Liu", codes[0], len(codes))
    for i, code in enumerate(codes):
        meta = f"{code}{MONTHS[i % 12]} {1 + i % 28}, {1992 + i % 30}" + ("Code" * (i % 2))
        title = f"On the Structure of Problem {i} in Its Field"
        author_line = ", ".join(authors[i % 5 :] + authors[: i % 5][:1])
        abstract = f"We study problem {i} and settle it. " * 8
        if glued:
            lines += [meta, title + author_line, abstract]
        else:
            lines += [meta, title, "", author_line, "", abstract, ""]
    e = _parse("\n".join(lines))
    assert e.source["format"][0] == ("collapsed_profile_page" if glued else "profile_page")
    assert e.records["category"].to_list() == list(codes)
    assert e.records["has_code"].to_list() == [bool(i % 2) for i in range(len(codes))]
    assert e.records["title"].str.starts_with("On the Structure of Problem").all()
    assert e.records["authors"].list.len().to_list() == [
        len(authors[i % 5 :] + authors[: i % 5][:1]) for i in range(len(codes))
    ]
    assert e.rejects.is_empty()


daily_records = st.fixed_dictionaries(
    {
        "title": titles,
        "abstract": abstracts,
        "trailer": st.one_of(
            st.none(),
            st.tuples(
                st.one_of(st.integers(1, 40), st.sampled_from(["Berkeley UC Berkeley", "NVIDIA"])),
                dates,
                st.one_of(st.none(), st.integers(1, 500)),
            ),
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(daily_records, min_size=1, max_size=6), dates)
def test_daily_papers_round_trip(records: list[dict], listing: tuple) -> None:
    lines = [
        "new",
        "",
        "Get trending papers in your email inbox!",
        "",
        "Subscribe",
        "",
        "Daily Papers",
        "",
        "byAK and the research community",
        "",
        _date_text((None, *listing[1:])),
        "",
    ]
    for r in records:
        lines += [r["title"], "", r["abstract"], ""]
        if r["trailer"]:
            head, d, votes = r["trailer"]
            head_line = f"  • {head} authors" if isinstance(head, int) else head
            lines += [head_line, "·", _date_text(d) + (f" {votes}" if votes else ""), ""]
    e = _parse("\n".join(lines))
    assert e.source["format"][0] == "daily_papers"
    assert e.records.height == len(records)
    for got, r in zip(e.records.to_dicts(), records, strict=True):
        assert (got["title"], got["abstract"], got["authors"]) == (r["title"], r["abstract"], [])
        if r["trailer"] is None:
            assert got["published_date"] is None and got["author_count"] is None
            continue
        head, d, votes = r["trailer"]
        assert got["published_date"] == _resolved(d)
        assert got["upvotes"] == votes
        if isinstance(head, int):
            assert (got["author_count"], got["affiliations"]) == (head, [])
        else:
            assert (got["author_count"], got["affiliations"]) == (None, [head])


scholar_records = st.fixed_dictionaries(
    {
        "title": titles,
        "authors": st.lists(
            st.tuples(st.sampled_from(FAMILY), st.sampled_from(GIVEN)), min_size=1, max_size=8
        ),
        "affiliations": st.one_of(
            st.none(), st.sampled_from(["MIT", "Institute of Automation, CAS", "Univ. of X (Y)"])
        ),
        "abstract": abstracts,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(scholar_records, min_size=2, max_size=6))
def test_scholar_profile_round_trip(records: list[dict]) -> None:
    lines = ["Hu, Qinghao"]
    for r in records:
        if r["affiliations"]:
            author_line = " | ".join(f"{f}, {g} ({r['affiliations']})" for f, g in r["authors"])
        else:
            author_line = ", ".join(f"{f}, {g}" for f, g in r["authors"])
        lines += [r["title"], author_line, r["abstract"]]
    e = _parse("\n".join(lines))
    assert e.source["format"][0] == "scholar_profile"
    assert e.profile["owner_name"][0] == "Qinghao Hu"
    assert e.records.height == len(records)
    for got, r in zip(e.records.to_dicts(), records, strict=True):
        assert got["title"] == r["title"]
        assert got["authors"] == [f"{g} {f}" for f, g in r["authors"]]
        want_aff = [r["affiliations"]] if r["affiliations"] else []
        assert got["affiliations"] == want_aff


# Lines that look like pieces of every format, mixed with arbitrary text.
FRAGMENTS = [
    "",
    "·",
    "  • 3 authors",
    "LGMay 18Code",
    "DCDec 4, 2025",
    "Apr 20",
    "Mar 10 3",
    "Hu, Qinghao",
    "Yang, Shang, Guo, Junxian",
    "Kay Liu, Yue Zhao et al. · pku",
    "h-index22",
    "14 Papers",
    "Daily Papers",
    "x" * 300,
    "Title: A Study",
    "MATH.APJan 3, 1998",
    "COND-MAT.STAT-MECHDec 4, 2031Code",
    "Load more papers",
    "Show more",
    "see the appendix for all proofs",
    "王秀英, Omar al-Farsi, JP Morgan et al.",
    "h-index" + "9" * 40,
]
lines_strategy = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=80)), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines_strategy)
def test_no_text_makes_a_parser_raise_or_lose_a_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    table = split_lines(text)
    for name, fmt in formats().items():
        files = pl.DataFrame(
            {"file": [0], "source_file": ["f.txt"], "format": [name], "capture_date": [CAPTURE]}
        )
        done = finish(fmt.parse(table), files)
        record_spans = list(zip(done.records["line_start"], done.records["line_end"], strict=True))
        reject_spans = list(zip(done.rejects["line_start"], done.rejects["line_end"], strict=True))
        in_records = [n for a, b in record_spans for n in range(a, b + 1)]
        rejected = [n for a, b in reject_spans for n in range(a, b + 1)]
        # Records never share a line, nor do quarantine rows.
        assert len(in_records) == len(set(in_records)), name
        assert len(rejected) == len(set(rejected)), name
        # A quarantined line lies outside every record, or is one line (or run)
        # of a record quarantined alone, wholly inside it.
        for s, t in reject_spans:
            assert all(t < a or s > b or (a <= s and t <= b) for a, b in record_spans), name
        own = set(in_records) - set(rejected)
        assert len(own) == int(done.counts["n_record_lines"].sum()), name
        furniture = int(done.counts["n_furniture"].sum())
        assert len(own) + len(rejected) + furniture == table.height, name


# Real pages of every format, cut at any line: batches mix formats and damage.
SAMPLE_LINES = [p.read_text("utf-8").splitlines() for p in sorted(RAW.glob("*.txt"))]
sample_strategy = st.builds(
    lambda lines, cut: lines[:cut], st.sampled_from(SAMPLE_LINES), st.integers(0, 400)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(lines_strategy, sample_strategy), min_size=1, max_size=6))
def test_a_batch_extracts_each_file_as_alone(files: list[list[str]]) -> None:
    """Parsing files together (as a refresh does) gives what parsing each alone gives."""
    dumps = [
        DumpBytes("\n".join(lines).encode(), f"f{i}.txt", CAPTURE, "as-of")
        for i, lines in enumerate(files)
    ]
    together = extract_dumps(dumps)
    for dump, batched in zip(dumps, together, strict=True):
        alone = extract_dump(dump.data, dump.source_file, CAPTURE, "as-of")
        for name in ("source", "records", "rejects", "profile"):
            assert_frame_equal(getattr(batched, name), getattr(alone, name))
        assert batched.notes == alone.notes
