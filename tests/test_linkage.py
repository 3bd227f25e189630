"""Linkage: the same paper and the same person across dumps, merged with reasons."""

from __future__ import annotations

import random

import polars as pl
import pytest
from conftest import CAPTURE, RAW

from pipelines.config import MatchConfig
from pipelines.curation import read_aliases, read_overrides
from pipelines.extract import extract_dump
from pipelines.transform.glued import resplit_glued_titles
from pipelines.transform.link import build_papers
from pipelines.transform.match import match_records

ABSTRACT = "We study the problem at hand in depth. " * 8


def _records(name: str, text: str) -> pl.DataFrame:
    e = extract_dump(text.encode(), name, CAPTURE, "as-of")
    assert e.source["format"][0] is not None, e.source["format_reason"][0]
    return e.records


def _profile(name: str, entries: list[tuple[str, str, str]]) -> pl.DataFrame:
    """A full profile page (format A) from (meta, title, author line) triples."""
    lines = ["Ana Liu", "", "LG", "h-index3", f"{len(entries)}papers", ""]
    for meta, title, authors in entries:
        lines += [meta, title, "", authors, "", ABSTRACT, ""]
    return _records(name, "\n".join(lines))


def _scholar(name: str, entries: list[tuple[str, str]]) -> pl.DataFrame:
    """A scholar profile (format D) from (title, "Family, Given, ..." line) pairs."""
    lines = ["Hu, Qinghao"]
    for title, authors in entries:
        lines += [title, authors, ABSTRACT]
    return _records(name, "\n".join(lines))


@pytest.fixture(scope="module")
def sample_records() -> pl.DataFrame:
    return pl.concat(
        [
            extract_dump(p.read_bytes(), p.name, CAPTURE, "manifest").records
            for p in sorted(RAW.glob("*.txt"))
        ]
    )


def _paper_of(linked, record_id: str) -> str:
    return linked.paper_sources.filter(pl.col("record_id") == record_id)["paper_id"].item()


def test_cross_dump_duplicate_in_samples_is_merged(sample_records) -> None:
    linked = build_papers(sample_records)
    collapsed, daily = "002_d3b38a20d54187c7.txt#29", "003_bfc256623394f453.txt#45"
    assert _paper_of(linked, collapsed) == _paper_of(linked, daily)
    paper = linked.papers.filter(pl.col("paper_id") == _paper_of(linked, collapsed)).row(
        0, named=True
    )
    assert paper["n_records"] == 2
    # The collapsed page prints authors and a category; the daily listing does not.
    assert paper["category"] == "DC"
    sources = linked.paper_field_sources.filter(pl.col("paper_id") == paper["paper_id"])
    assert dict(sources.select("field", "record_id").iter_rows())["authors"] == collapsed
    match = linked.paper_matches.row(0, named=True)
    assert (match["decision"], match["rule"]) == ("merged", "same normalised title")
    assert linked.papers.height == sample_records.height - 1


def test_two_papers_with_one_abstract_stay_apart(sample_records) -> None:
    a, b = "001_f44773a72a01ad56.txt#22", "001_f44773a72a01ad56.txt#23"
    abstracts = sample_records.filter(pl.col("record_id").is_in([a, b]))["abstract"]
    assert abstracts[0] == abstracts[1]
    linked = build_papers(sample_records)
    assert _paper_of(linked, a) != _paper_of(linked, b)


def test_family_first_and_given_first_are_one_person() -> None:
    records = pl.concat(
        [
            _profile("a.txt", [("LGMay 1, 2024", "Fast Things", "Qinghao Hu, Sören Müller")]),
            _scholar("d.txt", [("Slow Things", "Hu, Qinghao, Mueller, Soren")]),
        ]
    )
    linked = build_papers(records)
    names = linked.authors.sort("name")
    assert "Qinghao Hu" in names["name"].to_list()
    assert linked.authors.filter(pl.col("name") == "Qinghao Hu")["n_papers"].item() == 2
    # Accents fold for the key, not for the display name.
    assert (
        linked.authors.filter(pl.col("name").is_in(["Sören Müller", "Soren Mueller"])).height == 2
    )


def test_accent_and_case_variants_share_an_id() -> None:
    records = pl.concat(
        [
            _profile("a.txt", [("LGMay 1, 2024", "Fast Things", "José García-López")]),
            _profile("b.txt", [("LGMay 2, 2024", "Slow Things", "Jose Garcia Lopez")]),
        ]
    )
    linked = build_papers(records)
    assert linked.authors.height == 1
    assert linked.authors["n_papers"].item() == 2


def test_cut_list_gives_way_to_the_full_list() -> None:
    title = "Scaling Sparse Attention on Many GPUs"
    records = pl.concat(
        [
            _profile("a.txt", [("DCMay 1, 2024", title, "Ana Li, Bo Chen, Cy Wu et al.")]),
            _scholar("d.txt", [(title, "Li, Ana, Chen, Bo, Wu, Cy, Xu, Dee, Ng, Eve")]),
        ]
    )
    linked = build_papers(records)
    assert linked.papers.height == 1
    paper = linked.papers.row(0, named=True)
    assert paper["authors_truncated"] is False
    assert paper["category"] == "DC"  # from the profile page, the only one printing it
    positions = linked.paper_authors.join(linked.authors, on="author_id").sort("author_position")
    assert positions["name"].to_list() == ["Ana Li", "Bo Chen", "Cy Wu", "Dee Xu", "Eve Ng"]
    assert positions["author_position"].to_list() == [1, 2, 3, 4, 5]


def test_latex_and_spacing_variants_are_one_paper() -> None:
    records = pl.concat(
        [
            _scholar(
                "d.txt",
                [
                    (
                        "$\\rm A^2Q$: Aggregation-Aware Quantization for GNNs",
                        "Zhu, Zeyu, Hu, Qinghao",
                    ),
                    ("Nexus:Proactive Intra-GPU Disaggregation", "Shi, Xiaoxiang, Cai, Colin"),
                ],
            ),
            _profile(
                "a.txt",
                [
                    ("LGMay 1, 2023", "A2Q: Aggregation-Aware Quantization for GNNs", "Zeyu Zhu"),
                    ("DCJul 9, 2025", "Nexus: Proactive Intra-GPU Disaggregation", "Colin Cai"),
                ],
            ),
        ]
    )
    linked = build_papers(records)
    assert linked.papers.height == 2
    titles = sorted(linked.papers["title"].to_list())
    # The title without LaTeX markup is preferred for display.
    assert titles[0] == "A2Q: Aggregation-Aware Quantization for GNNs"


def test_fuzzy_variant_with_shared_author_merges_and_says_why() -> None:
    records = pl.concat(
        [
            _profile(
                "a.txt", [("LGMay 1, 2024", "Towards Efficient LLM Serving on GPUs", "Ana Li")]
            ),
            _profile("b.txt", [("LGMay 1, 2024", "Toward Efficient LLM Serving on GPU", "Ana Li")]),
        ]
    )
    linked = build_papers(records)
    assert linked.papers.height == 1
    match = linked.paper_matches.row(0, named=True)
    assert match["decision"] == "merged"
    assert "shared author" in match["rule"]
    assert 0.9 < match["title_similarity"] < 1.0


def test_numbered_parts_and_namesakes_stay_apart() -> None:
    records = pl.concat(
        [
            _profile(
                "a.txt",
                [
                    ("LGMay 1, 2024", "Scaling Laws for Routing Part I", "Ana Li"),
                    ("LGMay 1, 2016", "Deep Learning for Graphs", "Bo Chen, Cy Wu"),
                ],
            ),
            _profile(
                "b.txt",
                [
                    ("LGMay 1, 2024", "Scaling Laws for Routing Part II", "Ana Li"),
                    ("LGMay 1, 2024", "Deep Learning for Graphs", "Dee Xu, Eve Ng"),
                ],
            ),
        ]
    )
    linked = build_papers(records)
    assert linked.papers.height == 4
    rules = dict(linked.paper_matches.select("rule", "decision").iter_rows())
    assert rules["numbers differ (i / ii)"] == "apart"
    assert rules["same title, no shared author, dates apart"] == "apart"
    assert linked.papers["paper_id"].n_unique() == 4


def test_abstract_alone_is_no_evidence() -> None:
    records = _profile(
        "a.txt",
        [
            ("LGMay 1, 2024", "Quantum Circuits Made Simple", "Ana Li"),
            ("LGMay 2, 2024", "Classical Shadows at Scale", "Ana Li"),
        ],
    )
    assert records["abstract"].n_unique() == 1
    result = match_records(records, MatchConfig())
    assert result.clusters["cluster"].n_unique() == 2


def test_overrides_are_honoured_and_reported(sample_records, tmp_path) -> None:
    collapsed, daily = "002_d3b38a20d54187c7.txt#29", "003_bfc256623394f453.txt#45"
    a, b = "001_f44773a72a01ad56.txt#22", "001_f44773a72a01ad56.txt#23"
    (tmp_path / "overrides.toml").write_text(
        f'[[apart]]\nrecords = ["{collapsed}", "{daily}"]\n\n[[merge]]\nrecords = ["{a}", "{b}"]\n'
    )
    linked = build_papers(sample_records, overrides=read_overrides(tmp_path))
    assert _paper_of(linked, collapsed) != _paper_of(linked, daily)
    assert _paper_of(linked, a) == _paper_of(linked, b)
    assert any("1 forced-merge and 1 forced-apart" in note for note in linked.notes)
    decided = linked.paper_matches.filter(pl.col("rule").str.starts_with("override"))
    assert sorted(decided["decision"].to_list()) == ["apart", "merged"]


def test_override_by_title(sample_records, tmp_path) -> None:
    (tmp_path / "overrides.toml").write_text(
        '[[apart]]\ntitles = ["Nexus: Proactive Intra-GPU Disaggregation of Prefill and '
        'Decode in LLM Serving"]\n'
    )
    linked = build_papers(sample_records, overrides=read_overrides(tmp_path))
    assert linked.papers.height == sample_records.height


def test_aliases_merge_and_split_people(tmp_path) -> None:
    records = pl.concat(
        [
            _profile("a.txt", [("LGMay 1, 2024", "Fast Things", "Q. Hu, Wei Wang")]),
            _profile("b.txt", [("LGMay 2, 2024", "Slow Things", "Qinghao Hu, Wei Wang")]),
        ]
    )
    before = build_papers(records)
    assert before.authors.height == 3  # "Q. Hu", "Qinghao Hu", "Wei Wang"
    (tmp_path / "aliases.toml").write_text(
        '[[same]]\nnames = ["Qinghao Hu", "Q. Hu"]\n\n'
        '[[split]]\nname = "Wei Wang"\nlabel = "Wei Wang (b)"\nrecords = ["b.txt#0"]\n'
    )
    after = build_papers(records, aliases=read_aliases(tmp_path))
    names = sorted(after.authors["name"].to_list())
    assert names == ["Q. Hu", "Wei Wang", "Wei Wang (b)"] or names == [
        "Qinghao Hu",
        "Wei Wang",
        "Wei Wang (b)",
    ]
    hu = after.authors.filter(pl.col("name").str.contains("Hu"))
    assert hu["n_papers"].to_list() == [2]
    assert any("aliases" in note for note in after.notes)


def test_ids_are_stable_under_reordering_and_unrelated_dumps(sample_records) -> None:
    base = build_papers(sample_records)
    shuffled = sample_records.sample(fraction=1.0, shuffle=True, seed=7)
    again = build_papers(shuffled)
    assert again.papers.equals(base.papers)
    assert again.authors.equals(base.authors)
    unrelated = _profile(
        "zzz_new.txt", [("LGMay 1, 2024", "A Completely Different Paper", "Xavier Unseen")]
    )
    grown = build_papers(pl.concat([unrelated, sample_records]))
    kept = grown.papers.join(base.papers, on="paper_id", how="semi")
    assert kept.height == base.papers.height
    assert grown.authors.join(base.authors, on=["author_id", "name"], how="semi").height == (
        base.authors.height
    )


def test_candidate_pairs_grow_about_linearly() -> None:
    rng = random.Random(3)
    words = [f"w{i}" for i in range(400)]
    n = 3000
    titles = [" ".join(rng.choices(words, k=8)) for _ in range(n)]
    records = pl.DataFrame(
        {
            "source_file": ["gen.txt"] * n,
            "record_index": list(range(n)),
            "record_id": [f"gen.txt#{i}" for i in range(n)],
            "title": titles,
            "authors": [["Ana Li"]] * n,
            "published_date": [CAPTURE] * n,
        }
    )
    result = match_records(records, MatchConfig())
    assert result.n_records == n
    assert result.n_candidate_pairs < 2 * n  # all pairs would be ~4.5 million


def test_known_names_rescue_a_weak_split() -> None:
    records = pl.concat(
        [
            _profile("a.txt", [("LGMay 1, 2024", "Other Work", "danah boyd, Kay Liu")]),
            _records(
                "b.txt",
                "\n".join(
                    [
                        "LGJun 21, 2022",
                        "Big Graphs for Realdanah boyd, Kay Liu",
                        ABSTRACT,
                        "CVJun 22, 2022",
                        "Small GraphsKay Liu",
                        ABSTRACT,
                    ]
                ),
            ),
        ]
    )
    weak = records.filter(pl.col("title_split") == "none")
    assert weak.height == 1
    fixed = (
        resplit_glued_titles(records).filter(pl.col("record_id") == "b.txt#0").row(0, named=True)
    )
    assert (fixed["title"], fixed["authors"]) == ("Big Graphs for Real", ["danah boyd", "Kay Liu"])
    assert fixed["title_split"] == "known_name"


def test_same_group_different_word_is_not_merged_on_score() -> None:
    records = pl.concat(
        [
            _profile(
                "a.txt",
                [
                    (
                        "LGMay 1, 2024",
                        "Efficient Memory Management for LLM Serving",
                        "Ana Li, Bo Chen",
                    )
                ],
            ),
            _profile(
                "b.txt",
                [
                    (
                        "LGMay 3, 2024",
                        "Efficient Memory Management for LLM Training",
                        "Ana Li, Bo Chen",
                    )
                ],
            ),
            _profile(
                "c.txt", [("LGMay 1, 2024", "Efficient Memory Managment for LLM Serving", "Ana Li")]
            ),
        ]
    )
    linked = build_papers(records)
    assert linked.papers.height == 2  # the typo variant joins; the other paper does not
    decisions = {
        (m["record_id_a"], m["record_id_b"]): (m["decision"], m["rule"])
        for m in linked.paper_matches.iter_rows(named=True)
    }
    decision, rule = decisions[("a.txt#0", "b.txt#0")]
    assert decision == "review" and "words differ" in rule
    assert decisions[("a.txt#0", "c.txt#0")][0] == "merged"
