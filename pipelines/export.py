"""Export the co-author network for network tools: GraphML (Gephi, Cytoscape,
networkx), CSV edge and node lists (Gephi's spreadsheet import) and VOSviewer's
JSON map format.

The network is read from the published DuckDB file (views ``author_summary``
and ``coauthor_pairs``), so an export shows exactly what SQL users see. The
renderers are pure: frames in, text out; the CLI writes the result.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import polars as pl

from pipelines.look.database import reading

FORMATS = ("graphml", "csv", "vosviewer-json")

# VOSviewer numbers clusters 1..1000; larger community ids get no cluster.
VOSVIEWER_MAX_CLUSTER = 1000


def read_coauthor_network(database: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(nodes, edges) of the co-author network in a published DuckDB file.

    Nodes are all authors, sorted by author_id; edges are the co-author pairs,
    sorted, each once.
    """
    with reading(database) as con:
        nodes = con.sql(
            """
            select author_id, name, n_papers, n_coauthors, coauthor_strength,
                   first_year, last_year, top_topic, component_id, community_id
            from author_summary order by author_id
            """
        ).pl()
        edges = con.sql(
            """
            select author_id_a, author_id_b, name_a, name_b, n_papers, fractional_weight,
                   first_year, last_year, n_papers_truncated
            from coauthor_pairs order by author_id_a, author_id_b
            """
        ).pl()
    return nodes, edges


def to_graphml(nodes: pl.DataFrame, edges: pl.DataFrame) -> str:
    """GraphML with node ``label`` = name and edge ``weight`` = shared papers."""
    graph = nx.Graph()
    for row in nodes.iter_rows(named=True):
        attrs = {"label": row.pop("name"), **row}
        attrs.pop("author_id")
        # GraphML has no null: an unknown year or topic is left out.
        graph.add_node(row["author_id"], **{k: v for k, v in attrs.items() if v is not None})
    for row in edges.iter_rows(named=True):
        attrs = {
            "weight": row["n_papers"],
            "fractional_weight": row["fractional_weight"],
            "first_year": row["first_year"],
            "last_year": row["last_year"],
            "n_papers_truncated": row["n_papers_truncated"],
        }
        graph.add_edge(
            row["author_id_a"],
            row["author_id_b"],
            **{k: v for k, v in attrs.items() if v is not None},
        )
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue().decode("utf-8")


def to_csv_edges(edges: pl.DataFrame) -> str:
    """Edge list with Gephi's column names: Source, Target, Type, Weight (+ attributes)."""
    return edges.select(
        Source="author_id_a",
        Target="author_id_b",
        Type=pl.lit("Undirected"),
        Weight="n_papers",
        source_name="name_a",
        target_name="name_b",
        fractional_weight="fractional_weight",
        first_year="first_year",
        last_year="last_year",
        n_papers_truncated="n_papers_truncated",
    ).write_csv()


def to_csv_nodes(nodes: pl.DataFrame) -> str:
    """Node list with Gephi's column names: Id, Label (+ attributes)."""
    others = [c for c in nodes.columns if c not in ("author_id", "name")]
    return nodes.select(
        pl.col("author_id").alias("Id"), pl.col("name").alias("Label"), *others
    ).write_csv()


def nodes_path(edges_path: Path) -> Path:
    """Where the node list of a CSV export goes: ``coauthors.csv`` -> ``coauthors.nodes.csv``."""
    return edges_path.with_name(f"{edges_path.stem}.nodes{edges_path.suffix or '.csv'}")


def to_vosviewer(nodes: pl.DataFrame, edges: pl.DataFrame) -> str:
    """VOSviewer JSON map: {"network": {"items": [...], "links": [...], "clusters": [...]}}.

    Items are numbered 1..n in author_id order; weights are Links (co-authors),
    Total link strength (sum of the author's link strengths) and Documents
    (papers); the cluster is the co-author community. Link strength is the
    number of shared papers.
    """
    item_ids = {author: i for i, author in enumerate(nodes["author_id"].to_list(), start=1)}
    strength = (
        pl.concat(
            [
                edges.select(author_id="author_id_a", s="n_papers"),
                edges.select(author_id="author_id_b", s="n_papers"),
            ]
        )
        .group_by("author_id")
        .agg(pl.col("s").sum())
    )
    strengths = dict(strength.iter_rows())
    items = []
    for row in nodes.iter_rows(named=True):
        item = {
            "id": item_ids[row["author_id"]],
            "label": row["name"],
            "description": row["author_id"],
            "weights": {
                "Links": row["n_coauthors"],
                "Total link strength": strengths.get(row["author_id"], 0),
                "Documents": row["n_papers"],
            },
        }
        if row["community_id"] is not None and row["community_id"] <= VOSVIEWER_MAX_CLUSTER:
            item["cluster"] = row["community_id"]
        if row["first_year"] is not None:
            item["scores"] = {"First year": row["first_year"], "Last year": row["last_year"]}
        items.append(item)
    links = [
        {
            "source_id": item_ids[row["author_id_a"]],
            "target_id": item_ids[row["author_id_b"]],
            "strength": row["n_papers"],
        }
        for row in edges.iter_rows(named=True)
    ]
    clusters = sorted({item["cluster"] for item in items if "cluster" in item})
    document = {
        "network": {
            "items": items,
            "links": links,
            "clusters": [{"cluster": c, "label": f"Community {c}"} for c in clusters],
        }
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
