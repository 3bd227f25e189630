"""Looking at the published warehouse through the CLI: `paperlake report`,
`author`, `review` (answers written to raw/overrides.toml, then honoured by a
refresh) and `rejects`, each checked against the DuckDB file's views.
(The report in a real browser: tests/test_report_browser.py.)"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import duckdb
import pytest
from conftest import write_look_dumps
from typer.testing import CliRunner

from pipelines.cli import EXIT_FAILED, EXIT_USAGE, app
from pipelines.look import network, review
from pipelines.look.database import reading
from pipelines.look.report import render

runner = CliRunner()


def _run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def _one_line_error(result) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def con(look_warehouse: Path):
    connection = duckdb.connect(str(look_warehouse / "paperlake.duckdb"), read_only=True)
    yield connection
    connection.close()


# --- report ---------------------------------------------------------------------


def test_report_command_writes_the_versions_report(look_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = _run("report", "--warehouse", str(look_warehouse), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "kB" in result.output
    # The refresh wrote the same report beside the version's DuckDB file, and
    # gave it a stable name like the other published files.
    published = look_warehouse / "report.html"
    assert published.is_symlink() and os.readlink(published) == "current/report.html"
    assert out.read_bytes() == published.read_bytes()
    html = out.read_text(encoding="utf-8")
    # Self-contained: nothing to fetch, no script, and the page may fetch nothing.
    assert "default-src 'none'" in html
    assert not re.search(r"<script|<link|<img|<iframe|\ssrc=|url\((?!#)", html)
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))
    # Text from the dumps is escaped.
    assert "&lt;b&gt;there&lt;/b&gt;" in html and "<b>there</b>" not in html
    assert html.count('<figure class="chart"') == 8


def test_the_flows_report_artifact_links_the_versions_report(
    look_warehouse: Path, prefect_harness: str
) -> None:
    import httpx

    from pipelines.flows import REPORT_KEY

    report = Path(os.path.realpath(look_warehouse / "report.html"))
    assert report.parent.name == "1" and report.is_file()  # versions/1/report.html
    artifacts = httpx.post(
        f"{prefect_harness}/artifacts/filter",
        json={"artifacts": {"key": {"any_": [REPORT_KEY]}}},
        timeout=30,
    ).json()
    linked = [a["data"] for a in artifacts if f"]({report.as_uri()})" in (a.get("data") or "")]
    assert len(linked) == 1 and "## Warehouse report" in linked[0]


def test_report_draws_a_capped_connected_core_and_says_so(
    look_warehouse: Path, monkeypatch
) -> None:
    monkeypatch.setattr(network, "MAX_NODES", 12)
    monkeypatch.setattr(network, "CANDIDATES", 48)
    monkeypatch.setattr(network, "MAX_EDGES", 12)
    monkeypatch.setattr(network, "KAMADA_KAWAI_MAX", 5)  # the layout of large parts
    database = look_warehouse / "paperlake.duckdb"
    with reading(database) as con:
        drawn = network.drawing(con)
        again = network.drawing(con)
        largest = con.sql(
            "select max(component_size) from author_network where component_id = 1"
        ).fetchone()[0]
    assert largest > 12
    assert drawn.nodes.height == 12 and drawn.cut_component == 1
    assert set(drawn.nodes["component_id"]) == {1}
    assert drawn.nodes.equals(again.nodes) and drawn.edges.equals(again.edges)  # same picture
    assert drawn.edges.height == 12 < drawn.n_pairs_between_drawn
    # Every drawn author has a line: the core hangs together.
    ends = set(zip(drawn.edges["x"], drawn.edges["y"], strict=True))
    ends |= set(zip(drawn.edges["x2"], drawn.edges["y2"], strict=True))
    assert set(zip(drawn.nodes["x"], drawn.nodes["y"], strict=True)) <= ends
    html = render(database)
    assert "Left out of the drawing" in html
    assert "component 1 alone has more authors than the 12 drawn" in html
    assert f"Drawn: 12 of {drawn.n_authors_connected:,} authors" in html


def test_report_errors_are_one_line(look_warehouse: Path, tmp_path: Path) -> None:
    missing = _run("report", "--warehouse", str(tmp_path / "nothing"))
    assert missing.exit_code == EXIT_FAILED
    assert "paperlake refresh" in _one_line_error(missing)
    no_folder = _run(
        "report", "--warehouse", str(look_warehouse), "--output", str(tmp_path / "no" / "r.html")
    )
    assert no_folder.exit_code == EXIT_USAGE
    assert "does not exist" in _one_line_error(no_folder)
    folder = _run("report", "--warehouse", str(look_warehouse), "--output", str(tmp_path))
    assert folder.exit_code == EXIT_USAGE and "is a folder" in _one_line_error(folder)


# --- author and the symmetric view ------------------------------------------------


def test_coauthors_view_lists_every_pair_both_ways(con) -> None:
    n_pairs = con.sql("select count(*) from coauthor_pairs").fetchone()[0]
    assert con.sql("select count(*) from coauthors").fetchone()[0] == 2 * n_pairs > 0
    unmatched = con.sql(
        """
        select count(*) from coauthors c
        left join coauthors r on r.author_id = c.coauthor_id and r.coauthor_id = c.author_id
        where r.author_id is null or r.n_papers <> c.n_papers
        """
    ).fetchone()[0]
    assert unmatched == 0


def test_author_page_agrees_with_the_views(look_warehouse: Path, con) -> None:
    result = _run("author", "Zhihao Jia", "--warehouse", str(look_warehouse), "--json")
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    author_id = page["author"]["author_id"]
    summary = con.execute(
        "select name, n_papers, n_coauthors from author_summary where author_id = ?", [author_id]
    ).fetchone()
    assert (page["author"]["name"], page["author"]["n_papers"]) == summary[:2]
    assert page["found_by"] == "folded"
    assert len(page["papers"]) == summary[1]
    assert sum(y["papers"] for y in page["papers_by_year"]) == summary[1]
    # Co-authors from both sides of coauthor_pairs: smaller and larger ids.
    expected = dict(
        con.execute(
            """
            select case when author_id_a = $id then author_id_b else author_id_a end, n_papers
            from coauthor_pairs where $id in (author_id_a, author_id_b)
            """,
            {"id": author_id},
        ).fetchall()
    )
    listed = {c["coauthor_id"]: c["n_papers"] for c in page["coauthors"]}
    assert listed == expected and len(listed) == summary[2]
    assert any(a < author_id for a in listed) and any(a > author_id for a in listed)
    topics = dict(
        con.execute(
            "select topic, n_papers from author_topics where author_id = ?", [author_id]
        ).fetchall()
    )
    assert {t["topic"]: t["n_papers"] for t in page["topics"]} == topics
    assert page["categories"] and all(
        c["category_id"].startswith("cs.") for c in page["categories"]
    )


def test_author_names_are_looked_up_forgivingly(look_warehouse: Path) -> None:
    wh = ("--warehouse", str(look_warehouse))
    family_first = _run("author", "JIA, Zhihao", *wh)
    assert family_first.exit_code == 0 and family_first.output.startswith("Zhihao Jia ")
    typo = _run("author", "Zhihao Jai", *wh)
    assert typo.exit_code == 0 and "found by fuzzy match" in typo.output
    initials = _run("author", "Q. Hu", *wh)
    assert initials.exit_code == 0 and initials.output.startswith("Qinghao Hu ")
    # The scholar page 004 names Qinghao Hu as its owner.
    assert "Profile page 004_3fe40d5a5f467540.txt (scholar_profile)" in " ".join(
        initials.output.split()
    )
    partial = _run("author", "Zhihao", *wh)
    assert partial.exit_code == EXIT_FAILED
    line = _one_line_error(partial)
    assert "close names:" in line and "Zhihao Jia (13 papers)" in line and "Zhihao Zhang" in line
    nobody = _run("author", "Quentin Zyxwvut", *wh)
    assert nobody.exit_code == EXIT_FAILED and "no name is close" in _one_line_error(nobody)


def test_author_refuses_a_warehouse_without_the_view(look_warehouse: Path, tmp_path: Path) -> None:
    shutil.copy(look_warehouse / "paperlake.duckdb", tmp_path / "paperlake.duckdb")
    with duckdb.connect(str(tmp_path / "paperlake.duckdb")) as writable:
        writable.execute("drop view coauthors")
    result = _run("author", "Zhihao Jia", "--warehouse", str(tmp_path))
    assert result.exit_code == EXIT_FAILED
    assert "no view coauthors" in _one_line_error(result)


# --- rejects ----------------------------------------------------------------------


def test_rejects_prints_each_quarantined_run(look_warehouse: Path, con) -> None:
    runs = con.sql("select source_file, line_start, line_end, reason from rejects").fetchall()
    assert [r[0] for r in runs] == ["notes.txt"]
    result = _run("rejects", "--warehouse", str(look_warehouse))
    assert result.exit_code == 0, result.output
    file, start, end, reason = runs[0]
    assert f"{file}:{start}-{end}: {reason} (whole file)" in result.output
    assert "    | nothing to see\n    | here | <b>there</b>\n" in result.output
    assert "1 run, 2 lines quarantined in 1 file:" in result.output
    for name in ("notes.txt", "some/raw/notes.txt"):
        one = _run("rejects", name, "--warehouse", str(look_warehouse))
        assert one.exit_code == 0 and "quarantined in notes.txt" in one.output
    clean = _run("rejects", "a.txt", "--warehouse", str(look_warehouse))
    assert clean.exit_code == 0 and clean.output == "No line was quarantined in a.txt.\n"
    unknown = _run("rejects", "zz.txt", "--warehouse", str(look_warehouse))
    assert unknown.exit_code == EXIT_FAILED
    assert "not an input file" in _one_line_error(unknown)


# --- review: answer, refresh, honoured ------------------------------------------------

OVERRIDES = """\
# Decisions a person made; paperlake review adds to them.
[[apart]]   # numbered parts are different papers
titles = ["Scaling Laws, Part I", "Scaling Laws, Part II"]
"""


def _refresh(raw: Path, warehouse: Path) -> None:
    result = _run(
        "refresh", "--raw", str(raw), "--warehouse", str(warehouse), "--as-of", "2026-11-22"
    )
    assert result.exit_code == 0, result.output


def _listed(raw: Path, warehouse: Path) -> list[dict[str, str]]:
    result = _run("review", "--list", "--warehouse", str(warehouse), "--raw", str(raw))
    assert result.exit_code == 0, result.output
    header, *rows = result.output.rstrip("\n").split("\n")
    return [dict(zip(header.split("\t"), row.split("\t"), strict=True)) for row in rows]


def _decision(warehouse: Path, a: str, b: str) -> tuple[str, str]:
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        return con.execute(
            "select decision, rule from paper_matches where record_id_a = ? and record_id_b = ?",
            [a, b],
        ).fetchone()


def test_review_answers_go_to_overrides_and_the_next_refresh_honours_them(
    tmp_path: Path, prefect_harness
) -> None:
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse"
    write_look_dumps(raw)
    (raw / "overrides.toml").write_text(OVERRIDES, encoding="utf-8")
    _refresh(raw, warehouse)
    pairs = {(p["record_a"], p["record_b"]): p for p in _listed(raw, warehouse)}
    memory, kernels = pairs[("a.txt#0", "b.txt#0")], pairs[("a.txt#1", "b.txt#1")]
    assert set(pairs) == {("a.txt#0", "b.txt#0"), ("a.txt#1", "b.txt#1")}
    assert float(memory["score"]) > float(kernels["score"])  # most similar first
    assert _decision(warehouse, "a.txt#0", "b.txt#0")[0] == "review"
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        n_papers = con.sql("select count(*) from papers").fetchone()[0]

    wh = ("--warehouse", str(warehouse), "--raw", str(raw))
    # Interactive: a wrong key is asked again; "y" answers the first pair; the
    # input then ends, which quits (nothing waits on a closed stdin).
    first = _run("review", *wh, input="maybe\ny\n")
    assert first.exit_code == 0, first.output
    assert "Answer y, n, s or q, not 'maybe'" in first.output
    assert "Efficient Memory Management for LLM Training" in first.output  # side by side
    assert "Wrote 1 answer to" in first.output
    # For scripts: answer by id; an unknown id or a contradiction is refused.
    apart = _run("review", *wh, "--apart", kernels["pair"])
    assert apart.exit_code == 0 and "Wrote 1 answer" in apart.output
    again = _run("review", *wh, "--apart", kernels["pair"])
    assert again.exit_code == 0 and "Wrote 0 answers" in again.output
    contradiction = _run("review", *wh, "--same", kernels["pair"])
    assert contradiction.exit_code == EXIT_FAILED
    assert "already answered" in _one_line_error(contradiction)
    unknown = _run("review", *wh, "--same", "0123456789")
    assert unknown.exit_code == EXIT_USAGE and "review --list" in _one_line_error(unknown)

    text = (raw / "overrides.toml").read_text(encoding="utf-8")
    assert text.startswith(OVERRIDES)  # existing entries and comments kept as they were
    data = tomllib.loads(text)
    assert data["merge"] == [{"records": ["a.txt#0", "b.txt#0"]}]
    assert data["apart"][1:] == [{"records": ["a.txt#1", "b.txt#1"]}]
    assert f"# paperlake review {memory['pair']}: same paper:" in text
    listed = {p["pair"]: p["answer"] for p in _listed(raw, warehouse)}
    assert listed == {
        memory["pair"]: "merge (next refresh)",
        kernels["pair"]: "apart (next refresh)",
    }
    nothing_left = _run("review", *wh, input="")
    assert nothing_left.exit_code == 0 and "all answered" in nothing_left.output

    _refresh(raw, warehouse)
    assert _decision(warehouse, "a.txt#0", "b.txt#0") == ("merged", "override: force merge")
    assert _decision(warehouse, "a.txt#1", "b.txt#1") == ("apart", "override: force apart")
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from papers").fetchone()[0] == n_papers - 1
        merged = con.sql(
            "select p.n_records from papers p join paper_sources s using (paper_id) "
            "where s.record_id = 'a.txt#0'"
        ).fetchone()[0]
    assert merged == 2
    assert _listed(raw, warehouse) == []


def test_the_reports_review_pairs_are_the_head_of_the_full_list(con) -> None:
    # The report cuts the pairs before it joins their records: the same pairs,
    # in the same order, as the head of the whole list `review --list` reads.
    every = review.review_pairs(con)
    assert every.height == review.count_review_pairs(con) == 2
    assert review.review_pairs(con, limit=1).equals(every.head(1))
    assert every["title_a"].to_list() == [
        "Efficient Memory Management for LLM Serving",
        "Sparse Attention Kernels for Long Context Models",
    ]


def test_review_usage_errors_are_one_line(look_warehouse: Path, tmp_path: Path) -> None:
    wh = ("--warehouse", str(look_warehouse))
    no_raw = _run("review", *wh, "--raw", str(tmp_path / "none"), "--list")
    assert no_raw.exit_code == EXIT_USAGE and "raw folder" in _one_line_error(no_raw)
    both = _run("review", *wh, "--raw", str(tmp_path), "--same", "x", "--apart", "x")
    assert both.exit_code == EXIT_USAGE and "--same and --apart" in _one_line_error(both)
    (tmp_path / "overrides.toml").write_text("[[merge]]\nrecords = 3\n", encoding="utf-8")
    bad = _run("review", *wh, "--raw", str(tmp_path), "--list")
    assert bad.exit_code == EXIT_FAILED and "overrides.toml" in _one_line_error(bad)
