"""The co-author network: pairs and degrees in Polars, components and communities with igraph.

Two authors are linked when both are printed on one paper. A paper with n
printed authors adds 1/(n-1) to each of its pairs (fractional counting), so
an author's weighted degree is the number of their multi-author papers when
author lists are complete. Pages cut author lists after three names: only
printed names count, so figures for large teams are partial.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import igraph
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
    """Leiden community detection settings (fixed seed: equal input, equal communities)."""

    resolution: float = 1.0
    seed: int = 0
    iterations: int = 2


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
            # Sorted first: a float sum's last bits depend on the order of its terms,
            # and a parallel group-by does not fix that order.
            fractional_weight=(1.0 / (pl.col("n") - 1)).sort().sum(),
        )
        .cast(dict(PAIRS))
        .sort("author_id_a", "author_id_b")
    )


def _numbered(nodes: pl.DataFrame, group: str) -> pl.DataFrame:
    """Number the groups in column ``group`` 1.. by size (largest first), ties by smallest
    member; adds ``{group}_id`` and ``{group}_size``."""
    sizes = nodes.group_by(group).agg(size=pl.len(), first=pl.col("author_id").min())
    ids = sizes.sort(pl.col("size"), pl.col("first"), descending=[True, False]).with_columns(
        id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    )
    return nodes.join(ids.select(group, "id", "size"), on=group).rename(
        {"id": f"{group}_id", "size": f"{group}_size"}
    )


def author_network(
    authors: pl.DataFrame,
    paper_authors: pl.DataFrame,
    params: CommunityParams | None = None,
) -> pl.DataFrame:
    """Graph measures per author: degree, weighted degree, component and community.

    Every author gets a row; an author with no co-author is a component and a
    community of one. Components and communities are numbered from 1, largest
    first, so ids stay the same for the same input. Communities come from
    the Leiden method maximising modularity (igraph, in C: Louvain's successor,
    faster and never leaves a community internally disconnected), fed nodes
    and edges in sorted order with a seeded random generator, which makes them
    deterministic.
    """
    params = params or CommunityParams()
    pairs = coauthor_pairs(paper_authors)
    nodes = (
        authors.select("author_id")
        .unique()
        .sort("author_id")
        .with_row_index("node", offset=0)
        .with_columns(pl.col("node").cast(pl.Int64))
    )
    index = nodes.select("author_id", "node")
    edges = (
        pairs.join(index.rename({"author_id": "author_id_a", "node": "a"}), on="author_id_a")
        .join(index.rename({"author_id": "author_id_b", "node": "b"}), on="author_id_b")
        .sort("a", "b")
    )
    ends = pl.concat(
        [
            edges.select(node="a", w="fractional_weight"),
            edges.select(node="b", w="fractional_weight"),
        ]
    )
    degrees = ends.group_by("node").agg(
        degree=pl.len().cast(pl.Int64), weighted_degree=pl.col("w").sort().sum()
    )

    graph = igraph.Graph(n=nodes.height, edges=edges.select("a", "b").rows(), directed=False)
    components = graph.connected_components().membership
    igraph.set_random_number_generator(random.Random(params.seed))
    try:
        communities = graph.community_leiden(
            objective_function="modularity",
            weights=edges["fractional_weight"].to_list(),
            resolution=params.resolution,
            n_iterations=params.iterations,
        ).membership
    finally:
        igraph.set_random_number_generator(random)
    nodes = nodes.with_columns(
        component=pl.Series(components, dtype=pl.Int64),
        community=pl.Series(communities, dtype=pl.Int64),
    )
    nodes = _numbered(_numbered(nodes, "component"), "community")
    return (
        nodes.join(degrees, on="node", how="left")
        .with_columns(
            pl.col("degree").fill_null(0),
            pl.col("weighted_degree").fill_null(0.0),
        )
        .sort("author_id")
        .select(list(AUTHOR_NETWORK))
        .cast(dict(AUTHOR_NETWORK))
    )
