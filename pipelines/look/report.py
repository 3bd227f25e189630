"""The warehouse report: one self-contained HTML file with charts, built from the
published DuckDB file (not to be confused with ``pipelines.report``, the run
report of one refresh).

Everything is inlined (styles, static SVG charts), and a Content Security
Policy forbids the page any fetch, so it opens from disk with the network off.
Figures are aggregated in SQL (``figures``, ``network``), lists that grow
with the warehouse are capped, and the page says what it left out. A refresh
writes one beside each version's DuckDB file (``write_version_report``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from pipelines import __version__
from pipelines.load import write_text
from pipelines.look import figures, network, review
from pipelines.look.database import DATABASE, build_of, reading

REPORT = "report.html"
MAX_REVIEW_PAIRS = 200
VIEWS = tuple(sorted({*figures.VIEWS, *review.VIEWS, "author_network", "coauthor_pairs"}))

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}"


def _lines(start: int | None, end: int | None) -> str:
    if start is None:
        return "(empty file)"
    return f"line {start}" if start == end else f"lines {start}-{end}"


_TEMPLATES.filters["num"] = _number
_TEMPLATES.filters["lines"] = _lines


@dataclass(frozen=True)
class Built:
    """A written report: where, how large, how long it took."""

    path: Path
    n_bytes: int
    seconds: float


def render(database: Path) -> str:
    """The report of ``database`` as one HTML document.

    It depends only on the file and its build record (no clock, no path), so a
    version's report is the same bytes whether a refresh or ``paperlake
    report`` wrote it.
    """
    # Altair and vl-convert take about a second to import: only when a report
    # is made, not in every process that imports the refresh stages.
    from pipelines.look import charts

    build = build_of(database)
    with reading(database, VIEWS) as con:
        counts = figures.overview(con)
        formats = figures.formats(con)
        quarantine = figures.quarantine(con)
        years = figures.years(con)
        topics = figures.topic_years(con)
        categories = figures.category_years(con)
        top = figures.top_authors(con)
        merges = figures.merges(con)
        net = network.figures(con)
        buckets = network.degree_buckets(con)
        drawn = network.drawing(con)
        pairs = review.review_pairs(con, limit=MAX_REVIEW_PAIRS)
        n_pairs = review.count_review_pairs(con)
    chosen = {
        "lines": charts.line_accounting(formats),
        "years": charts.papers_per_year(years) if years.height else None,
        "topics": (
            charts.heatmap(topics.grid, "Papers per topic and year", "topic")
            if topics.grid.height
            else None
        ),
        "categories": (
            charts.heatmap(categories.grid, "Papers per arXiv category and year", "category")
            if categories.grid.height
            else None
        ),
        "authors": (
            charts.heatmap(
                top.grid.rename({"name": "key"}), "Papers per year of the top authors", "author"
            )
            if top.grid.height
            else None
        ),
        "network": (
            charts.network(drawn.nodes, drawn.edges, "Co-author network: largest components")
            if drawn.nodes.height
            else None
        ),
        "degrees": charts.degree_distribution(buckets),
        "merges": charts.records_per_paper(merges.by_size) if merges.by_size.height else None,
    }
    # Inserted unescaped (|safe in the template): vl-convert's SVG escapes every
    # text it draws, and names and titles come from dumps.
    svgs = {name: charts.to_svg(chart, name) for name, chart in chosen.items() if chart is not None}
    template = _TEMPLATES.get_template("report.html.j2")
    return template.render(
        build=build,
        paperlake_version=__version__,
        counts=counts,
        formats=formats.to_dicts(),
        quarantine=quarantine,
        reasons=quarantine.reasons.to_dicts(),
        samples=quarantine.samples.to_dicts(),
        years=years.to_dicts(),
        topics=topics,
        categories=categories,
        top=top,
        top_authors=top.table.to_dicts(),
        merges=merges,
        net=net,
        drawn=drawn,
        pairs=pairs.to_dicts(),
        n_pairs=n_pairs,
        svgs=svgs,
        limits={
            "reasons": figures.MAX_REASONS,
            "samples": figures.SAMPLES_PER_REASON,
            "topics": figures.MAX_TOPICS,
            "categories": figures.MAX_CATEGORIES,
            "authors": figures.MAX_TOP_AUTHORS,
            "nodes": network.MAX_NODES,
            "edges": network.MAX_EDGES,
            "components": network.MAX_COMPONENTS,
            "labels": network.N_LABELS,
            "pairs": MAX_REVIEW_PAIRS,
            "growth_years": figures.GROWTH_YEARS,
        },
    )


def write_report(database: Path, output: Path) -> Built:
    """Build the report of ``database`` and write it to ``output`` atomically."""
    started = time.perf_counter()
    html = render(database)
    write_text(html, output)
    return Built(output, len(html.encode("utf-8")), time.perf_counter() - started)


def write_version_report(version_dir: Path) -> Built:
    """The report of a built version, beside its DuckDB file (``<version>/report.html``).

    Called on the staging folder once the data tests passed, so every
    published version carries its report.
    """
    return write_report(version_dir / DATABASE, version_dir / REPORT)


def report_beside(database: Path) -> Path | None:
    """The report written beside the real file behind ``database``, if there is one."""
    path = Path(os.path.realpath(database)).parent / REPORT
    return path if path.is_file() else None


def markdown_link(database: Path) -> str:
    """A Markdown section linking the published version's report (for the flow's artifact)."""
    path = report_beside(database)
    if path is None:
        return ""
    return (
        "\n## Warehouse report\n\n"
        f"[{path.name}]({path.as_uri()}) (`{path}`): charts of papers, topics and "
        "categories by year, the co-author network, the review queue and the quarantine; "
        "one file that opens offline.\n"
    )
