"""How paper matching scales: records, candidate pairs, time and peak memory.

    python benchmarks/linkage_scale.py 1000000

Builds N synthetic records (Zipf-distributed title words, 10% near-duplicates
of other records, three printed authors each) and runs the matcher on them.
It prints figures; it asserts nothing. For accuracy against a truth, see the
benchmark corpus runner.
"""

from __future__ import annotations

import argparse
import datetime
import resource
import time

import numpy as np
import polars as pl

from pipelines.config import MatchConfig
from pipelines.transform.match import match_records


def synthetic_records(n: int, seed: int = 1) -> pl.DataFrame:
    """N records whose titles follow a Zipf law; a tenth copy another record."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"word{i}" for i in range(20_000)])
    lengths = rng.integers(5, 12, n)
    words = vocab[rng.zipf(1.3, size=int(lengths.sum())) % len(vocab)]
    titles = pl.Series([" ".join(w) for w in np.split(words, np.cumsum(lengths)[:-1])])
    copy_of = pl.Series(rng.integers(0, n, n))
    is_copy = pl.Series(rng.random(n) < 0.1)
    suffix = pl.Series(np.where(rng.random(n) < 0.3, " extra", ""))
    names = pl.Series([f"Given{i} Family{i % 977}" for i in range(50_000)])
    return (
        pl.DataFrame({"title": titles, "copy_of": copy_of, "is_copy": is_copy, "suffix": suffix})
        .with_row_index("i")
        .with_columns(
            title=pl.when("is_copy")
            .then(pl.col("title").gather(pl.col("copy_of")) + pl.col("suffix"))
            .otherwise("title"),
            source_file=pl.format("f{}.txt", (pl.col("i") // 1000).cast(pl.String).str.zfill(5)),
            record_index=(pl.col("i") % 1000).cast(pl.Int64),
            authors=pl.concat_list(
                [names.gather(rng.integers(0, len(names), n)).alias(f"a{k}") for k in range(3)]
            ),
        )
        .with_columns(
            # A copy is the same paper listed again: same people.
            authors=pl.when("is_copy")
            .then(pl.col("authors").gather(pl.col("copy_of")))
            .otherwise("authors"),
            published_date=pl.lit(datetime.date(2024, 1, 1)),
        )
        .with_columns(record_id=pl.format("{}#{}", "source_file", "record_index"))
        .select("source_file", "record_index", "record_id", "title", "authors", "published_date")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="number of records")
    n = parser.parse_args().n
    records = synthetic_records(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    result = match_records(records, MatchConfig())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    all_pairs = n * (n - 1) // 2
    print(f"records               {result.n_records:>14,}")
    print(f"all pairs             {all_pairs:>14,}")
    print(
        f"candidate pairs       {result.n_candidate_pairs:>14,}"
        f"  ({result.n_candidate_pairs / n:.2f} per record)"
    )
    print(f"pairs above floor     {result.matches.height:>14,}")
    print(f"papers                {result.clusters['cluster'].n_unique():>14,}")
    print(f"matching time         {seconds:>13.1f}s  ({n / seconds:,.0f} records/s)")
    print(f"peak RSS              {peak:>12.0f} MB  (inputs built: {before:.0f} MB)")


if __name__ == "__main__":
    main()
