"""Read a generated corpus's truth and score paperlake's output against it.

Truth records are keyed by ``(source_file, line_start)``: a record's first
line, which a correct parser reports as ``records.line_start``. (The record
index can differ when a damaged record is not parsed at all.)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import polars as pl

# What a correct parser reads back from an undamaged record: truth column -> records column.
ROUND_TRIP_FIELDS = {
    "printed_title": "title",
    "printed_authors": "authors",
    "authors_truncated": "authors_truncated",
    "printed_date": "published_date",
    "category": "category",
    "has_code": "has_code",
    "upvotes": "upvotes",
    "author_count": "author_count",
    "format": "format",
}


def truth_records(corpus: Path) -> pl.DataFrame:
    """One row per rendered record (see ``benchmarks.generate.TRUTH_RECORDS``)."""
    return pl.read_parquet(corpus / "truth" / "records.parquet")


def join_parsed(truth: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Truth rows with the parsed record at the same first line (``*_parsed`` columns)."""
    parsed = records.select(
        "source_file",
        "line_start",
        pl.col("record_index").alias("record_index_parsed"),
        *[pl.col(c).alias(f"{c}_parsed") for c in ROUND_TRIP_FIELDS.values()],
    )
    return truth.join(parsed, on=["source_file", "line_start"], how="left")


def round_trip_mismatches(joined: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``join_parsed`` where a field was not read back as printed.

    Columns: source_file, line_start, variant, damage, field, expected, parsed.
    """
    frames = []
    for want, got in ROUND_TRIP_FIELDS.items():
        bad = joined.filter(
            pl.col("record_index_parsed").is_null()
            | pl.col(want).ne_missing(pl.col(f"{got}_parsed"))
        )
        frames.append(
            bad.select(
                "source_file",
                "line_start",
                "variant",
                "damage",
                field=pl.lit(want),
                expected=pl.col(want).cast(pl.String),
                parsed=pl.col(f"{got}_parsed").cast(pl.String),
            )
        )
    return pl.concat(frames).unique(maintain_order=True)


@dataclass(frozen=True)
class PairScore:
    """Pairwise paper-merge quality over records present in both truth and output."""

    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    missing_truth: int  # truth records with no parsed record at their line
    unknown_parsed: int  # parsed records at no truth record's line

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(frame: pl.DataFrame, *keys: str) -> int:
    n = frame.group_by(*keys).len()["len"].cast(pl.Int64)
    return int((n * (n - 1) // 2).sum())


def pairwise_score(
    truth: pl.DataFrame, paper_sources: pl.DataFrame, records: pl.DataFrame
) -> PairScore:
    """Pairwise precision/recall of paper merges.

    A pair of records is a true match when they have one true ``paper_id``, a
    predicted match when the warehouse's ``paper_sources`` gives them one
    ``paper_id``. Counted from cluster sizes, so it is linear in the records.
    """
    predicted = paper_sources.select(
        "source_file", "record_index", pl.col("paper_id").alias("predicted_id")
    ).join(
        records.select("source_file", "record_index", "line_start"),
        on=["source_file", "record_index"],
        how="inner",
    )
    both = truth.select("source_file", "line_start", pl.col("paper_id").alias("true_id")).join(
        predicted, on=["source_file", "line_start"], how="inner"
    )
    return PairScore(
        records=both.height,
        true_pairs=_pairs(both, "true_id"),
        predicted_pairs=_pairs(both, "predicted_id"),
        correct_pairs=_pairs(both, "true_id", "predicted_id"),
        missing_truth=truth.height - both.height,
        unknown_parsed=predicted.height - both.height,
    )


def merge_errors(
    truth: pl.DataFrame,
    truth_papers: pl.DataFrame,
    paper_sources: pl.DataFrame,
    records: pl.DataFrame,
) -> dict[str, dict[str, int]]:
    """Why merges went wrong: wrongly merged clusters by look-alike kind, split papers by cause.

    A split paper's cause is the first of: a LaTeX print, a hard name, an
    encoding loss, a cut-off record, else "other".
    """
    joined = truth.join(
        records.select("source_file", "record_index", "line_start").join(
            paper_sources.select("source_file", "record_index", pl.col("paper_id").alias("pred")),
            on=["source_file", "record_index"],
        ),
        on=["source_file", "line_start"],
    )
    wrong = (
        joined.group_by("pred")
        .agg(ids=pl.col("paper_id").unique())
        .filter(pl.col("ids").list.len() > 1)
        .explode("ids")
        .join(
            truth_papers.select("paper_id", "hard_negative_kind"),
            left_on="ids",
            right_on="paper_id",
        )
        .group_by("pred")
        .agg(kind=pl.col("hard_negative_kind").drop_nulls().first().fill_null("unrelated"))
    )
    variant = pl.col("variant").fill_null("")
    split = (
        joined.group_by("paper_id")
        .agg(
            n=pl.col("pred").n_unique(),
            latex=variant.str.contains("latex").any(),
            hard=variant.str.contains("hard_name").any(),
            enc=(pl.col("damage") == "encoding_loss").any(),
            cut=(pl.col("damage") == "cut_off").any(),
        )
        .filter(pl.col("n") > 1)
        .select(
            cause=pl.when("latex")
            .then(pl.lit("latex"))
            .when("hard")
            .then(pl.lit("hard_name"))
            .when("enc")
            .then(pl.lit("encoding_loss"))
            .when("cut")
            .then(pl.lit("cut_off"))
            .otherwise(pl.lit("other"))
        )
    )

    def counts(frame: pl.DataFrame, col: str) -> dict[str, int]:
        return dict(sorted(frame[col].value_counts().iter_rows()))

    return {
        "wrong_clusters_by_kind": counts(wrong, "kind"),
        "split_papers_by_cause": counts(split, "cause"),
    }


def main(argv: list[str] | None = None) -> int:
    """Score a warehouse's paper merges against a generated corpus's truth."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.truth", description=main.__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="made by benchmarks.generate")
    parser.add_argument("--warehouse", type=Path, required=True, help="a refreshed warehouse")
    args = parser.parse_args(argv)
    truth = truth_records(args.corpus)
    from pipelines.store import read_table

    sources = read_table(args.warehouse, "paper_sources")
    records = read_table(args.warehouse, "records", ["source_file", "record_index", "line_start"])
    s = pairwise_score(truth, sources, records)
    print(
        f"precision {s.precision:.4f}  recall {s.recall:.4f}  ({s.records} records scored, "
        f"{s.true_pairs} true pairs, {s.predicted_pairs} predicted, {s.correct_pairs} correct; "
        f"{s.missing_truth} truth records not parsed)"
    )
    papers = pl.read_parquet(args.corpus / "truth" / "papers.parquet")
    for name, value in merge_errors(truth, papers, sources, records).items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
