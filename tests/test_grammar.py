"""The parsers' grammar against data, not samples: arXiv's taxonomy and real names.

Category codes: every arXiv category (listed below from arXiv's own taxonomy,
independently of the shipped table) in every form the pages print resolves,
and makes a record head. Names: a corpus of real names from Faker's locales
and their printed variants (``name_corpus``) reads as names, lists of them
split off glued titles, and page furniture does not read as names.
"""

from __future__ import annotations

import polars as pl
import pytest
from name_corpus import (
    faker_names,
    inner_capital,
    malformed,
    name_variants,
    printed_names,
    starts_with_capitals,
)

from pipelines.extract.names import (
    ARTICLES,
    CLEAR_AUTHOR_LIST,
    ELIDED,
    GLUED_TITLE_AUTHORS,
    NAME,
    NAMES_LINE,
    PARTICLES,
    SUFFIXES,
    glued_split,
    split_author_line,
)
from pipelines.extract.patterns import CATEGORY_ONLY, META
from pipelines.taxonomy import printed_forms, shipped_categories
from pipelines.transform.topics import category_table


# arXiv's active categories (arxiv-base, arxiv/taxonomy/definitions.py).
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ARXIV_CATEGORIES = _words(
    """
astro-ph.CO astro-ph.EP astro-ph.GA astro-ph.HE astro-ph.IM astro-ph.SR cond-mat.dis-nn
cond-mat.mes-hall cond-mat.mtrl-sci cond-mat.other cond-mat.quant-gas cond-mat.soft
cond-mat.stat-mech cond-mat.str-el cond-mat.supr-con cs.AI cs.AR cs.CC cs.CE cs.CG cs.CL cs.CR
cs.CV cs.CY cs.DB cs.DC cs.DL cs.DM cs.DS cs.ET cs.FL cs.GL cs.GR cs.GT cs.HC cs.IR cs.IT
cs.LG cs.LO cs.MA cs.MM cs.MS cs.NA cs.NE cs.NI cs.OH cs.OS cs.PF cs.PL cs.RO cs.SC cs.SD
cs.SE cs.SI cs.SY econ.EM econ.GN econ.TH eess.AS eess.IV eess.SP eess.SY gr-qc hep-ex
hep-lat hep-ph hep-th math-ph math.AC math.AG math.AP math.AT math.CA math.CO math.CT
math.CV math.DG math.DS math.FA math.GM math.GN math.GR math.GT math.HO math.IT math.KT
math.LO math.MG math.MP math.NA math.NT math.OA math.OC math.PR math.QA math.RA math.RT
math.SG math.SP math.ST nlin.AO nlin.CD nlin.CG nlin.PS nlin.SI nucl-ex nucl-th
physics.acc-ph physics.ao-ph physics.app-ph physics.atm-clus physics.atom-ph physics.bio-ph
physics.chem-ph physics.class-ph physics.comp-ph physics.data-an physics.ed-ph
physics.flu-dyn physics.gen-ph physics.geo-ph physics.hist-ph physics.ins-det physics.med-ph
physics.optics physics.plasm-ph physics.pop-ph physics.soc-ph physics.space-ph q-bio.BM
q-bio.CB q-bio.GN q-bio.MN q-bio.NC q-bio.OT q-bio.PE q-bio.QM q-bio.SC q-bio.TO q-fin.CP
q-fin.EC q-fin.GN q-fin.MF q-fin.PM q-fin.PR q-fin.RM q-fin.ST q-fin.TR quant-ph stat.AP
stat.CO stat.ME stat.ML stat.OT stat.TH
"""
)
# Old archives arXiv folded into a category; old papers print them.
SUBSUMED = {
    "acc-phys": "physics.acc-ph",
    "adap-org": "nlin.AO",
    "alg-geom": "math.AG",
    "ao-sci": "physics.ao-ph",
    "bayes-an": "physics.data-an",
    "chao-dyn": "nlin.CD",
    "cmp-lg": "cs.CL",
    "comp-gas": "nlin.CG",
    "dg-ga": "math.DG",
    "funct-an": "math.FA",
    "mtrl-th": "cond-mat.mtrl-sci",
    "patt-sol": "nlin.PS",
    "q-alg": "math.QA",
    "solv-int": "nlin.SI",
}
# arXiv files these under another id (CATEGORY_ALIASES); the table reads
# math.ST as stat.TH, the way it reads the bare ST.
ALIASES = {
    "cs.NA": "math.NA",
    "cs.SY": "eess.SY",
    "math.IT": "cs.IT",
    "math.MP": "math-ph",
    "q-fin.EC": "econ.GN",
    "math.ST": "stat.TH",
}


def test_every_arxiv_category_resolves_in_every_printed_form() -> None:
    assert len(ARXIV_CATEGORIES) == 155
    taxonomy = shipped_categories()
    printed = [c.upper() for c in ARXIV_CATEGORIES] + list(ARXIV_CATEGORIES)
    printed += [old.upper() for old in SUBSUMED]
    table = category_table(pl.Series(printed), taxonomy)
    ids = dict(zip(table["category_code"], table["category_id"], strict=True))
    known = dict(zip(table["category_code"], table["is_known"], strict=True))
    for category in ARXIV_CATEGORIES:
        want = ALIASES.get(category, category)
        for form in (category.upper(), category):
            assert known[form], form
            assert ids[form] == want, (form, ids[form])
    for old, now in SUBSUMED.items():
        assert ids[old.upper()] == now, old


def test_printed_forms_cover_the_taxonomy() -> None:
    forms = printed_forms(shipped_categories())
    by_id = forms.group_by("category_id").agg("printed")
    printed = dict(zip(by_id["category_id"], by_id["printed"].to_list(), strict=True))
    assert {"MATH.AP", "math.AP", "AP"} <= set(printed["math.AP"])
    assert {"COND-MAT.STAT-MECH", "STAT-MECH"} <= set(printed["cond-mat.stat-mech"])
    assert {"LG", "CS.LG"} <= set(printed["cs.LG"])
    assert "HEP-TH" in printed["hep-th"]
    assert set(ARXIV_CATEGORIES) - set(ALIASES) <= set(printed)


def test_every_printed_form_heads_a_record_and_a_header() -> None:
    forms = printed_forms(shipped_categories())["printed"]
    heads = (forms + "Jan 3, 1998Code").str.extract_groups(META)
    assert heads.struct.field("category").to_list() == forms.to_list()
    assert heads.struct.field("date_text").to_list() == ["Jan 3, 1998"] * forms.len()
    assert forms.str.contains(CATEGORY_ONLY).all()


@pytest.mark.parametrize("code", ["XYZ", "NEW-ARCH.AB", "PHYSICS.NEW-TOPIC", "Q-BIO.ZZ", "A1"])
def test_unknown_codes_of_the_printed_shape_head_records(code: str) -> None:
    head = pl.Series([f"{code}May 18"]).str.extract_groups(META)
    assert head.struct.field("category")[0] == code
    table = category_table(pl.Series([code]), shipped_categories())
    assert not table.filter(pl.col("category_code") == code)["is_known"][0]


@pytest.mark.parametrize("line", ["Depei Qian", "Load more papersMay 18", "LGMay 18th", "lgMay 18"])
def test_lines_that_are_no_record_heads(line: str) -> None:
    assert not pl.Series([line]).str.contains(META)[0]


# --- names ----------------------------------------------------------------------


def test_the_corpus_is_wide() -> None:
    locales = {locale for locale, _, _ in faker_names()}
    assert len(locales) >= 80
    scripts = {
        "Latin": r"[A-Za-z]",
        "Cyrillic": r"\p{Cyrillic}",
        "Greek": r"\p{Greek}",
        "Arabic": r"\p{Arabic}",
        "Hebrew": r"\p{Hebrew}",
        "Devanagari": r"\p{Devanagari}",
        "Han": r"\p{Han}",
        "Hangul": r"\p{Hangul}",
        "Thai": r"\p{Thai}",
        "Georgian": r"\p{Georgian}",
    }
    names = pl.Series(printed_names())
    for script, rx in scripts.items():
        assert names.str.contains(rx).sum() >= 10, script
    assert len(printed_names()) >= 2000
    # Few entries are set aside as malformed, each for a stated reason.
    distinct = {f"{given} {family}" for _, given, family in faker_names()}
    assert len(distinct) - len(printed_names()) < 0.01 * len(distinct)


def test_every_corpus_name_reads_as_a_name() -> None:
    names = pl.Series(printed_names() + name_variants())
    assert names.str.contains(NAMES_LINE).all(), names.filter(~names.str.contains(NAMES_LINE))
    # The strict grammar (the one that finds glue points) takes every name but
    # those with a capital inside a word past the known prefixes ("McKenzie"
    # yes, "SimphiweyiNkosi" no): such a word looks like a glue point.
    camel = pl.Series([inner_capital(n) for n in names])
    assert 0 < camel.sum() < 0.005 * names.len()
    strict = names.filter(~camel).str.contains(f"^{NAME}$")
    assert strict.all(), names.filter(~camel).filter(~strict).head(20).to_list()


def test_names_of_every_shape() -> None:
    shapes = [
        "Kay Liu",
        "Jean-Luc Godard",
        "Min-jun Kim",
        "George H. Chen",
        "J.-P. Sartre",
        "J Smith",
        "JP Morgan",
        "ZHANG Wei",
        "Wei ZHANG",
        "María GARCÍA LÓPEZ",
        "Shaquille O'Neal",
        "Gerard 't Hooft",
        "Yann LeCun",
        "Ludwig van Beethoven",
        "Ludwig Van Beethoven",
        "Corrie ten Boom",
        "Jean d'Alembert",
        "Omar al-Farsi",
        "Ibn Sina",
        "Martin Luther King Jr.",
        "John Smith III",
        "Sukarno",
        "王秀英",
        "김민준",
        "ქეთო კუბლაშვილი",
        "उमा श्रेष्\u200dठ",
    ]
    for name in shapes:
        assert pl.Series([name]).str.contains(f"^{NAME}$")[0], name
    line = ", ".join(shapes) + " et al. · uw"
    names, truncated, orgs = split_author_line(pl.lit(line))
    got = pl.select(names=names, truncated=truncated, orgs=orgs).row(0, named=True)
    assert got == {"names": shapes, "truncated": True, "orgs": ["uw"]}


def test_suffix_after_a_comma_and_and_separators() -> None:
    names, _, _ = split_author_line(pl.lit("Martin Luther King, Jr., Ana Wu and Kay Liu & Bo Li"))
    assert pl.select(names).item().to_list() == [
        "Martin Luther King Jr.",
        "Ana Wu",
        "Kay Liu",
        "Bo Li",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Load more papers",
        "Show more",
        "14 Papers",
        "h-index22",
        "see the appendix for all proofs",
        "Accepted at NeurIPS 2024",
        "We propose a method.",
    ],
)
def test_furniture_and_sentences_are_no_author_list(line: str) -> None:
    assert not pl.Series([line]).str.contains(NAMES_LINE)[0]


def test_vocabulary_follows_nameparser() -> None:
    from nameparser.config import particles, suffixes

    latin = {p for p in particles.PARTICLES if p.isascii() or p in {"dí", "ní", "ó"}}
    ours = set(PARTICLES) | {f"{e}'" for e in ELIDED} | {f"{a}-" for a in ARTICLES}
    # Every Latin-script particle nameparser knows is one of ours (as a word,
    # an elided prefix or a hyphenated article).
    missing = {p for p in latin if p not in ours and p.replace("’", "'") not in ours}
    assert not missing, sorted(missing)
    assert {s.lower() for s in SUFFIXES} <= set(suffixes.SUFFIX_WORDS)
    # And every particle the first grammar knew.
    first = _words("van von der den de del della di da du dos das le la bin ibn al ter ten")
    assert set(first) <= set(PARTICLES)


def test_an_unknown_short_particle_still_reads_as_a_name_line() -> None:
    assert pl.Series(["Ana zur Linde, Kay Liu"]).str.contains(NAMES_LINE)[0]


def test_a_lower_case_name_reads_as_a_name_in_a_list() -> None:
    lines = pl.Series(["danah boyd, Kay Liu", "Kay Liu, danah boyd et al.", "danah boyd"])
    assert lines.str.contains(NAMES_LINE).to_list() == [True, True, False]


def _glued(titles: list[str], lists: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"title": titles, "authors": lists}).with_columns(
        line=pl.col("title") + pl.col("authors")
    )
    title, authors, ambiguous = glued_split(pl.col("line").str.extract_groups(GLUED_TITLE_AUTHORS))
    return frame.with_columns(got_title=title, got_authors=authors, ambiguous=ambiguous)


TITLES = [
    "BOND: Benchmarking Unsupervised Outlier Node Detection on Static Attributed Graphs",
    "Vortex: Efficient and Programmable Sparse Attention Serving for AI Agents",
    "On the Stability of Rotating Stars",
    "LightSeq2.0",
    "Sparse Attention for Long-Context LLM",
    "Quantum Error Correction with Surface Codes on 2D Lattices",
    "Über die Theorie der Zahlen",
    "Non-Abelian Anyons in Fractional Quantum Hall States",
]


def test_glued_lists_of_corpus_names_split_at_the_glue() -> None:
    names = list(printed_names() + name_variants())
    titles, lists = [], []
    for i in range(len(names)):
        group = [names[(i + k * 97) % len(names)] for k in range(1 + i % 4)]
        titles.append(TITLES[i % len(TITLES)])
        lists.append(", ".join(group) + (" et al." if i % 3 == 0 else ""))
    got = _glued(titles, lists)
    caps_meet = got["title"].str.contains(r"\p{Lu}$") & pl.Series(
        [starts_with_capitals(a) for a in lists]
    )
    camel = pl.Series([inner_capital(a) for a in lists])
    # A name the strict grammar cannot take may be cut, but never the title.
    odd = got.filter(camel & ~caps_meet)
    assert odd.height > 0
    assert all(
        t is None or t.startswith(title)
        for t, title in zip(odd["got_title"], odd["title"], strict=True)
    )
    clear = got.filter(~caps_meet & ~camel)
    assert (clear["got_title"] == clear["title"]).all(), clear.filter(
        clear["got_title"] != clear["title"]
    ).head(5)
    assert (clear["got_authors"] == clear["authors"]).all()
    assert not clear["ambiguous"].any()
    # A title's closing capitals meeting a name's opening ones ("LLMJP Morgan")
    # show no glue point: the split is a guess, and says so.
    assert caps_meet.sum() > 0
    assert got.filter(caps_meet)["ambiguous"].all()


def test_a_clear_author_list_is_no_title() -> None:
    lines = pl.Series(["Kay Liu, Yue Zhao et al.", "Deep Learning", "Kay Liu · pku", "Ana Wu"])
    assert lines.str.contains(CLEAR_AUTHOR_LIST).to_list() == [True, True, True, True]
    from pipelines.extract.names import is_clear_author_list

    assert pl.select(is_clear_author_list(pl.lit(lines))).to_series().to_list() == [
        True,
        False,
        True,
        False,
    ]


def test_malformed_rule_catches_data_errors_only() -> None:
    assert malformed("Tahir  Cuvarlı") and malformed("Feliks žagar")
    assert malformed("COmfort Agyei") and malformed("Ana, Wu")
    assert malformed("Ludwig van Beethoven") is None and malformed("王秀英") is None


def test_a_glued_list_never_starts_with_a_particle() -> None:
    # The real first name ("danah boyd") is outside the strict grammar; the
    # "y" ending "Kay" must not pass for a particle starting a name ("y Liu").
    got = _glued(["Big Graphs for Real"], ["danah boyd, Kay Liu"])
    assert got["got_title"][0] is None
