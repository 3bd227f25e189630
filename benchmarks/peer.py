"""Peer comparison: paperlake's paper matching against splink on the same records.

    python -m benchmarks.peer --corpus /tmp/corpus-10mb [--warehouse W] [--json out.json]

Both tools get the same input: the parsed ``records`` of a refresh (title,
printed authors, published date, category), after extraction and the
glued-title re-split, which are excluded from the timing. Each turns records
into paper clusters; each clustering is scored with ``truth.pairwise_score``.

- paperlake: ``match.match_records`` with the default ``MatchConfig`` (blocking,
  rapidfuzz scoring, evidence rules, connected components).
- splink (DuckDB backend, Fellegi-Sunter): features from paperlake's own title
  and name keys (so the comparison is of linkage, not of text cleaning);
  blocking on a title head (its first 16 letters), a title tail (its last 32
  letters: endings such as "... for large language models" are common, and a
  16-letter tail gave 18 times the pairs on 10 MB, no more true ones), and first
  author + year;
  comparisons on title (exact, Jaro-Winkler 0.97 / 0.92 / 0.8), printed
  family names (intersection of 2, of 1), publication date (exact, 31 days,
  1 year) and category (exact). Trained unsupervised: the prior from exact
  titles (assumed recall 0.8), u by random sampling (10^6 pairs, seeded), m
  by two EM passes (blocked on title head, then on first author + year);
  predict (pairs at p >= 0.1 kept), then connected components at
  ``SPLINK_THRESHOLD``. Its timing covers all of that, feature building
  included. Other thresholds are scored on the same predictions afterwards,
  outside the timing, to be fair to splink.

Peak RSS is the process's VmHWM, reset before each tool (see ``run.PeakRss``),
so it includes the records and libraries already loaded. Nothing here asserts
on time.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from benchmarks.run import PeakRss
from benchmarks.truth import PairScore, pairwise_score, truth_records
from pipelines.config import MatchConfig
from pipelines.transform.clean import name_key, title_key
from pipelines.transform.match import match_records

if TYPE_CHECKING:
    from splink import SettingsCreator

# Columns of ``records`` either tool may use (plus the keys that place a record).
RECORD_COLUMNS = [
    "source_file",
    "record_index",
    "line_start",
    "record_id",
    "title",
    "authors",
    "published_date",
    "category",
]
# splink's threshold, fixed before looking at the results: splink's examples
# cluster at match probabilities of 0.9 to 0.95.
SPLINK_THRESHOLD = 0.9
# Also scored (same predictions, clustered again) so splink is not judged on one
# choice: with duplicates this dense, an exact title with no other evidence lands
# near p = 0.46 (random-sampling u counts true duplicates as non-matches).
SPLINK_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 0.9, 0.95, 0.99)
# Pairs below this are not kept by predict: the lowest threshold scored.
_PREDICT_FLOOR = min(SPLINK_THRESHOLDS)


@dataclass(frozen=True)
class ToolRun:
    """One tool's clustering of the records and its cost."""

    clusters: pl.DataFrame  # source_file, record_index, paper_id (one row per record)
    seconds: float
    peak_rss_mb: float | None
    details: dict


def read_records(warehouse: Path) -> pl.DataFrame:
    """The parsed records of a refreshed warehouse (its ``records`` table)."""
    from pipelines.store import read_table

    return read_table(warehouse, "records", RECORD_COLUMNS)


def extract_records(raw: Path) -> pl.DataFrame:
    """Parse a raw folder as a refresh does and return its records, re-split as linking sees
    them (without linking)."""
    from pipelines.refresh import combine, extract_batch
    from pipelines.sources import resolve_dumps
    from pipelines.transform.glued import resplit_glued_titles

    dumps, _ = resolve_dumps(raw, None)
    return resplit_glued_titles(combine(extract_batch(dumps))["records"]).select(RECORD_COLUMNS)


def run_paperlake(records: pl.DataFrame, config: MatchConfig | None = None) -> ToolRun:
    """paperlake's matcher, records -> paper clusters, timed."""
    rss = PeakRss()
    start = time.perf_counter()
    result = match_records(records, config or MatchConfig())
    seconds = time.perf_counter() - start
    peak = rss.peak_mb()
    clusters = result.clusters.join(
        records.select("record_id", "source_file", "record_index"), on="record_id"
    ).select("source_file", "record_index", paper_id="cluster")
    return ToolRun(
        clusters,
        seconds,
        peak,
        {"candidate_pairs": result.n_candidate_pairs, "merged_pairs": _merged(result.matches)},
    )


def _merged(matches: pl.DataFrame) -> int:
    return int((matches["decision"] == "merged").sum())


def splink_features(records: pl.DataFrame) -> pl.DataFrame:
    """One row per record for splink: ``unique_id`` and standardised columns.

    Empty values are null (splink's null level), not empty strings or lists.
    """
    key = title_key(pl.col("title"))
    letters = key.str.replace_all(" ", "")
    family = name_key(pl.element()).str.split(" ").list.last()
    names = pl.col("authors").list.eval(family.filter(family != ""))
    return records.with_row_index("unique_id").select(
        pl.col("unique_id").cast(pl.Int64),
        title_key=pl.when(key != "").then(key),
        title_head=pl.when(letters.str.len_chars() >= 6).then(letters.str.head(16)),
        title_tail=pl.when(letters.str.len_chars() >= 6).then(letters.str.tail(32)),
        family_names=pl.when(names.list.len() > 0).then(names.list.unique().list.sort()),
        first_family=pl.when(names.list.len() > 0).then(names.list.first()),
        published_date="published_date",
        year=pl.col("published_date").dt.year(),
        category=pl.when(pl.col("category") != "").then(pl.col("category")),
    )


def splink_settings() -> SettingsCreator:
    """The splink model: blocking rules and comparisons (see the module docstring)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("title_head"),
            block_on("title_tail"),
            block_on("first_family", "year"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("title_key", [0.97, 0.92, 0.8]),
            cl.ArrayIntersectAtSizes("family_names", [2, 1]),
            cl.AbsoluteDateDifferenceAtThresholds(
                "published_date", input_is_string=False, metrics=["day", "year"], thresholds=[31, 1]
            ),
            cl.ExactMatch("category"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run_splink(
    records: pl.DataFrame, threshold: float = SPLINK_THRESHOLD, seed: int = 1
) -> tuple[ToolRun, dict[float, pl.DataFrame]]:
    """splink's whole linkage, records -> paper clusters at ``threshold``, timed.

    Also returns the clusters at each of ``SPLINK_THRESHOLDS`` (computed after
    the timing, from the same predictions).
    """
    from splink import DuckDBAPI, Linker, block_on

    rss = PeakRss()
    start = time.perf_counter()
    features = splink_features(records)
    db_api = DuckDBAPI()
    table = db_api.register(features.to_arrow(), table_name="records")
    linker = Linker(table, splink_settings(), log_level=logging.ERROR)
    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("title_key")], recall=0.8)
    training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("title_head"))
    training.estimate_parameters_using_expectation_maximisation(block_on("first_family", "year"))
    predictions = linker.inference.predict(threshold_match_probability=_PREDICT_FLOOR)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    ids = pl.from_arrow(clustered.as_pyarrow_table())
    seconds = time.perf_counter() - start
    peak = rss.peak_mb()

    n_pairs = predictions.as_duckdbpyrelation().aggregate("count(*)").fetchone()[0]
    by_threshold = {}
    for t in SPLINK_THRESHOLDS:
        at = (
            ids
            if t == threshold
            else pl.from_arrow(
                linker.clustering.cluster_pairwise_predictions_at_threshold(
                    predictions, threshold_match_probability=t
                ).as_pyarrow_table()
            )
        )
        by_threshold[t] = _splink_clusters(records, at)
    run = ToolRun(
        _splink_clusters(records, ids),
        seconds,
        peak,
        {
            "threshold": threshold,
            "pairs_above_floor": n_pairs,
            "predict_floor": _PREDICT_FLOOR,
            "probability_two_random_records_match": (
                linker._settings_obj._probability_two_random_records_match
            ),
        },
    )
    return run, by_threshold


def _splink_clusters(records: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """splink's (cluster_id, unique_id) back on the records' keys."""
    placed = records.with_row_index("unique_id").with_columns(pl.col("unique_id").cast(pl.Int64))
    return placed.join(
        ids.select(
            pl.col("unique_id").cast(pl.Int64), paper_id=pl.col("cluster_id").cast(pl.String)
        ),
        on="unique_id",
        how="left",
    ).select("source_file", "record_index", "paper_id")


def score(truth: pl.DataFrame, records: pl.DataFrame, clusters: pl.DataFrame) -> PairScore:
    """Pairwise precision/recall of one tool's clusters against the truth."""
    return pairwise_score(
        truth, clusters, records.select("source_file", "record_index", "line_start")
    )


def _score_dict(s: PairScore) -> dict:
    return {
        "precision": s.precision,
        "recall": s.recall,
        "f1": 2 * s.precision * s.recall / (s.precision + s.recall)
        if s.precision + s.recall
        else 0.0,
        "predicted_pairs": s.predicted_pairs,
        "correct_pairs": s.correct_pairs,
        "true_pairs": s.true_pairs,
        "records_scored": s.records,
    }


def compare(corpus: Path, records: pl.DataFrame, splink: bool = True) -> dict:
    """Run both tools on ``records`` of ``corpus`` and return time, memory and scores."""
    from importlib.metadata import version

    truth = truth_records(corpus)
    out: dict = {"records": records.height}
    pl_run = run_paperlake(records)
    out["paperlake"] = {
        "seconds": pl_run.seconds,
        "peak_rss_mb": pl_run.peak_rss_mb,
        "papers": pl_run.clusters["paper_id"].n_unique(),
        **pl_run.details,
        **_score_dict(score(truth, records, pl_run.clusters)),
    }
    if splink:
        sp_run, by_threshold = run_splink(records)
        out["splink"] = {
            "version": version("splink"),
            "seconds": sp_run.seconds,
            "peak_rss_mb": sp_run.peak_rss_mb,
            "papers": sp_run.clusters["paper_id"].n_unique(),
            "clustered_records": int(sp_run.clusters["paper_id"].is_not_null().sum()),
            **sp_run.details,
            **_score_dict(score(truth, records, sp_run.clusters)),
            "by_threshold": {
                str(t): _score_dict(score(truth, records, c)) for t, c in by_threshold.items()
            },
        }
        # The threshold that would have been best, chosen with the truth: an upper
        # bound for splink, not a setting anyone could pick without labels.
        best = max(out["splink"]["by_threshold"].items(), key=lambda kv: kv[1]["f1"])
        out["splink"]["best_threshold"] = {"threshold": float(best[0]), **best[1]}
    return out


def report_lines(peer: dict) -> list[str]:
    """The comparison as report lines (used by ``benchmarks.run``'s report)."""
    lines = []
    for name in ("paperlake", "splink"):
        if name not in peer:
            continue
        r = peer[name]
        rss = f", peak RSS {r['peak_rss_mb']:.0f} MB" if r.get("peak_rss_mb") else ""
        extra = f" at p >= {r['threshold']}" if name == "splink" else ""
        lines.append(
            f"peer         {name:9} {r['seconds']:7.2f} s{rss}: precision {r['precision']:.4f}  "
            f"recall {r['recall']:.4f}  F1 {r['f1']:.4f}{extra} ({r['papers']} papers)"
        )
    if "splink" in peer:
        cells = ", ".join(
            f"{t}: {s['precision']:.3f}/{s['recall']:.3f}"
            for t, s in peer["splink"]["by_threshold"].items()
        )
        lines.append(f"peer         splink P/R by threshold {cells}")
        b = peer["splink"]["best_threshold"]
        lines.append(
            f"peer         splink best F1 (threshold chosen with the truth) at p >= "
            f"{b['threshold']}: precision {b['precision']:.4f}  recall {b['recall']:.4f}  "
            f"F1 {b['f1']:.4f}"
        )
        lines.append(
            f"peer         splink / paperlake time = "
            f"{peer['splink']['seconds'] / peer['paperlake']['seconds']:.1f}x "
            f"({peer['records']} records)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Compare paperlake's and splink's linkage of a generated corpus."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=main.__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="made by benchmarks.generate")
    parser.add_argument(
        "--warehouse", type=Path, help="a refreshed warehouse of it (default: parse raw/ here)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    records = (
        read_records(args.warehouse) if args.warehouse else extract_records(args.corpus / "raw")
    )
    peer = compare(args.corpus, records)
    print("\n".join(report_lines(peer)))
    if args.json:
        args.json.write_text(json.dumps(peer, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
