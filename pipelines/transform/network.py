"""The co-author network: pairs and degrees in Polars, components and communities with igraph.

Two authors are linked when both are printed on one paper. A paper with n
printed authors adds 1/(n-1) to each of its pairs (fractional counting), so
an author's weighted degree is the number of their multi-author papers when
author lists are complete. Pages cut author lists after three names: only
printed names count, so figures for large teams are partial.

Every measure is local, so a refresh recomputes only what a change touches:
a pair's weight reads the papers of its two authors, a degree the pairs of
one author, and communities are found in each connected component on its
own (Leiden, seeded per component), so a component no changed paper touches
keeps its communities. Components and communities are then numbered over the
whole network (largest first), which is a sort of one row per author.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import igraph
import numpy as np
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
# Per author, before numbering: its degrees and the smallest author_id of its
# component and of its community (names that do not move when others change).
NODES = pl.Schema(
    {
        "author_id": pl.String,
        "degree": pl.Int64,
        "weighted_degree": pl.Float64,
        "component": pl.String,
        "community": pl.String,
    }
)

# Components this small are one community each, without running Leiden.
_TRIVIAL_COMPONENT = 2
_SHIFT = 1 << 32


@dataclass(frozen=True)
class CommunityParams:
    """Leiden community detection settings (fixed seed: equal input, equal communities)."""

    resolution: float = 1.0
    seed: int = 0
    iterations: int = 2


def _codes(author_ids: pl.Series) -> pl.DataFrame:
    """(author_id, code): 0.. in author_id order, so codes sort as the ids do."""
    return author_ids.unique().sort().to_frame("author_id").with_row_index("code")


def coauthor_pairs(paper_authors: pl.DataFrame, among: pl.Series | None = None) -> pl.DataFrame:
    """Each pair of authors printed on a common paper once, ``author_id_a < author_id_b``.

    ``n_papers`` counts the shared papers; ``fractional_weight`` sums 1/(n-1)
    over them, n being the paper's number of printed authors. With ``among``,
    only pairs of two of those authors (read from the papers that print two
    of them).
    """
    pa = paper_authors.select("paper_id", "author_id").unique()
    pa = pa.with_columns(n=pl.len().over("paper_id")).filter(pl.col("n") > 1)
    if among is not None:
        pa = pa.filter(pl.col("author_id").is_in(among.implode()))
        pa = pa.filter(pl.len().over("paper_id") > 1)
    codes = _codes(pa["author_id"])
    pa = pa.join(codes, on="author_id").select(
        paper=pl.col("paper_id").rank("dense").cast(pl.UInt32), code="code", n="n"
    )
    terms = (
        pa.join(pa.select("paper", code_b="code"), on="paper")
        .filter(pl.col("code") < pl.col("code_b"))
        .select(
            pair=pl.col("code").cast(pl.UInt64) * _SHIFT + pl.col("code_b"),
            w=1.0 / (pl.col("n") - 1),
        )
        .sort("pair")
    )
    # Grouped on the sorted key: slices, no hashing (most pairs share one paper).
    pairs = terms.group_by("pair", maintain_order=True).agg(
        n_papers=pl.len(), fractional_weight=pl.col("w").sum()
    )
    # A float sum's last bits depend on the order of its terms, which a parallel
    # group-by does not fix: one or two terms sum alike in any order, so only the
    # pairs with three or more papers sum their terms sorted.
    many = terms.join(pairs.filter(pl.col("n_papers") > 2), on="pair", how="semi")
    exact = many.group_by("pair").agg(sorted_sum=pl.col("w").sort().sum())
    pairs = pairs.join(exact, on="pair", how="left", maintain_order="left").select(
        "pair",
        "n_papers",
        fractional_weight=pl.coalesce("sorted_sum", "fractional_weight"),
    )
    ids = codes["author_id"]
    return pairs.select(
        author_id_a=ids.gather(pairs["pair"] // _SHIFT),
        author_id_b=ids.gather(pairs["pair"] % _SHIFT),
        n_papers="n_papers",
        fractional_weight="fractional_weight",
    ).cast(dict(PAIRS))


def smallest_member(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per node 0..n-1, the smallest node of its connected component (edges ``a``-``b``).

    Union by smallest root with full path compression, in numpy: each pass hooks
    every edge's larger root onto its smaller one, so the trees merge pairwise
    and a few passes over the edges do (not one per hop of the longest path).
    igraph would first need a Graph, whose construction from Python integers
    costs more than the components themselves.
    """
    label = np.arange(n, dtype=np.int64)  # a smaller node of the same component
    while True:
        root_a, root_b = label[a], label[b]
        apart = root_a != root_b
        if not apart.any():
            return label
        np.minimum.at(label, np.maximum(root_a, root_b)[apart], np.minimum(root_a, root_b)[apart])
        while not np.array_equal(jumped := label[label], label):
            label = jumped


def _graph(n: int, edges: np.ndarray) -> igraph.Graph:
    """A graph of ``n`` nodes and the (m, 2) array ``edges`` of their codes."""
    graph = igraph.Graph(n=n, directed=False)
    if len(edges):
        # add_edges of an (m, 2) array: faster than the constructor's conversion
        # of the same array, and than pairs of Python ints (4M edges: 6.5 s and
        # 0.28 GB, against 10.3 s and 0.70 GB, and 7.5 s and 0.37 GB).
        graph.add_edges(edges)
    return graph


def network_nodes(
    author_ids: pl.Series,
    pairs: pl.DataFrame | pl.LazyFrame,
    params: CommunityParams | None = None,
) -> pl.DataFrame:
    """NODES of every author in ``author_ids``: degrees, component and community.

    ``pairs`` must hold every co-author pair of those authors (a LazyFrame: only
    the three columns needed are read). Components are connected components,
    named by their smallest author_id. Communities are
    found in each component on its own: nodes in author_id order, edges in
    order, and igraph's random generator seeded afresh, so a component's
    communities depend on that component alone. Leiden maximises modularity
    (igraph, in C: Louvain's successor, never leaves a community internally
    disconnected); a component of one or two authors is one community. A
    community is named by its smallest author_id.
    """
    params = params or CommunityParams()
    codes = _codes(author_ids)
    ids, n = codes["author_id"], codes.height
    # Pairs of authors not in author_ids are left out (null codes).
    code = {"old": ids, "new": codes["code"], "default": None}
    edges = (
        pairs.lazy()
        .select(
            a=pl.col("author_id_a").replace_strict(**code),
            b=pl.col("author_id_b").replace_strict(**code),
            fractional_weight="fractional_weight",
        )
        .drop_nulls(["a", "b"])
        .sort("a", "b")
        .collect()
    )
    # Degrees first, so that the edge frame is gone before the graphs are built.
    degree = (
        pl.concat(
            [
                edges.select(code="a", w="fractional_weight"),
                edges.select(code="b", w="fractional_weight"),
            ]
        )
        .group_by("code")
        .agg(degree=pl.len().cast(pl.Int64), weighted_degree=pl.col("w").sort().sum())
    )
    a, b = edges["a"].to_numpy().astype(np.int64), edges["b"].to_numpy().astype(np.int64)
    w = edges["fractional_weight"].to_numpy().copy()
    del edges
    # Each component is named by its smallest member (codes sort as author ids).
    component = smallest_member(n, a, b)
    community = component.copy()
    sizes = np.bincount(component, minlength=n)
    # Nodes grouped by component (each in code order), and edges the same way.
    node_order = np.lexsort((np.arange(n), component))
    local = np.empty(n, dtype=np.int64)
    group_start = np.searchsorted(component[node_order], component[node_order], "left")
    local[node_order] = np.arange(n) - group_start
    # Edges grouped by component (stable: in order within each), as local codes
    # of one (m, 2) array: each component's edges are a slice of it, not a copy.
    edge_order = np.argsort(component[a], kind="stable")
    edge_component = component[a[edge_order]]
    local_edges = np.column_stack([local[a[edge_order]], local[b[edge_order]]])
    w = w[edge_order]
    del a, b, edge_order
    big = np.unique(component[sizes[component] > _TRIVIAL_COMPONENT])
    node_bounds = np.searchsorted(component[node_order], big, "left")
    edge_lo = np.searchsorted(edge_component, big, "left")
    edge_hi = np.searchsorted(edge_component, big, "right")
    del edge_component
    for c, start, lo, hi in zip(big, node_bounds, edge_lo, edge_hi, strict=True):
        size = int(sizes[c])
        graph = _graph(size, local_edges[lo:hi])
        igraph.set_random_number_generator(random.Random(params.seed))
        try:
            labels = graph.community_leiden(
                objective_function="modularity",
                weights=w[lo:hi],  # an array: no Python float per edge
                resolution=params.resolution,
                n_iterations=params.iterations,
            ).membership
        finally:
            igraph.set_random_number_generator(random)
        members = node_order[start : start + size]  # in code order
        labels = np.asarray(labels, dtype=np.int64)
        smallest = np.full(labels.max() + 1, n, dtype=np.int64)
        np.minimum.at(smallest, labels, members)
        community[members] = smallest[labels]
    nodes = pl.DataFrame(
        {
            "code": np.arange(n, dtype=np.uint32),
            "component": ids.gather(component),
            "community": ids.gather(community),
        }
    ).with_columns(author_id=ids)
    return (
        nodes.join(degree, on="code", how="left")
        .with_columns(pl.col("degree").fill_null(0), pl.col("weighted_degree").fill_null(0.0))
        .sort("author_id")
        .select(list(NODES))
        .cast(dict(NODES))
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


def network_table(nodes: pl.DataFrame) -> pl.DataFrame:
    """``author_network`` from NODES: components and communities numbered 1.. largest first."""
    numbered = _numbered(_numbered(nodes, "component"), "community")
    return numbered.sort("author_id").select(list(AUTHOR_NETWORK)).cast(dict(AUTHOR_NETWORK))


def author_network(
    authors: pl.DataFrame,
    paper_authors: pl.DataFrame,
    params: CommunityParams | None = None,
) -> pl.DataFrame:
    """Graph measures per author: degree, weighted degree, component and community.

    Every author gets a row; an author with no co-author is a component and a
    community of one. Components and communities are numbered from 1, largest
    first, so ids stay the same for the same input.
    """
    pairs = coauthor_pairs(paper_authors)
    return network_table(network_nodes(authors["author_id"], pairs, params))
