"""The analysis layer's pure parts: taxonomies, categories, topics, the co-author
network and profile owners, on hand-made frames and on the sample dumps."""

from __future__ import annotations

import math
from pathlib import Path

import igraph
import numpy as np
import polars as pl
import pytest
from conftest import CAPTURE, RAW
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.errors import PaperlakeError
from pipelines.load import write_tables
from pipelines.refresh import combine, extract_batch, link_tables
from pipelines.sources import RESERVED, discover_dumps, resolve_dumps
from pipelines.taxonomy import (
    CATEGORIES_FILE,
    DATA_DIR,
    TOPICS_FILE,
    load_taxonomies,
    read_categories,
    read_topics,
)
from pipelines.transform.network import author_network, coauthor_pairs, smallest_member
from pipelines.transform.profiles import profile_owners
from pipelines.transform.topics import category_table, paper_topics, topic_table

# arXiv's computer-science categories (https://arxiv.org/category_taxonomy).
CS_CODES = [
    "AI",
    "AR",
    "CC",
    "CE",
    "CG",
    "CL",
    "CR",
    "CV",
    "CY",
    "DB",
    "DC",
    "DL",
    "DM",
    "DS",
    "ET",
    "FL",
    "GL",
    "GR",
    "GT",
    "HC",
    "IR",
    "IT",
    "LG",
    "LO",
    "MA",
    "MM",
    "MS",
    "NA",
    "NE",
    "NI",
    "OH",
    "OS",
    "PF",
    "PL",
    "RO",
    "SC",
    "SD",
    "SE",
    "SI",
    "SY",
]


@pytest.fixture(scope="module")
def extracted():
    dumps, _ = resolve_dumps(RAW, CAPTURE)
    return extract_batch(dumps)


@pytest.fixture(scope="module")
def tables(extracted) -> dict[str, pl.DataFrame]:
    return link_tables(combine(extracted), RAW)[0]


@pytest.fixture(scope="module")
def taxonomies():
    return load_taxonomies()


def _topics(toml: str, tmp_path: Path) -> pl.DataFrame:
    path = tmp_path / "topics.toml"
    path.write_text(toml, encoding="utf-8")
    return topic_table(read_topics(path))


# --- arXiv categories -------------------------------------------------------


def test_every_code_printed_in_the_samples_is_known(tables) -> None:
    printed = set(tables["records"]["category"].drop_nulls().to_list())
    assert {"LG", "DC", "CV", "QUANT-PH", "AS", "CY"} <= printed
    categories = tables["categories"].filter(pl.col("category_code").is_in(list(printed)))
    assert categories.height == len(printed)
    assert categories["is_known"].all()
    ids = dict(zip(categories["category_code"], categories["category_id"], strict=True))
    assert ids["LG"] == "cs.LG" and ids["QUANT-PH"] == "quant-ph" and ids["AS"] == "eess.AS"
    names = dict(zip(categories["category_code"], categories["category_name"], strict=True))
    assert names["LG"] == "Machine Learning"
    assert names["DC"] == "Distributed, Parallel, and Cluster Computing"


def test_taxonomy_covers_every_computer_science_code(taxonomies) -> None:
    rows = {r["code"]: r for r in taxonomies.categories.iter_rows(named=True)}
    for code in CS_CODES:
        row = rows[code]
        # Either read as the cs category itself, or as the canonical category
        # arXiv files the cs alias under (cs.SY -> eess.SY), which it then names.
        assert (
            row["category_id"] == f"cs.{code}" or f"cs.{code}" in (row["also_means"] or "").split()
        ), code
    assert rows["SY"]["category_id"] == "eess.SY"
    # A code shared by archives is read as cs first, and says what else it means.
    assert rows["CV"]["category_id"] == "cs.CV" and "math.CV" in rows["CV"]["also_means"]


def test_unknown_codes_are_kept_and_flagged(taxonomies) -> None:
    printed = pl.Series(["LG", "ZZ-TOP", "cs.CV", None, "LG"])
    table = category_table(printed, taxonomies.categories)
    assert table["category_code"].is_unique().all()
    by_code = {r["category_code"]: r for r in table.iter_rows(named=True)}
    assert by_code["ZZ-TOP"]["is_known"] is False
    assert by_code["ZZ-TOP"]["category_id"] == "ZZ-TOP"
    assert by_code["ZZ-TOP"]["category_name"] is None
    # A code printed as the full id resolves to that category.
    assert by_code["cs.CV"]["category_id"] == "cs.CV" and by_code["cs.CV"]["is_known"]
    assert table.height == taxonomies.categories.height + 2


def test_bad_category_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / CATEGORIES_FILE
    path.write_text(
        "code,category_id,category_name,archive,group_name,also_means\n"
        "LG,cs.LG,Machine Learning,cs,Computer Science,\n"
        "LG,stat.ML,Machine Learning,stat,Statistics,\n",
        encoding="utf-8",
    )
    with pytest.raises(PaperlakeError, match=rf"{CATEGORIES_FILE}.*listed twice: LG"):
        read_categories(path)


# --- topics -----------------------------------------------------------------


def test_keyword_and_category_topics_on_a_small_frame(tmp_path: Path, taxonomies) -> None:
    topics = _topics(
        """
[[topic]]
name = "quantum computing"
patterns = ['\\bqubits?\\b', 'quantum circuits?']
categories = ["quant-ph"]

[[topic]]
name = "serving"
patterns = ['\\bLLM serving\\b']
categories = []

[[topic]]
name = "security"
categories = ["cs.CR"]
""",
        tmp_path,
    )
    papers = pl.DataFrame(
        {
            "paper_id": ["p1", "p2", "p3", "p4"],
            "title": ["Routing QUBITS fast", "Fast llm Serving", "Nothing here", None],
            "abstract": [None, "We optimise a quantum circuit.", "Plain text.", "A qubit."],
            "category": ["QUANT-PH", None, "CR", "QUANT-PH"],
        }
    )
    categories = category_table(papers["category"], taxonomies.categories)
    got = paper_topics(papers, categories, topics)
    expected = pl.DataFrame(
        {
            "paper_id": ["p1", "p1", "p2", "p2", "p3", "p4", "p4"],
            "topic": [
                "quantum computing",
                "quantum computing",
                "quantum computing",
                "serving",
                "security",
                "quantum computing",
                "quantum computing",
            ],
            "method": [
                "category",
                "keyword",
                "keyword",
                "keyword",
                "category",
                "category",
                "keyword",
            ],
            "evidence": [
                "quant-ph",
                "QUBITS",
                "quantum circuit",
                "llm Serving",
                "cs.CR",
                "quant-ph",
                "qubit",
            ],
        }
    )
    assert_frame_equal(got, expected)
    # A topic with categories only runs no regex.
    assert topics.filter(pl.col("topic") == "security")["pattern"].to_list() == [None]


def test_sample_papers_get_several_topics_by_both_methods(tables) -> None:
    pt = tables["paper_topics"]
    assert set(pt["method"].unique()) == {"keyword", "category"}
    per_paper = pt.group_by("paper_id").agg(pl.col("topic").n_unique().alias("n"))
    assert per_paper["n"].max() >= 3
    quantum = pt.filter(pl.col("topic") == "quantum computing")
    categorised = tables["papers"].filter(pl.col("category") == "QUANT-PH")["paper_id"]
    assert set(categorised) <= set(quantum.filter(pl.col("method") == "category")["paper_id"])
    # Daily listings and scholar pages print no category; keyword topics still reach them.
    uncategorised = (
        tables["paper_sources"]
        .join(tables["records"], on=["source_file", "record_index"])
        .filter(pl.col("format").is_in(["daily_papers", "scholar_profile"]))["paper_id"]
        .unique()
    )
    tagged = pt.filter(pl.col("paper_id").is_in(uncategorised.implode()))
    assert tagged["paper_id"].n_unique() > 0.8 * uncategorised.len()
    assert set(tagged["method"]) == {"keyword"}


def test_speculative_decoding_papers_are_found(tables) -> None:
    spec = tables["paper_topics"].filter(pl.col("topic") == "speculative decoding")
    titles = tables["papers"].filter(pl.col("paper_id").is_in(spec["paper_id"].implode()))["title"]
    assert titles.str.contains("(?i)speculative decoding").sum() >= 4
    # Nothing about speculation in the title or abstract: no topic.
    ids = tables["papers"].filter(pl.col("title").str.contains("Outlier Node Detection"))
    assert ids.height == 1
    assert spec.filter(pl.col("paper_id") == ids["paper_id"][0]).height == 0


def test_bad_topic_files_are_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / TOPICS_FILE
    path.write_text('[[topic]]\nname = "x"\npatterns = ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(
        PaperlakeError, match=r"topics\.toml: topic\[1\] 'x': pattern 1 '\(unclosed'"
    ):
        read_topics(path)
    path.write_text('[[topic]]\nname = "x"\ncategories = ["cs.NOPE"]\n', encoding="utf-8")
    with pytest.raises(PaperlakeError, match=r"cs\.NOPE"):
        read_topics(path, {"cs.LG"})
    path.write_text('[[topic]]\nname = "x"\npatterns = ["a"]\n' * 2, encoding="utf-8")
    with pytest.raises(PaperlakeError, match="listed twice: x"):
        read_topics(path)


def test_taxonomy_files_in_raw_replace_the_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes((RAW / "000_6f50fbf9dd3610f4.txt").read_bytes())
    (tmp_path / TOPICS_FILE).write_text(
        '[[topic]]\nname = "only"\npatterns = ["gpu"]\n', encoding="utf-8"
    )
    loaded = load_taxonomies(tmp_path)
    assert loaded.topics["topic"].to_list() == ["only"]
    assert loaded.topics_path == tmp_path / TOPICS_FILE
    assert loaded.categories_path == DATA_DIR / CATEGORIES_FILE
    assert len(loaded.notes()) == 1
    # The raw folder's configuration files are not dumps.
    assert {TOPICS_FILE, CATEGORIES_FILE} <= RESERVED
    assert discover_dumps(tmp_path) == [tmp_path / "a.txt"]


# --- co-author network --------------------------------------------------------


def _authorship(rows: list[tuple[str, str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    paper_authors = pl.DataFrame(rows, schema=["paper_id", "author_id"], orient="row")
    authors = paper_authors.select("author_id").unique().sort("author_id")
    return authors, paper_authors


def test_pairs_are_listed_once_with_fractional_weights() -> None:
    _, pa = _authorship(
        [("p1", "c"), ("p1", "a"), ("p1", "b"), ("p2", "b"), ("p2", "a"), ("p3", "d")]
    )
    pairs = coauthor_pairs(pa)
    expected = pl.DataFrame(
        {
            "author_id_a": ["a", "a", "b"],
            "author_id_b": ["b", "c", "c"],
            "n_papers": [2, 1, 1],
            # p1 has three authors: 1/2 per pair; p2 two: 1.
            "fractional_weight": [1.5, 0.5, 0.5],
        }
    )
    assert_frame_equal(pairs, expected)


@settings(max_examples=40, deadline=None)
@given(
    papers=st.lists(st.sets(st.sampled_from("abcdef"), min_size=1, max_size=6), max_size=30),
    seed=st.integers(0, 2**16),
)
def test_pair_weights_do_not_depend_on_row_order(papers: list[set[str]], seed: int) -> None:
    # Few authors, many papers: pairs share one, two or many papers (each count
    # takes its own path in coauthor_pairs).
    rows = [(f"p{i}", x) for i, team in enumerate(papers) for x in sorted(team)]
    _, pa = _authorship(rows)
    pairs = coauthor_pairs(pa)
    assert_frame_equal(pairs, coauthor_pairs(pa.sample(fraction=1.0, shuffle=True, seed=seed)))
    expected: dict[tuple[str, str], list[float]] = {}
    for team in papers:
        for x in team:
            for y in team:
                if x < y:
                    expected.setdefault((x, y), []).append(1 / (len(team) - 1))
    got = {(r[0], r[1]): (r[2], r[3]) for r in pairs.iter_rows()}
    assert set(got) == set(expected)
    for key, terms in expected.items():
        assert got[key][0] == len(terms)
        assert got[key][1] == pytest.approx(math.fsum(terms))


def test_network_measures_components_and_communities() -> None:
    # Two triangles joined by nothing, plus an author who wrote alone.
    rows = [(f"p{t}", x) for t, team in enumerate(["abc", "xyz"]) for x in team]
    rows += [("solo", "s"), ("p9", "a"), ("p9", "b")]
    authors, pa = _authorship(rows)
    net = author_network(authors, pa)
    by = {r["author_id"]: r for r in net.iter_rows(named=True)}
    assert net["author_id"].to_list() == sorted(by)
    assert by["a"]["degree"] == 2 and by["a"]["weighted_degree"] == pytest.approx(2.0)
    assert by["s"]["degree"] == 0 and by["s"]["component_size"] == 1
    # Equal-size components are numbered by their smallest author.
    assert (by["a"]["component_id"], by["x"]["component_id"], by["s"]["component_id"]) == (1, 2, 3)
    assert by["a"]["community_id"] == by["c"]["community_id"] != by["x"]["community_id"]
    # Same input in another row order: the same table.
    again = author_network(authors.reverse(), pa.reverse())
    assert_frame_equal(net, again)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=80),
)
@example(n=6, edges=[(0, 5), (5, 4), (4, 3), (3, 2), (2, 1)])  # a path, 0 then largest first
def test_smallest_member_names_igraph_components(n: int, edges: list[tuple[int, int]]) -> None:
    edges = [(x, y) for x, y in edges if x < n and y < n]
    a = np.array([x for x, _ in edges], dtype=np.int64)
    b = np.array([y for _, y in edges], dtype=np.int64)
    membership = igraph.Graph(n=n, edges=edges).connected_components().membership
    smallest = {}
    for node, c in enumerate(membership):
        smallest.setdefault(c, node)
    assert smallest_member(n, a, b).tolist() == [smallest[c] for c in membership]


def test_sample_network_agrees_with_paper_authors(tables) -> None:
    net, pa = tables["author_network"], tables["paper_authors"]
    assert net.height == tables["authors"].height
    assert net["author_id"].is_unique().all()
    pairs = coauthor_pairs(pa)
    degree = (
        pl.concat([pairs.select(a="author_id_a"), pairs.select(a="author_id_b")])
        .group_by("a")
        .len()
    )
    joined = net.join(degree, left_on="author_id", right_on="a", how="left").fill_null(0)
    assert (joined["degree"] == joined["len"]).all()
    assert net["component_id"].min() == 1
    sizes = net.group_by("component_id").agg(pl.len(), pl.col("component_size").first())
    assert (sizes["len"] == sizes["component_size"]).all()


# --- profiles and determinism -------------------------------------------------


def test_profile_owners_are_found_among_the_authors(tables) -> None:
    owners = tables["profile_owners"]
    assert owners["owner_name"].to_list() == ["Depei Qian", "Yufei Ding", "Qinghao Hu"]
    named = owners.join(tables["authors"], on="author_id", how="left").sort("source_file")
    assert named["name"].to_list() == named["owner_name"].to_list()
    pages = pl.DataFrame(
        {"source_file": ["x.txt", "y.txt"], "owner_name": ["Nobody Here", "Q. Hu"]}
    )
    hu = owners.filter(pl.col("owner_name") == "Qinghao Hu")["author_id"].to_list()
    plain = profile_owners(pages, tables["authors"])
    assert plain["author_id"].to_list() == [None, None]
    # An owner printed under a name the aliases file folds into a person is found.
    same = pl.DataFrame(
        {"canonical": ["Qinghao Hu", "Qinghao Hu"], "name": ["Qinghao Hu", "Q. Hu"]}
    )
    aliased = profile_owners(pages, tables["authors"], same)
    assert aliased["author_id"].to_list() == [None, *hu]


def test_analysis_tables_are_byte_identical_whatever_the_file_order(
    extracted, tables, tmp_path: Path
) -> None:
    names = ["categories", "topics", "paper_topics", "author_network", "profile_owners"]
    reordered, _ = link_tables(combine(list(reversed(extracted))), RAW)
    a = write_tables({n: tables[n] for n in names}, tmp_path / "a")
    b = write_tables({n: reordered[n] for n in names}, tmp_path / "b")
    for name in names:
        assert a[name] == b[name], name
        for file in a[name].files:
            assert (tmp_path / "a" / name / file.name).read_bytes() == (
                tmp_path / "b" / name / file.name
            ).read_bytes(), name


# Words the topic patterns look for, in mixed case, and characters whose case
# folding or lowering is unusual (long s, dotted capital I, Kelvin sign, sharp s).
_TOPIC_WORDS = [
    "KV cache", "kv-Cache", "GNN", "Graph Neural Networks", "training", "LLMs", "Serving",
    "speculative DECODING", "draft tokens", "Mixture-of-Experts", "MoE", "pruning",
    "4-bit", "quantization", "TPU", "accelerator", "prefill", "agents", "RAG", "robot",
    "the", "of", "a", "on", "GPUs", "inference engine", "Language Models", "ſerving",
    "İnference", "\u212aV cache", "STRASSE", "Σ", "é", "naïve", "ſparse", "Sparſity",
]  # fmt: skip
_GLUE = [" ", " ", " ", ". ", ", ", "-", "\n", ""]


@settings(max_examples=60, deadline=None)
@example(["A ſparse model.", "Large Language Models ſerving at scale", "\u212aV cache"])
@given(
    st.lists(
        st.lists(st.tuples(st.sampled_from(_TOPIC_WORDS), st.sampled_from(_GLUE)), max_size=25).map(
            lambda parts: "".join(w + g for w, g in parts)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_fast_keyword_matching_finds_what_the_regex_finds(texts: list[str]) -> None:
    from pipelines.transform.topics import Lowered, keyword_evidence

    topics = topic_table(load_taxonomies(RAW / "no-such-folder").topics)
    column = pl.Series("text", texts)
    lowered = Lowered.of(column)
    for pattern in topics["pattern"].drop_nulls():
        expected = column.str.extract(pattern, 0).str.slice(0, 80)
        assert keyword_evidence(column, pattern, lowered).equals(expected), pattern


@given(st.text(alphabet=st.sampled_from("aZ é$^_{}\\ΣİſK:-1 αrm"), max_size=30))
def test_title_keys_of_a_column_equal_the_title_key_expression(title: str) -> None:
    from pipelines.transform.clean import title_key, title_keys

    column = pl.Series("title", [title, "$\\rm A^2Q$: x", None])
    assert title_keys(column).equals(column.to_frame().select(title_key(pl.col("title")))["title"])
