"""How the analysis transforms scale: topics and the co-author network.

    python benchmarks/analysis_scale.py 200000

Builds N synthetic papers (titles and ~150-word abstracts drawn from a
vocabulary that includes topic keywords, one printed category in two) and
their author lists (1 to 8 printed names, mostly from the paper's research
group of 25 people among N/2, one in ten from anywhere), then times category resolution,
keyword and category topics, and the igraph graph measures. It prints
figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from pipelines.taxonomy import load_taxonomies
from pipelines.transform.network import author_network, coauthor_pairs
from pipelines.transform.topics import category_table, paper_topics, topic_table

KEYWORDS = [
    "LLM serving",
    "speculative decoding",
    "quantization",
    "graph neural networks on GPUs",
    "neural architecture search",
    "compiler",
    "quantum circuits",
    "adversarial attacks",
    "mixture of experts",
    "sparse attention",
]


def synthetic_papers(n: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(papers, paper_authors) for N synthetic papers."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(5_000)] + KEYWORDS)
    words = vocab[rng.integers(0, len(vocab), size=n * 160)].reshape(n, 160)
    titles = [" ".join(row[:10]) for row in words]
    abstracts = [" ".join(row[10:]) + "." for row in words]
    codes = np.array(["LG", "DC", "CL", "CV", "QUANT-PH", "CR", "AR", "XX-UNKNOWN"])
    category = np.where(rng.random(n) < 0.5, codes[rng.integers(0, len(codes), n)], None)
    papers = pl.DataFrame(
        {
            "paper_id": [f"pap_{i:010d}" for i in range(n)],
            "title": titles,
            "abstract": abstracts,
            "category": pl.Series(category.tolist(), dtype=pl.String),
        }
    )
    # Research groups of 25 people write most papers; one author in ten comes
    # from anywhere, which links the groups as real collaborations do.
    sizes = rng.integers(1, 9, n)
    n_people = max(50, n // 2)
    group = np.repeat(rng.integers(0, n_people // 25, n), sizes)
    local = group * 25 + rng.integers(0, 25, int(sizes.sum()))
    anywhere = rng.integers(0, n_people, int(sizes.sum()))
    people = np.where(rng.random(int(sizes.sum())) < 0.1, anywhere, local)
    paper_authors = pl.DataFrame(
        {
            "paper_id": np.repeat(papers["paper_id"].to_numpy(), sizes),
            "author_id": [f"aut_{p:010d}" for p in people],
        }
    ).unique(["paper_id", "author_id"])
    return papers, paper_authors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    n = parser.parse_args().n
    papers, paper_authors = synthetic_papers(n)
    authors = paper_authors.select("author_id").unique()
    taxonomies = load_taxonomies()
    timings = {}

    start = time.perf_counter()
    categories = category_table(papers["category"], taxonomies.categories)
    topics = topic_table(taxonomies.topics)
    tagged = paper_topics(papers, categories, topics)
    timings["topics"] = time.perf_counter() - start
    print(f"topics done in {timings['topics']:.1f} s", flush=True)

    start = time.perf_counter()
    pairs = coauthor_pairs(paper_authors)
    timings["pairs"] = time.perf_counter() - start
    print(f"{pairs.height:,} pairs in {timings['pairs']:.1f} s", flush=True)

    start = time.perf_counter()
    network = author_network(authors, paper_authors)
    timings["network (pairs + igraph)"] = time.perf_counter() - start

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"papers             {n:>12,}")
    print(f"authorships        {paper_authors.height:>12,}")
    print(f"paper_topics rows  {tagged.height:>12,}")
    print(f"co-author pairs    {pairs.height:>12,}")
    print(f"communities        {network['community_id'].n_unique():>12,}")
    for stage, seconds in timings.items():
        print(f"time: {stage:<28} {seconds:8.1f} s")
    print(f"peak memory        {peak_mb:>10,.0f} MB")


if __name__ == "__main__":
    main()
