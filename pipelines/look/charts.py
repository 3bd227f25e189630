"""The report's charts: Vega-Lite specs built with Altair, rendered to static SVG
by vl-convert (Vega's own renderer in an embedded JavaScript engine, no browser).

Static SVG keeps the report a plain file: no script runs when it opens and
nothing is fetched, so it opens the same from disk, a mail attachment or a
CI artefact, offline; it stays small (no 1-4 MB JavaScript bundle inside),
and the same figures give the same bytes. Vega writes an ``aria-label`` with
the figures of every bar, cell and node, which screen readers read and the
browser test compares with the DuckDB file.

Data goes in as inline values (``_values``), already aggregated in SQL.
"""

from __future__ import annotations

import re

import altair as alt
import polars as pl
import vl_convert

WIDTH = 640
ROW_HEIGHT = 16
SCHEME = "blues"
EMPTY_CELL = "#f3f3f3"
# Colours of the line roles, in the order they stack.
LINE_ROLES = {
    "record lines": "#4c78a8",
    "furniture lines": "#bab0ac",
    "rejected lines": "#e45756",
}


_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^)"]+)')


def to_svg(chart: alt.TopLevelMixin, name: str) -> str:
    """The chart as an SVG document (a string starting with ``<svg``).

    Vega numbers the ids it defines (gradients) with a counter that lives as
    long as the process, so a second chart or report would get other ids: they
    are renamed ``<name>-0``, ``<name>-1``, ... in order, which keeps them
    unique in the page and the bytes the same on every run.
    """
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    local = {old: f"{name}-{i}" for i, old in enumerate(dict.fromkeys(_ID.findall(svg)))}
    svg = _ID.sub(lambda m: f'id="{local[m[1]]}"', svg)
    return _REFERENCE.sub(lambda m: m[1] + local.get(m[2], m[2]), svg)


def _values(df: pl.DataFrame) -> dict[str, list[dict]]:
    """The rows as inline data: a plain dict, which Altair moves to the spec's
    top-level ``datasets`` and validates with it. An ``alt.Data`` object is
    converted and validated row by row in Python when it is made and again
    when the spec is written: most of a chart's cost at a thousand rows, for
    the same SVG."""
    return {"values": df.to_dicts()}


def line_accounting(formats: pl.DataFrame) -> alt.Chart:
    """Lines per format, stacked by what became of them."""
    long = (
        formats.select("format", "record_lines", "furniture_lines", "rejected_lines")
        .unpivot(
            index="format",
            on=["record_lines", "furniture_lines", "rejected_lines"],
            variable_name="role",
            value_name="lines",
        )
        .with_columns(pl.col("role").str.replace("_", " "))
    )
    return (
        alt.Chart(_values(long), title="Input lines by format and what became of them")
        .mark_bar()
        .encode(
            y=alt.Y("format:N", title=None),
            x=alt.X("lines:Q", title="lines", stack="zero", axis=alt.Axis(tickCount=8)),
            color=alt.Color(
                "role:N",
                title=None,
                scale=alt.Scale(domain=list(LINE_ROLES), range=list(LINE_ROLES.values())),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("role_order:Q"),
        )
        .transform_calculate(
            role_order="indexof(['record lines', 'furniture lines', 'rejected lines'], datum.role)"
        )
        .properties(width=WIDTH, height=max(ROW_HEIGHT * 2 * formats.height, 40))
    )


def papers_per_year(years: pl.DataFrame) -> alt.Chart:
    """Papers per year, every year from the first to the last."""
    return (
        alt.Chart(_values(years.select("year", "n_papers")), title="Papers per year")
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("year:O", title="year"),
            y=alt.Y("n_papers:Q", title="papers"),
        )
        .properties(width=WIDTH, height=220)
    )


def heatmap(grid: pl.DataFrame, title: str, key_title: str) -> alt.Chart:
    """A (key, year) grid as coloured cells, keys ordered by their total, largest first."""
    order = (
        grid.group_by("key")
        .agg(total=pl.col("n_papers").sum())
        .sort(["total", "key"], descending=[True, False])["key"]
        .to_list()
    )
    n_years = max(grid["year"].n_unique(), 1)
    return (
        alt.Chart(_values(grid.select("key", "year", "n_papers")), title=title)
        .mark_rect()
        .encode(
            x=alt.X("year:O", title="year"),
            y=alt.Y("key:N", title=key_title, sort=order),
            # Empty cells stay pale grey: zero must not look like "a few".
            color=alt.condition(
                "datum.n_papers == 0",
                alt.value(EMPTY_CELL),
                alt.Color("n_papers:Q", title="papers", scale=alt.Scale(scheme=SCHEME)),
            ),
        )
        .properties(width=min(WIDTH, 34 * n_years), height=ROW_HEIGHT * max(len(order), 1))
    )


def degree_distribution(buckets: pl.DataFrame) -> alt.Chart:
    """Authors by number of co-authors."""
    return (
        alt.Chart(_values(buckets), title="Authors by number of distinct co-authors")
        .mark_bar(color="#72b7b2")
        .encode(
            x=alt.X("degree:O", title="co-authors", sort=buckets["degree"].to_list()),
            y=alt.Y("authors:Q", title="authors"),
        )
        .properties(width=WIDTH // 2 + 80, height=200)
    )


def records_per_paper(by_size: pl.DataFrame) -> alt.Chart:
    """Papers by the number of records linked into them (symlog scale: most have one)."""
    return (
        alt.Chart(_values(by_size), title="Papers by records linked into them")
        .mark_bar(color="#f58518")
        .encode(
            x=alt.X("n_records:O", title="records"),
            y=alt.Y("papers:Q", title="papers (symlog scale)", scale=alt.Scale(type="symlog")),
        )
        .properties(width=WIDTH // 2, height=200)
    )


def network(nodes: pl.DataFrame, edges: pl.DataFrame, title: str) -> alt.LayerChart:
    """The drawn co-author network: pairs as lines, authors as dots coloured by community."""
    size = 600
    x = alt.X("x:Q", axis=None, scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(zero=False, nice=False))
    lines = (
        alt.Chart(_values(edges))
        # One line per pair: no aria label each (the figures are in the text).
        .mark_rule(color="#999999", opacity=0.35, aria=False)
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            strokeWidth=alt.StrokeWidth("n_papers:Q", scale=alt.Scale(range=[0.5, 3]), legend=None),
        )
    )
    communities = [c for c in nodes["community"].unique(maintain_order=True).to_list()]
    named = sorted(c for c in communities if c != "other communities")
    domain = named + (["other communities"] if "other communities" in communities else [])
    palette = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2"]
    palette += ["#eeca3b", "#b279a2", "#ff9da6", "#9d755d"]
    colours = palette[: len(named)] + (["#cccccc"] if len(domain) > len(named) else [])
    dots = (
        alt.Chart(
            _values(
                nodes.select(
                    "x",
                    "y",
                    "degree",
                    "community",
                    about=pl.format("{}: {} co-authors, {} papers", "name", "degree", "n_papers"),
                )
            )
        )
        .mark_circle(opacity=0.9, stroke="white", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            size=alt.Size("degree:Q", title="co-authors", scale=alt.Scale(range=[15, 220])),
            color=alt.Color(
                "community:N",
                title="community",
                scale=alt.Scale(domain=domain, range=colours),
                legend=alt.Legend(orient="right", labelLimit=260),
            ),
            # The dot's aria-label: who, and the figures behind its size.
            description=alt.Description("about:N"),
        )
    )
    labels = (
        alt.Chart(_values(nodes.filter(pl.col("label").is_not_null()).select("x", "y", "label")))
        .mark_text(fontSize=10, dy=-9, color="#222222")
        .encode(x=x, y=y, text="label:N")
    )
    return alt.layer(lines, dots, labels, title=title).properties(width=size, height=size)
