"""The co-author network: pairs in Polars, graph measures with networkx.

Two authors are linked when both are printed on one paper. A paper with n
printed authors adds 1/(n-1) to each of its pairs (fractional counting), so
an author's weighted degree is the number of their multi-author papers when
author lists are complete. Pages cut author lists after three names: only
printed names count, so figures for large teams are partial.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import polars as pl

PAIRS = pl.Schema(
    {
        "author_id_a": pl.String,
        "author_id_b": pl.String,
        "n_papers": pl.Int64,
        "fractional_weight": pl.Float64,
    }
)

AUTHOR_NETWORK = pl.Schema(
    {
        "author_id": pl.String,
        "degree": pl.Int64,
        "weighted_degree": pl.Float64,
        "component_id": pl.Int64,
        "component_size": pl.Int64,
        "community_id": pl.Int64,
        "community_size": pl.Int64,
    }
)


@dataclass(frozen=True)
class CommunityParams:
    """Louvain community detection settings (fixed seed: equal input, equal communities)."""

    resolution: float = 1.0
    seed: int = 0


def coauthor_pairs(paper_authors: pl.DataFrame) -> pl.DataFrame:
    """Each pair of authors printed on a common paper once, ``author_id_a < author_id_b``.

    ``n_papers`` counts the shared papers; ``fractional_weight`` sums 1/(n-1)
    over them, n being the paper's number of printed authors.
    """
    pa = paper_authors.select("paper_id", "author_id").unique()
    pa = pa.with_columns(n=pl.len().over("paper_id")).filter(pl.col("n") > 1)
    return (
        pa.join(pa.select("paper_id", author_id_b="author_id"), on="paper_id")
        .filter(pl.col("author_id") < pl.col("author_id_b"))
        .group_by(author_id_a="author_id", author_id_b="author_id_b")
        .agg(
            n_papers=pl.len(),
            fractional_weight=(1.0 / (pl.col("n") - 1)).sum(),
        )
        .cast(dict(PAIRS))
        .sort("author_id_a", "author_id_b")
    )


def _numbered(groups: list[set[str]]) -> dict[str, tuple[int, int]]:
    """Number groups 1.. by size (largest first), ties by smallest member: author -> (id, size)."""
    ordered = sorted(groups, key=lambda g: (-len(g), min(g)))
    return {member: (i, len(g)) for i, g in enumerate(ordered, start=1) for member in g}


def author_network(
    authors: pl.DataFrame,
    paper_authors: pl.DataFrame,
    params: CommunityParams | None = None,
) -> pl.DataFrame:
    """Graph measures per author: degree, weighted degree, component and community.

    Every author gets a row; an author with no co-author is a component and a
    community of one. Components and communities are numbered from 1, largest
    first, so ids stay the same for the same input. Communities come from
    Louvain modularity (networkx), seeded and fed nodes and edges in sorted
    order, which makes them deterministic.
    """
    params = params or CommunityParams()
    pairs = coauthor_pairs(paper_authors)
    graph = nx.Graph()
    graph.add_nodes_from(authors["author_id"].sort().to_list())
    graph.add_weighted_edges_from(
        pairs.select("author_id_a", "author_id_b", "fractional_weight").iter_rows()
    )
    components = _numbered(list(nx.connected_components(graph)))
    communities = _numbered(
        nx.community.louvain_communities(
            graph, weight="weight", resolution=params.resolution, seed=params.seed
        )
    )
    nodes = sorted(graph.nodes)
    weighted = dict(graph.degree(weight="weight"))
    return pl.DataFrame(
        {
            "author_id": nodes,
            "degree": [graph.degree(n) for n in nodes],
            "weighted_degree": [float(weighted[n]) for n in nodes],
            "component_id": [components[n][0] for n in nodes],
            "component_size": [components[n][1] for n in nodes],
            "community_id": [communities[n][0] for n in nodes],
            "community_size": [communities[n][1] for n in nodes],
        },
        schema=AUTHOR_NETWORK,
    )
