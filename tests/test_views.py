"""The analysis views as BI tools and SQL users meet them: the contract's names
and columns, figures that agree with the tables, SQL data tests that catch
broken views, a SQLAlchemy read-only smoke test from another process, the
generated data dictionary, and the co-author exports read back."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import networkx as nx
import polars as pl
import pytest
from conftest import CAPTURE, RAW, ROOT, read_table
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import default_sql_dir
from pipelines.dictionary import dictionary_of
from pipelines.export import nodes_path
from pipelines.publish import run_data_tests
from pipelines.refresh import combine, extract_batch, link_tables, load_and_publish
from pipelines.sources import resolve_dumps
from pipelines.sqlgraph import sql_files
from pipelines.transform.network import coauthor_pairs

runner = CliRunner()

# The contract: these views with at least these columns.
CONTRACT = {
    "papers_by_year": ["year", "n_papers", "n_authors", "n_new_authors", "mean_team_size"],
    "category_year": ["category_id", "category_name", "year", "n_papers", "share_of_year"],
    "topic_year": ["topic", "year", "n_papers", "share_of_year"],
    "author_summary": [
        "author_id",
        "name",
        "n_papers",
        "first_year",
        "last_year",
        "n_coauthors",
        "top_category_id",
        "top_topic",
    ],
    "author_topics": ["author_id", "topic", "n_papers"],
    "coauthor_pairs": [
        "author_id_a",
        "name_a",
        "author_id_b",
        "name_b",
        "n_papers",
        "fractional_weight",
        "first_year",
        "last_year",
    ],
    "coauthor_edges_by_year": ["year", "author_id_a", "author_id_b", "n_papers"],
    "author_network": [
        "author_id",
        "degree",
        "weighted_degree",
        "component_id",
        "component_size",
        "community_id",
    ],
    "profile_summary": ["source_file", "owner_name", "owner_author_id", "owner_n_papers"],
    "paper_topics": ["paper_id", "topic", "method"],
    "categories": ["category_code", "category_id", "category_name", "is_known"],
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, prefect_harness) -> Path:
    """The sample dumps refreshed through the CLI and the Prefect flow."""
    out = tmp_path_factory.mktemp("views")
    result = runner.invoke(
        app, ["refresh", "--raw", str(RAW), "--warehouse", str(out), "--as-of", "2026-11-22"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def con(warehouse: Path):
    connection = duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True)
    yield connection
    connection.close()


def _build(raw: Path, out: Path) -> Path:
    """The refresh stages without Prefect, for hand-made raw folders."""
    dumps, _ = resolve_dumps(raw, CAPTURE)
    tables, _ = link_tables(combine(extract_batch(dumps)), raw)
    database, _ = load_and_publish(tables, out, default_sql_dir())
    return database


def _profile_page(records: list[tuple[str, str, str, str]]) -> str:
    """A profile page (format A) of (category+date, title, authors, abstract) records."""
    header = ["Ana Liu", "", "LG", "h-index3", "9papers", "40citations", "Novelty5%"]
    header += ["AI Score7", "", f"{len(records)} Papers", ""]
    body = []
    for meta, title, authors, abstract in records:
        body += [meta, title, "", authors, "", abstract, ""]
    return "\n".join(header + body)


ABSTRACT = "We study {0} in depth and report what we found across many careful experiments. " * 3


# --- the contract -------------------------------------------------------------


def test_contract_views_exist_with_their_columns(con) -> None:
    columns = con.sql(
        "select table_name, list(column_name) from duckdb_columns() "
        "where database_name = current_database() group by table_name"
    ).fetchall()
    present = dict(columns)
    for view, required in CONTRACT.items():
        assert view in present, view
        assert set(required) <= set(present[view]), (view, set(required) - set(present[view]))
    views = {
        r[0] for r in con.sql("select view_name from duckdb_views() where not internal").fetchall()
    }
    assert set(CONTRACT) <= views


def test_every_view_and_column_has_a_comment(con) -> None:
    rows = con.sql(
        """
        select v.view_name, v.comment, c.column_name, c.comment
        from duckdb_views() v join duckdb_columns() c on c.table_oid = v.view_oid
        where not v.internal
        """
    ).fetchall()
    assert len({r[0] for r in rows}) >= len(CONTRACT) + 8
    assert all(r[1] and r[3] for r in rows), [r for r in rows if not (r[1] and r[3])]


def test_view_definitions_re_parse(con) -> None:
    """Tools show and re-create views from duckdb_views().sql: it must run as printed."""
    for view, sql in con.sql(
        "select view_name, sql from duckdb_views() where not internal"
    ).fetchall():
        body = sql.split(" AS ", 1)[1].rstrip(";")
        rows = con.sql(f"select count(*) from ({body})").fetchone()[0]
        assert rows == con.sql(f"select count(*) from {view}").fetchone()[0], view


def test_sample_answers(con) -> None:
    years = con.sql("select year, n_papers from papers_by_year order by year").fetchall()
    assert [y for y, _ in years] == list(range(2017, 2027))
    assert (
        sum(n for _, n in years)
        == con.sql("select count(*) from papers where year is not null").fetchone()[0]
    )
    lg = con.sql(
        "select sum(n_papers), any_value(category_name) from category_year "
        "where category_id = 'cs.LG'"
    ).fetchone()
    assert lg == (39, "Machine Learning")
    owners = con.sql(
        "select owner_name, owner_author_id is not null, owner_n_papers > 0 "
        "from profile_summary order by source_file"
    ).fetchall()
    assert owners == [
        ("Depei Qian", True, True),
        ("Yufei Ding", True, True),
        ("Qinghao Hu", True, True),
    ]


def test_coauthor_pairs_view_matches_the_python_computation(con, warehouse: Path) -> None:
    """Two independent implementations (SQL view, Polars transform) agree."""
    sql = con.sql(
        "select author_id_a, author_id_b, n_papers, fractional_weight "
        "from coauthor_pairs order by all"
    ).pl()
    polars = coauthor_pairs(read_table(warehouse, "paper_authors"))
    assert sql.height > 100
    assert_frame_equal(sql, polars, check_dtypes=False)
    assert sql.filter(pl.col("author_id_a") >= pl.col("author_id_b")).height == 0


def test_topic_year_adds_up_to_paper_topics(con, warehouse: Path) -> None:
    papers = read_table(warehouse, "papers")
    tagged = (
        read_table(warehouse, "paper_topics")
        .join(papers.select("paper_id", "year"), on="paper_id")
        .filter(pl.col("year").is_not_null())
        .select("paper_id", "topic")
        .unique()
    )
    total = con.sql("select sum(n_papers) from topic_year").fetchone()[0]
    assert total == tagged.height > 0
    n_topics = con.sql("select count(*) from topics").fetchone()[0]
    assert con.sql("select count(*) from topic_year").fetchone()[0] == n_topics * 10


def test_years_without_papers_appear_with_zeros(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    page = _profile_page(
        [
            ("LGMar 3, 2018", "Sparse Kernels Old", "Ana Liu, Bo Chen", ABSTRACT.format("x")),
            ("XYMay 5, 2021Code", "Quantized Things New", "Ana Liu, Cy Dee", ABSTRACT.format("y")),
        ]
    )
    (raw / "page.txt").write_text(page, encoding="utf-8")
    con = duckdb.connect(str(_build(raw, tmp_path / "wh")), read_only=True)
    years = con.sql("select year, n_papers, n_new_authors from papers_by_year").fetchall()
    assert years == [(2018, 1, 2), (2019, 0, 0), (2020, 0, 0), (2021, 1, 1)]
    lg = con.sql(
        "select year, n_papers from category_year where category_id = 'cs.LG' order by year"
    ).fetchall()
    assert lg == [(2018, 1), (2019, 0), (2020, 0), (2021, 0)]
    # An unknown printed code is kept, flagged and counted.
    unknown = con.sql(
        "select category_name, is_known, sum(n_papers) from category_year "
        "where category_id = 'XY' group by all"
    ).fetchall()
    assert unknown == [("XY (unknown code)", False, 1)]
    assert (
        con.sql("select count(*) from topic_year where year = 2020 and n_papers > 0").fetchone()[0]
        == 0
    )
    con.close()


def _readme_examples() -> list[tuple[str, list[list[str]]]]:
    """(SQL, expected rows) of each example question in the README's analysis section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Analysis views", 1)[1].split("\n## ", 1)[0]
    examples = []
    for sql, table in re.findall(r"```sql\n(.*?)```\s*\n((?:[ \t]*\|[^\n]*\n)+)", section, re.S):
        lines = [line.strip() for line in table.strip().splitlines()][2:]  # header, rule
        rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
        examples.append((textwrap.dedent(sql), rows))
    return examples


def test_readme_example_answers_are_real(con) -> None:
    examples = _readme_examples()
    assert len(examples) == 5
    for sql, expected in examples:
        got = [["" if v is None else str(v) for v in row] for row in con.sql(sql).fetchall()]
        assert got == expected, sql


def test_cut_author_lists_are_marked_partial(con) -> None:
    cut = con.sql(
        "select count(*), sum(n_papers_truncated) from coauthor_pairs where n_papers_truncated > 0"
    ).fetchone()
    assert cut[0] > 0
    comment = con.sql(
        "select comment from duckdb_views() where view_name = 'coauthor_pairs'"
    ).fetchone()[0]
    assert "partial" in comment and "printed" in comment


A_FIRST_MART = """-- a_pairs: one row: how many co-author pairs there are. Key: none.
-- Reads: coauthor_pairs.
create or replace view a_pairs as select count(*) as n from coauthor_pairs;
comment on view a_pairs is 'One row: the number of co-author pairs.';
comment on column a_pairs.n is 'Co-author pairs.';
"""


def test_a_mart_may_sort_before_the_mart_it_reads(tmp_path: Path) -> None:
    """A full build creates the marts in the order of what they read, not file order
    (DuckDB binds a view when it is created)."""
    sql = tmp_path / "sql"
    shutil.copytree(default_sql_dir(), sql)
    (sql / "marts" / "a_pairs.sql").write_text(A_FIRST_MART, encoding="utf-8")
    assert sql_files(sql, "marts")[0].stem == "a_pairs"
    dumps, _ = resolve_dumps(RAW, CAPTURE)
    tables, _ = link_tables(combine(extract_batch(dumps)), RAW)
    database, _ = load_and_publish(tables, tmp_path / "wh", sql)
    with duckdb.connect(str(database), read_only=True) as con:
        n = con.sql("select n from a_pairs").fetchone()[0]
        assert n == con.sql("select count(*) from coauthor_pairs").fetchone()[0] > 0


# --- SQL data tests -------------------------------------------------------------


MUTATIONS = {
    # The symmetric view with one direction only (a < b, as coauthor_pairs).
    "coauthors_match_pairs": (
        "coauthors",
        "select * from coauthors_ok where author_id < coauthor_id",
    ),
    # A self-join without the a < b rule lists every pair twice.
    "coauthor_pairs_ordered": (
        "coauthor_pairs",
        "select author_id_b as author_id_a, name_b as name_a, author_id_a as author_id_b, "
        "name_a as name_b, n_papers, fractional_weight, first_year, last_year, "
        "n_papers_truncated from coauthor_pairs_ok "
        "union all select * from coauthor_pairs_ok",
    ),
    # Weighting 1/n instead of 1/(n-1).
    "coauthor_pairs_match_paper_authors": (
        "coauthor_pairs",
        "select author_id_a, name_a, author_id_b, name_b, n_papers, fractional_weight / 2 "
        "as fractional_weight, first_year, last_year, n_papers_truncated from coauthor_pairs_ok",
    ),
    # Counting paper_topics rows instead of distinct papers double-counts a
    # topic assigned by keyword and by category.
    "topic_year_matches_paper_topics": (
        "topic_year",
        "select t.topic, t.year, t.n_papers + coalesce(x.n, 0) as n_papers, t.n_papers_keyword, "
        "t.n_papers_category, t.n_year_papers, t.share_of_year from topic_year_ok t left join "
        "(select pt.topic, p.year, count(*) - count(distinct pt.paper_id) as n "
        "from paper_topics pt join papers p using (paper_id) group by all) x using (topic, year)",
    ),
    # A chart source that skips a year.
    "papers_by_year_matches_papers": (
        "papers_by_year",
        "select * from papers_by_year_ok where year <> 2020",
    ),
    # Shares against all papers instead of categorised ones.
    "category_year_matches_papers": (
        "category_year",
        "select category_id, category_name, archive, is_known, year, n_papers, "
        "n_categorised_papers, share_of_year / 2 as share_of_year from category_year_ok",
    ),
    # A stored count off by one (author_summary, which reads it, follows).
    "author_views_match": (
        "author_activity",
        "select * replace (n_papers + 1 as n_papers) from author_activity_ok",
    ),
}


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_data_tests_catch_a_broken_view(warehouse: Path, tmp_path: Path, rule: str) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse / "paperlake.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        assert run_data_tests(con, default_sql_dir()) == []
        view, broken = MUTATIONS[rule]
        sql = con.sql(f"select sql from duckdb_views() where view_name = '{view}'").fetchone()[0]
        con.execute(sql.replace(f"VIEW {view} ", f"VIEW {view}_ok ", 1))
        con.execute(f"create or replace view {view} as {broken}")
        con.execute(f"comment on view {view} is 'broken on purpose'")
        failed = {f.name for f in run_data_tests(con, default_sql_dir())}
    finally:
        con.close()
    assert rule in failed


@pytest.mark.parametrize(
    "drift",
    [
        "n_papers + 1 as n_papers",
        "coalesce(top_topic, '') || '?' as top_topic",
        "n_coauthors + 1 as n_coauthors",
        "coalesce(community_id, 0) + 1 as community_id",
    ],
)
def test_author_summary_is_checked_against_its_parts(
    warehouse: Path, tmp_path: Path, drift: str
) -> None:
    """author_summary keeps no rows: it is author_activity beside author_network,
    and a column that drifts from either fails its data test."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse / "paperlake.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        sql = con.sql("select sql from duckdb_views() where view_name = 'author_summary'")
        con.execute(sql.fetchone()[0].replace("VIEW author_summary ", "VIEW author_summary_ok ", 1))
        con.execute(
            f"create or replace view author_summary as "
            f"select * replace ({drift}) from author_summary_ok"
        )
        failed = {f.name for f in run_data_tests(con, default_sql_dir())}
    finally:
        con.close()
    assert "author_views_match" in failed


def test_network_table_is_checked_against_pairs(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse / "paperlake.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "update lake.author_network_data set degree = degree + 1 "
            "where author_id = (select min(author_id) from lake.author_network_data)"
        )
        con.execute("comment on column author_summary.name is null")
        failed = {f.name for f in run_data_tests(con, default_sql_dir())}
    finally:
        con.close()
    assert {"author_network_matches_pairs", "views_documented"} <= failed


# --- BI access ------------------------------------------------------------------


def _inspect(database: Path, cwd: Path, plugin: bool) -> dict:
    """What a BI tool (Superset) asks SQLAlchemy, run in another process and directory."""
    url = f"duckdb:///{database}" + ("?plugin=paperlake" if plugin else "")
    script = textwrap.dedent(
        f"""
        import json
        import sqlalchemy as sa
        engine = sa.create_engine({url!r}, connect_args={{"read_only": True}})
        inspector = sa.inspect(engine)
        out = {{"schemas": inspector.get_schema_names(), "tables": inspector.get_table_names(),
               "main_tables": inspector.get_table_names(schema="main"),
               "views": inspector.get_view_names(), "columns": {{}}, "keys": {{}}, "counts": {{}}}}
        with engine.connect() as conn:
            for view in out["views"]:
                try:
                    out["columns"][view] = [
                        [c["name"], c.get("comment")] for c in inspector.get_columns(view)
                    ]
                except Exception as err:
                    out["columns"][view] = repr(err)
                out["keys"][view] = inspector.get_pk_constraint(view)["constrained_columns"]
                rows = conn.execute(sa.text(f'select * from "{{view}}"')).fetchall()
                out["counts"][view] = len(rows)
            try:
                conn.execute(sa.text("create table scratch (a integer)"))
                out["writable"] = True
            except Exception:
                out["writable"] = False
        print(json.dumps(out))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bi_tools_list_each_view_once_with_its_columns_and_comments(
    warehouse: Path, con, tmp_path: Path
) -> None:
    database = (warehouse / "paperlake.duckdb").resolve()
    report = _inspect(database, tmp_path, plugin=True)
    assert report["writable"] is False
    views = report["views"]
    assert set(CONTRACT) <= set(views) and len(views) == len(set(views))
    # Schema main lists views only; no internal table shares a view's name.
    assert report["main_tables"] == []
    assert not set(report["tables"]) & set(views)
    assert {"paperlake.main", "paperlake.lake", "paperlake.materialized"} <= set(report["schemas"])
    for view in views:
        expected = con.execute(
            "select column_name, comment from duckdb_columns() "
            "where table_name = ? and schema_name = 'main' order by column_index",
            [view],
        ).fetchall()
        # One entry per column, in order, each with its comment.
        assert report["columns"][view] == [list(c) for c in expected], view
        assert all(comment for _, comment in report["columns"][view]), view
        assert report["keys"][view] == []
    for view in CONTRACT:
        assert report["counts"][view] > 0, view


def test_without_the_plugin_duckdb_engine_cannot_list_columns(warehouse: Path, tmp_path: Path):
    """Why pipelines/bi.py exists: if this starts to pass, the pinned duckdb-engine was
    fixed and the plugin can go."""
    report = _inspect((warehouse / "paperlake.duckdb").resolve(), tmp_path, plugin=False)
    assert all("pg_collation" in str(c) for c in report["columns"].values())
    assert report["keys"]["papers"] == []  # keys work without it: the file defines regclass


def test_data_dictionary_is_current(warehouse: Path) -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    generated = dictionary_of(warehouse / "paperlake.duckdb", default_sql_dir())
    assert generated == committed, (
        "docs/data-dictionary.md is out of date: run "
        "`paperlake refresh && paperlake dictionary --output docs/data-dictionary.md`"
    )
    for view in CONTRACT:
        assert f"### {view}\n" in generated
    result = runner.invoke(app, ["dictionary", "--warehouse", str(warehouse)])
    assert result.exit_code == 0 and result.output == generated


# --- exports ----------------------------------------------------------------------


def _export(warehouse: Path, fmt: str, output: Path):
    result = runner.invoke(
        app,
        [
            "export",
            "coauthors",
            "--format",
            fmt,
            "--warehouse",
            str(warehouse),
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    return output


def test_graphml_export_reads_back(con, warehouse: Path, tmp_path: Path) -> None:
    graph = nx.read_graphml(_export(warehouse, "graphml", tmp_path / "co.graphml"))
    n_authors = con.sql("select count(*) from authors").fetchone()[0]
    pairs = con.sql(
        "select author_id_a, author_id_b, n_papers, name_a from coauthor_pairs "
        "order by n_papers desc, author_id_a limit 1"
    ).fetchone()
    assert graph.number_of_nodes() == n_authors
    assert graph.number_of_edges() == con.sql("select count(*) from coauthor_pairs").fetchone()[0]
    assert graph.edges[pairs[0], pairs[1]]["weight"] == pairs[2]
    assert graph.nodes[pairs[0]]["label"] == pairs[3]


def test_csv_export_reads_back(con, warehouse: Path, tmp_path: Path) -> None:
    edges = pl.read_csv(_export(warehouse, "csv", tmp_path / "co.csv"))
    nodes = pl.read_csv(nodes_path(tmp_path / "co.csv"))
    assert edges.columns[:4] == ["Source", "Target", "Type", "Weight"]
    assert nodes.columns[:2] == ["Id", "Label"]
    assert edges.height == con.sql("select count(*) from coauthor_pairs").fetchone()[0]
    assert (edges["Source"] < edges["Target"]).all()
    assert set(edges["Source"]) | set(edges["Target"]) <= set(nodes["Id"])


def test_vosviewer_export_reads_back(con, warehouse: Path, tmp_path: Path) -> None:
    doc = json.loads(_export(warehouse, "vosviewer-json", tmp_path / "co.json").read_text())
    items, links = doc["network"]["items"], doc["network"]["links"]
    ids = {item["id"] for item in items}
    assert len(ids) == len(items) == con.sql("select count(*) from authors").fetchone()[0]
    assert len(links) == con.sql("select count(*) from coauthor_pairs").fetchone()[0]
    assert all(link["source_id"] in ids and link["target_id"] in ids for link in links)
    assert all(1 <= item["cluster"] <= 1000 for item in items if "cluster" in item)
    # Total link strength is the sum of the item's link strengths.
    first = items[0]
    strength = sum(
        link["strength"] for link in links if first["id"] in (link["source_id"], link["target_id"])
    )
    assert first["weights"]["Total link strength"] == strength
    assert {"Links", "Documents"} <= set(first["weights"])


def test_export_errors_are_one_line(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["export", "coauthors", "--warehouse", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "paperlake refresh" in missing.output
    bad = runner.invoke(app, ["export", "coauthors", "--format", "pajek"])
    assert bad.exit_code == 2 and "vosviewer-json" in bad.output
    assert "Traceback" not in missing.output + bad.output
