"""The report in a real browser: Debian's chromium, headless, driven by
Playwright, with the network off. The page must load from file:// without a
single other request, log no console error, draw every chart with a size,
and show the DuckDB file's own figures (in its text and in the charts' marks).

CI installs chromium (`.ci/run`); there a missing browser fails the test
instead of skipping it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT
from typer.testing import CliRunner

from pipelines.cli import app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags a headless run in a container needs, and no phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS = {"lines", "years", "topics", "categories", "authors", "network", "degrees", "merges"}


@pytest.fixture(scope="module")
def chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for this test")
    pytest.skip("needs Debian's chromium: apt-get install -y chromium")


def _figures(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """What the overview and network counts must say, formatted as the page prints them."""
    row = con.sql(
        """
        select (select count(*) from sources) as n_files,
               (select sum(n_lines) from sources) as n_lines,
               (select count(*) from records) as n_records,
               (select count(*) from papers) as n_papers,
               (select count(*) from authors) as n_authors,
               (select count(*) from coauthor_pairs) as n_coauthor_pairs,
               (select sum(n_rejected_lines) from sources) as n_rejected_lines,
               (select count(*) from sources where format is null) as n_quarantined_files,
               (select count(*) from paper_matches where decision = 'review') as n_review_pairs,
               (select count(*) from author_network where degree > 0) as n_connected,
               (select count(distinct component_id) from author_network where degree > 0)
                   as n_components,
               (select max(component_size) from author_network) as largest_component,
               (select max(degree) from author_network) as max_degree,
               (select count(*) from papers where n_records > 1) as n_merged_papers
        """
    )
    return {name: f"{value:,}" for name, value in zip(row.columns, row.fetchone(), strict=True)}


def _marks(page, chart: str) -> list[dict[str, str]]:
    """The data marks of a chart, from the aria-label Vega writes on each ("a: 1; b: x")."""
    labels = page.eval_on_selector_all(
        f'figure[data-chart="{chart}"] svg path[role="graphics-symbol"][aria-label]',
        "els => els.map(e => e.getAttribute('aria-label'))",
    )
    marks = []
    for label in labels:
        fields = dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)
        marks.append(fields)
    return marks


def test_report_opens_offline_in_chromium_with_the_databases_figures(
    chromium: str, look_warehouse: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--warehouse", str(look_warehouse), "--output", str(report)]
    )
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(look_warehouse / "paperlake.duckdb"), read_only=True) as con:
        expected = _figures(con)
        years = dict(con.sql("select year, n_papers from papers_by_year").fetchall())
        topics = {
            (t, y): n
            for t, y, n in con.sql("select topic, year, n_papers from topic_year").fetchall()
        }
        degrees = dict(
            con.sql(
                "select a.name, n.degree from author_network n join authors a using (author_id)"
            ).fetchall()
        )
        review_ids = {
            row[0]
            for row in con.sql(
                "select substr(md5(record_id_a || ' ' || record_id_b), 1, 10) "
                "from paper_matches where decision = 'review'"
            ).fetchall()
        }
        reasons = {row[0] for row in con.sql("select distinct reason from rejects").fetchall()}

    requests, blocked, problems = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})

            def only_files(route) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            context.route("**/*", only_files)
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.goto(report.as_uri(), wait_until="load")

            # Every chart drawn, with a size.
            sizes = page.eval_on_selector_all(
                "figure.chart",
                """els => els.map(f => {
                    const svg = f.querySelector('svg');
                    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                    return [f.dataset.chart, box.width, box.height,
                            svg ? svg.querySelectorAll('path, line, text').length : 0];
                })""",
            )
            shown = {name: page.inner_text(f'[data-figure="{name}"]') for name in expected}
            year_marks = {int(m["year"]): int(m["papers"]) for m in _marks(page, "years")}
            topic_marks = {
                (m["topic"], int(m["year"])): int(m["papers"]) for m in _marks(page, "topics")
            }
            dots = page.eval_on_selector_all(
                'figure[data-chart="network"] svg path[aria-roledescription="circle"]',
                "els => els.map(e => e.getAttribute('aria-label'))",
            )
            pairs = set(
                page.eval_on_selector_all("article.pair", "els => els.map(e => e.dataset.pair)")
            )
            reason_cells = set(
                page.eval_on_selector_all(
                    "#reasons td:first-child", "els => els.map(e => e.textContent)"
                )
            )
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert blocked == [] and requests == [report.as_uri()]
    assert problems == []
    assert {name for name, *_ in sizes} == CHARTS
    for name, width, height, n_drawn in sizes:
        assert width > 100 and height > 100, name
        assert n_drawn > 0, name
    assert shown == expected
    assert year_marks == years
    assert topic_marks and all(topics[key] == n for key, n in topic_marks.items())
    assert len(dots) == min(int(expected["n_connected"].replace(",", "")), 250)
    for label in dots:
        name, degree = re.fullmatch(r"(.*): (\d+) co-authors, \d+ papers", label).groups()
        assert degrees[name] == int(degree)
    assert pairs == review_ids and len(pairs) == 2
    assert reason_cells == reasons
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_readme_shows_a_screenshot_of_the_report() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", readme)
    assert "docs/report.png" in shots
    for shot in shots:
        assert (ROOT / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot


def test_ci_installs_chromium_for_the_browser_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "command -v chromium" in ci and "apt-get install -y -qq chromium" in ci
