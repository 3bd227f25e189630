"""The co-author network as the report draws it: which authors, and where.

A drawing stays readable (and the report small) only up to a few hundred
authors. The report draws the largest components that fit in ``MAX_NODES``,
whole, in order of size. When the largest alone is larger, only it is drawn,
cut to a connected core: starting from its best-connected author, the
best-connected neighbour of the authors drawn so far is added until
``MAX_NODES`` (among its ``CANDIDATES`` best-connected authors), so every
drawn author hangs on the drawing by a real pair. Lines: each drawn author's
strongest pair, then the strongest other pairs, up to ``MAX_EDGES``. What was
left out is counted (``Drawing``) so the report can say so.

igraph computes the layout from a fixed start (the same warehouse gives the
same picture), with every pair between drawn authors as a spring; each
connected part is laid out alone and the parts are packed in rows, largest
first.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

import duckdb
import igraph as ig
import numpy as np
import polars as pl

from pipelines.look.database import frame, scalar

MAX_NODES = 250
MAX_EDGES = 1200
MAX_COMPONENTS = 40
CANDIDATES = 4 * MAX_NODES
N_LABELS = 20
N_COLOURED_COMMUNITIES = 9
LAYOUT_ITERATIONS = 500
KAMADA_KAWAI_MAX = 150
LAYOUT_SEED = 0
# A name closer than this share of the drawing's width and height to a name
# already placed is not drawn.
LABEL_GAP = (0.09, 0.03)
PAIR_SCHEMA = {"author_id_a": pl.String, "author_id_b": pl.String, "n_papers": pl.Int64}
EDGE_SCHEMA = {"x": pl.Float64, "y": pl.Float64, "x2": pl.Float64, "y2": pl.Float64}
EDGE_SCHEMA |= {"n_papers": pl.Int64}


@dataclass(frozen=True)
class Drawing:
    """The drawn part of the network and how much of the whole it is."""

    nodes: pl.DataFrame  # author_id, name, degree, n_papers, component_id, community, x, y, label
    edges: pl.DataFrame  # x, y, x2, y2, n_papers
    n_authors_connected: int  # authors with at least one co-author
    n_pairs: int
    n_components_drawn: int
    n_components: int  # components of two or more authors
    cut_component: int | None  # the component drawn only in part, if any
    n_pairs_between_drawn: int  # pairs among the drawn authors (not all may be drawn)


def figures(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Size and degree figures of the whole network, computed in SQL."""
    row = frame(
        con,
        """
        select count(*) as n_authors,
               count(*) filter (where degree > 0) as n_connected,
               count(*) filter (where degree = 0) as n_isolated,
               count(distinct component_id) filter (where degree > 0) as n_components,
               count(distinct community_id) filter (where degree > 0) as n_communities,
               max(component_size) filter (where degree > 0) as largest_component,
               coalesce(avg(degree), 0) as mean_degree,
               coalesce(max(degree), 0) as max_degree
        from author_network
        """,
    ).row(0, named=True)
    row["n_pairs"] = scalar(con, "select count(*) from coauthor_pairs")
    row["max_degree_name"] = scalar(
        con,
        """
        select a.name from author_network n join authors a using (author_id)
        order by n.degree desc, a.author_id limit 1
        """,
    )
    return row


# Degree buckets of the degree chart: exact up to 5, then wider; zeros filled
# up to the widest bucket anyone is in.
DEGREE_BUCKETS_SQL = """
with buckets(degree, low, high) as (
    values ('0', 0, 0), ('1', 1, 1), ('2', 2, 2), ('3', 3, 3), ('4', 4, 4), ('5', 5, 5),
           ('6-9', 6, 9), ('10-19', 10, 19), ('20-49', 20, 49), ('50-99', 50, 99),
           ('100+', 100, null)
),
counted as (
    select b.degree, b.low, count(n.author_id)::bigint as authors
    from buckets b
    left join author_network n on n.degree >= b.low and (b.high is null or n.degree <= b.high)
    group by b.degree, b.low
)
select degree, authors from counted
where low <= (select coalesce(max(degree), 0) from author_network)
order by low
"""


def degree_buckets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Authors per number of co-authors (bucketed), zeros included."""
    return frame(con, DEGREE_BUCKETS_SQL)


# The authors drawn whole: those of the largest components that fit in
# MAX_NODES together, or of the largest component alone when even it does not
# fit (then cut by ``_core``).
_WHOLE_COMPONENTS_SQL = """
with components as (
    select component_id, any_value(component_size) as size
    from author_network where degree > 0
    group by component_id
),
running as (
    select component_id, sum(size) over (order by component_id) as running
    from components
),
chosen as (
    select component_id from running
    where running <= $max_nodes or component_id = (select min(component_id) from running)
    order by component_id
    limit $max_components
)
select author_id from author_network join chosen using (component_id)
"""

# The authors a cut is chosen from: the component's best-connected.
_CANDIDATES_SQL = """
select author_id from author_network where component_id = $component
order by degree desc, author_id limit $n
"""

# The pairs between a set of authors given as SQL (one of the two above)
# rather than as a bound list: duckdb's Python client takes about 0.3 s to
# bind a list of a thousand ids.
_PAIRS_SQL = """
with ids as ({authors})
select p.author_id_a, p.author_id_b, p.n_papers
from coauthor_pairs p
join ids a on a.author_id = p.author_id_a
join ids b on b.author_id = p.author_id_b
order by p.n_papers desc, p.author_id_a, p.author_id_b
"""
WHOLE_PAIRS_SQL = _PAIRS_SQL.format(authors=_WHOLE_COMPONENTS_SQL)
CANDIDATE_PAIRS_SQL = _PAIRS_SQL.format(authors=_CANDIDATES_SQL)

# The drawn authors, best-connected first in each component.
WHOLE_NODES_SQL = f"""
with ids as ({_WHOLE_COMPONENTS_SQL})
select n.author_id, a.name, n.degree, n.component_id, n.component_size, n.community_id,
       s.n_papers
from author_network n
join ids using (author_id)
join authors a using (author_id)
join author_summary s using (author_id)
order by n.component_id, n.degree desc, n.author_id
"""


def _core(
    con: duckdb.DuckDBPyConnection, component: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A connected core of MAX_NODES authors of a component too large to draw
    whole (its authors, best-connected first), and the pairs between them."""
    # The same authors as _CANDIDATES_SQL: ``component`` is in its order.
    candidates = component.head(CANDIDATES)
    candidate_pairs = frame(
        con,
        CANDIDATE_PAIRS_SQL,
        {"component": int(component["component_id"][0]), "n": CANDIDATES},
    )
    chosen = pl.Series(_connected_core(candidates["author_id"].to_list(), candidate_pairs))
    chosen = chosen.implode()
    nodes = candidates.filter(pl.col("author_id").is_in(chosen))
    pairs = candidate_pairs.filter(
        pl.col("author_id_a").is_in(chosen), pl.col("author_id_b").is_in(chosen)
    )
    return nodes, pairs


def _connected_core(candidates: list[str], pairs: pl.DataFrame) -> list[str]:
    """MAX_NODES of ``candidates`` (best-connected first): from the first, the
    best-connected neighbour of those chosen so far is added, again and again;
    when none is left, the best candidate not yet chosen starts again."""
    rank = {author: i for i, author in enumerate(candidates)}
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(candidates))}
    for a, b, _ in pairs.iter_rows():
        neighbours[rank[a]].append(rank[b])
        neighbours[rank[b]].append(rank[a])
    chosen: list[int] = []
    seen: set[int] = set()
    frontier: list[int] = []
    next_unseen = 0
    while len(chosen) < min(MAX_NODES, len(candidates)):
        if not frontier:  # the candidates ran out of neighbours: start again from the best left
            while next_unseen in seen:
                next_unseen += 1
            seen.add(next_unseen)
            heapq.heappush(frontier, next_unseen)
        node = heapq.heappop(frontier)
        chosen.append(node)
        for other in neighbours[node]:
            if other not in seen:
                seen.add(other)
                heapq.heappush(frontier, other)
    return [candidates[i] for i in chosen]


def _drawn_lines(pairs: pl.DataFrame) -> pl.DataFrame:
    """Each drawn author's strongest pair, then the strongest other pairs, MAX_EDGES
    in all, so no drawn author is left without a line (``pairs`` is strongest first)."""
    ranked = pairs.with_row_index("order")
    ends = pl.concat(
        [
            ranked.select("order", author="author_id_a"),
            ranked.select("order", author="author_id_b"),
        ]
    ).sort("order")
    strongest = ends.unique("author", keep="first").select("order").unique()
    backbone = ranked.join(strongest, on="order", how="semi")
    rest = ranked.join(strongest, on="order", how="anti")
    return pl.concat([backbone, rest]).head(MAX_EDGES).sort("order").select(list(PAIR_SCHEMA))


def _layout_part(n: int, edges: list[tuple[int, int]], weights: list[float]) -> np.ndarray:
    """Positions of one connected part's n nodes in [-1, 1]^2, from a fixed start.

    Kamada-Kawai (distances follow path lengths, so cliques open up) for small
    parts, Fruchterman-Reingold (faster) for large ones.
    """
    if n == 1:
        return np.zeros((1, 2))
    if n == 2:
        return np.array([[-0.5, 0.0], [0.5, 0.0]])
    graph = ig.Graph(n=n, edges=edges)
    start = [[math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)] for i in range(n)]
    # igraph draws random numbers even from a given start: from a seeded
    # generator (as transform/network.py does for Leiden) the picture is the same.
    ig.set_random_number_generator(random.Random(LAYOUT_SEED))
    try:
        if n <= KAMADA_KAWAI_MAX:
            layout = graph.layout_kamada_kawai(seed=start, maxiter=50 * n)
        else:
            layout = graph.layout_fruchterman_reingold(
                weights=weights, niter=LAYOUT_ITERATIONS, seed=start, grid="nogrid"
            )
    finally:
        ig.set_random_number_generator(random)
    coords = np.array(layout.coords, dtype=float)
    coords -= (coords.max(axis=0) + coords.min(axis=0)) / 2
    return coords / (np.abs(coords).max() or 1.0)


def _pack(parts: list[tuple[np.ndarray, int]]) -> list[np.ndarray]:
    """Place laid-out parts in rows, each scaled by the square root of its size."""
    sizes = [math.sqrt(n) for _, n in parts]
    row_width = max(max(sizes, default=1.0) * 2, math.sqrt(sum(s * s for s in sizes)) * 2.4)
    placed, x, y, row_height = [], 0.0, 0.0, 0.0
    for (coords, _), size in zip(parts, sizes, strict=True):
        box = size * 2 + 1.0
        if x > 0 and x + box > row_width:
            x, y, row_height = 0.0, y - row_height, 0.0
        placed.append(coords * size + np.array([x + box / 2, y - box / 2]))
        x += box
        row_height = max(row_height, box)
    return placed


def _positions(nodes: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """x, y of each node: every connected part of the drawing laid out alone, then packed."""
    index = {author: i for i, author in enumerate(nodes["author_id"])}
    edges = [(index[a], index[b]) for a, b in pairs.select("author_id_a", "author_id_b").rows()]
    weights = pairs["n_papers"].cast(pl.Float64).to_list()
    parts = ig.Graph(n=nodes.height, edges=edges).connected_components()
    # Largest first; ties by the smallest node (the order is deterministic).
    members = sorted((sorted(part) for part in parts), key=lambda p: (-len(p), p[0]))
    part_of = {node: k for k, part in enumerate(members) for node in part}
    local = {node: j for part in members for j, node in enumerate(part)}
    part_edges: list[list[tuple[int, int]]] = [[] for _ in members]
    part_weights: list[list[float]] = [[] for _ in members]
    for (a, b), w in zip(edges, weights, strict=True):
        part_edges[part_of[a]].append((local[a], local[b]))
        part_weights[part_of[a]].append(w)
    laid_out = [
        (_layout_part(len(part), part_edges[k], part_weights[k]), len(part))
        for k, part in enumerate(members)
    ]
    xy = np.zeros((nodes.height, 2))
    for part, coords in zip(members, _pack(laid_out), strict=True):
        xy[part] = coords
    return xy


def _labelled(nodes: pl.DataFrame, xy: np.ndarray) -> set[int]:
    """Rows whose name is drawn: the best-connected first, none on top of another."""
    span = np.ptp(xy, axis=0) if len(xy) else np.ones(2)
    gap = np.maximum(span, 1e-9) * np.array(LABEL_GAP)
    degree, ids = nodes["degree"].to_list(), nodes["author_id"].to_list()
    chosen: list[int] = []
    for i in sorted(range(nodes.height), key=lambda i: (-degree[i], ids[i])):
        if len(chosen) == N_LABELS:
            break
        if all(np.any(np.abs(xy[i] - xy[j]) > gap) for j in chosen):
            chosen.append(i)
    return set(chosen)


def _communities(nodes: pl.DataFrame) -> dict[int, str]:
    """Names of the communities with most drawn members, after their best-connected one."""
    top = (
        nodes.group_by("community_id")
        .agg(n=pl.len(), lead=pl.col("name").sort_by("degree", "author_id").last())
        .sort(["n", "community_id"], descending=[True, False])
        .head(N_COLOURED_COMMUNITIES)
    )
    return {c: f"community of {lead}" for c, lead in top.select("community_id", "lead").rows()}


def drawing(con: duckdb.DuckDBPyConnection) -> Drawing:
    """Select, lay out and label the part of the network the report draws."""
    params = {"max_nodes": MAX_NODES, "max_components": MAX_COMPONENTS}
    nodes = frame(con, WHOLE_NODES_SQL, params)
    cut = None
    if nodes.height > MAX_NODES:
        cut = int(nodes["component_id"][0])
        nodes, pairs = _core(con, nodes)
    else:
        pairs = frame(con, WHOLE_PAIRS_SQL, params)
    xy = _positions(nodes, pairs)
    labelled = _labelled(nodes, xy)
    nodes = nodes.with_columns(
        x=pl.Series(xy[:, 0], dtype=pl.Float64),
        y=pl.Series(xy[:, 1], dtype=pl.Float64),
        community=pl.col("community_id").replace_strict(
            _communities(nodes), default="other communities", return_dtype=pl.String
        ),
        label=pl.Series(
            [name if i in labelled else None for i, name in enumerate(nodes["name"])],
            dtype=pl.String,
        ),
    )
    position = nodes.select("author_id", "x", "y")
    edges = (
        _drawn_lines(pairs)
        .join(position, left_on="author_id_a", right_on="author_id")
        .join(position.rename({"x": "x2", "y": "y2"}), left_on="author_id_b", right_on="author_id")
        .select(list(EDGE_SCHEMA))
        .cast(EDGE_SCHEMA)
    )
    return Drawing(
        nodes=nodes,
        edges=edges,
        n_authors_connected=int(
            scalar(con, "select count(*) from author_network where degree > 0") or 0
        ),
        n_pairs=int(scalar(con, "select count(*) from coauthor_pairs") or 0),
        n_components_drawn=nodes["component_id"].n_unique(),
        n_components=int(
            scalar(con, "select count(distinct component_id) from author_network where degree > 0")
            or 0
        ),
        cut_component=cut,
        n_pairs_between_drawn=pairs.height,
    )
