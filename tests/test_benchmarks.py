"""The benchmark corpus generator and runner (issue 6).

The generator doubles as a parser test: every undamaged record it renders must
be read back by paperlake's extraction with its title, authors and date.
Nothing here asserts on timing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT

from benchmarks import peer
from benchmarks.generate import (
    FORMATS,
    GenConfig,
    _name_fold,
    generate,
    parse_size,
    read_manifest,
)
from benchmarks.truth import (
    join_parsed,
    merge_errors,
    pairwise_score,
    round_trip_mismatches,
    truth_records,
)
from pipelines.config import default_sql_dir
from pipelines.extract import extract_dump
from pipelines.refresh import combine, extract_batch, link_tables, load_and_publish
from pipelines.sources import resolve_dumps

# Small, but with every kind of damage and variation present.
SMALL = GenConfig(
    size_bytes=1_000_000,
    seed=3,
    median_records=15,
    cut_off_share=0.3,
    stray_share=0.4,
    cp1252_share=0.2,
    crlf_share=0.3,
    hard_negative_share=0.1,
    hard_name_share=0.05,
)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate(SMALL, out)
    return out


@pytest.fixture(scope="module")
def extracted(corpus: Path) -> pl.DataFrame:
    """Every dump of the corpus through paperlake's extraction, records stacked."""
    frames = []
    for name, capture in read_manifest(corpus / "raw").items():
        e = extract_dump((corpus / "raw" / name).read_bytes(), name, capture, "manifest")
        assert e.accounted_lines == e.source["n_lines"][0], name  # no line lost
        assert e.source["format"][0] is not None, name  # no file quarantined whole
        frames.append(e.records)
    return pl.concat(frames)


def test_parse_size() -> None:
    assert parse_size("10MB") == 10_000_000
    assert parse_size("1GB") == 1_000_000_000
    assert parse_size("1.5 mb") == 1_500_000
    with pytest.raises(ValueError):
        parse_size("ten")


def test_same_seed_same_bytes(corpus: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(SMALL, again)
    assert _digest(again) == _digest(corpus)
    other = tmp_path / "other"
    generate(GenConfig(size_bytes=SMALL.size_bytes, seed=SMALL.seed + 1), other)
    assert _digest(other) != _digest(corpus)


@pytest.mark.parametrize("size", [200_000, 2_000_000])
def test_size_is_roughly_as_requested(tmp_path: Path, size: int) -> None:
    summary = generate(GenConfig(size_bytes=size, seed=5), tmp_path)
    on_disk = sum(p.stat().st_size for p in (tmp_path / "raw").glob("*.txt"))
    assert summary["counts"]["bytes"] == on_disk
    assert abs(on_disk - size) / size < 0.05


def test_truth_is_consistent_with_the_files(corpus: Path) -> None:
    truth = truth_records(corpus)
    files = pl.read_parquet(corpus / "truth" / "files.parquet")
    papers = pl.read_parquet(corpus / "truth" / "papers.parquet")
    manifest = read_manifest(corpus / "raw")
    dumps = sorted(p.name for p in (corpus / "raw").glob("*.txt"))

    assert sorted(manifest) == dumps == sorted(files["source_file"])
    assert all(isinstance(d, date) for d in manifest.values())
    assert set(files["format"]) == set(FORMATS)
    per_file = truth.group_by("source_file").len()
    check = files.join(per_file, on="source_file", how="left").with_columns(
        pl.col("len").fill_null(0)
    )
    assert (check["n_records"] == check["len"]).all()
    # Record indexes run 0..n-1 in print order, and first lines increase with them.
    ordered = truth.sort("source_file", "record_index")
    assert (
        ordered.group_by("source_file", maintain_order=True)
        .agg(ok=(pl.col("record_index") == pl.int_range(pl.len())).all())["ok"]
        .all()
    )
    assert (
        ordered.group_by("source_file")
        .agg(ok=pl.col("line_start").diff().drop_nulls().min())["ok"]
        .drop_nulls()
        .min()
        > 0
    )
    # Every record's paper is in the papers table; look-alike pairs point at each other.
    assert truth["paper_id"].is_in(papers["paper_id"].implode()).all()
    pairs = papers.filter(pl.col("hard_negative_of").is_not_null())
    back = pairs.join(pairs, left_on="hard_negative_of", right_on="paper_id", suffix="_other")
    assert (back["hard_negative_of_other"] == back["paper_id"]).all()
    assert set(pairs["hard_negative_kind"]) == {"part", "same_abstract", "same_title", "near_title"}
    # Repeats across dumps, and each kind of damage, are present.
    assert truth.group_by("paper_id").len()["len"].max() >= 2
    assert {"cut_off", "encoding_loss"} <= set(truth["damage"].drop_nulls())
    damage = set(files["damage"].explode().drop_nulls())
    assert damage == {"cut_off", "stray", "cp1252", "crlf"}

    # The first line of each record is where the truth says, with what it says.
    meta = files.select("source_file", "damage", "format")
    for source_file, damage, _fmt in meta.iter_rows():
        data = (corpus / "raw" / source_file).read_bytes()
        text = data.decode("cp1252" if "cp1252" in damage else "utf-8")
        lines = text.replace("\r\n", "\n").split("\n")
        if "crlf" in damage:
            assert b"\r\n" in data
        rows = truth.filter(pl.col("source_file") == source_file, pl.col("damage").is_null())
        for fmt, start, title, category, date_text in rows.select(
            "format", "line_start", "printed_title", "category", "date_text"
        ).iter_rows():
            first = lines[start - 1]
            if fmt in ("profile_page", "collapsed_profile_page"):
                assert first.startswith(category + date_text), (source_file, start)
            else:
                assert first == title, (source_file, start)


def test_truth_fields_are_clean(corpus: Path) -> None:
    truth = truth_records(corpus)
    assert truth["title"].str.contains(r"\$").sum() == 0  # clean titles hold no LaTeX
    assert (
        truth.filter(pl.col("variant").str.contains("latex"))["printed_title"]
        .str.contains(r"\$")
        .all()
    )
    # Variation across repeats of one paper: colon spacing, cut lists, dates missing.
    variants = set(truth["variant"].drop_nulls().str.split(",").explode())
    assert {"colon_nospace", "latex", "no_trailer", "affiliations", "orgs"} <= variants
    names = set(truth["authors"].explode())
    assert any(any(ord(c) > 127 for c in n) for n in names)  # non-ASCII
    assert any("-" in n.split(" ")[0] for n in names)  # hyphenated given name
    assert any(" van " in n or " de " in n or " von " in n for n in names)  # particles
    assert any(". " in n for n in names)  # initials
    assert truth.filter(pl.col("format") == "profile_page")["printed_authors"].list.len().max() <= 3


def test_every_undamaged_record_parses_back(corpus: Path, extracted: pl.DataFrame) -> None:
    """Title, authors, date, category, code flag, upvotes and count, as printed."""
    joined = join_parsed(truth_records(corpus), extracted)
    clean = joined.filter(
        pl.col("damage").is_null() & ~pl.col("variant").fill_null("").str.contains("hard_name")
    )
    assert clean.height > 300, clean.height
    bad = round_trip_mismatches(clean)
    assert bad.is_empty(), bad.head(10).to_dicts()
    # Dates with and without a printed year resolve to the true date.
    dated = clean.filter(pl.col("date_text").is_not_null())
    assert (dated["published_date_parsed"] == dated["published_date"]).all()
    assert dated["date_text"].str.contains(r", \d{4}$").sum() < dated.height  # some year-less


def test_records_with_hard_names_parse_back(corpus: Path, extracted: pl.DataFrame) -> None:
    joined = join_parsed(truth_records(corpus), extracted)
    hard = joined.filter(
        pl.col("damage").is_null() & pl.col("variant").fill_null("").str.contains("hard_name")
    )
    assert hard.height > 0
    bad = round_trip_mismatches(hard)
    assert bad.is_empty(), bad.head(5).to_dicts()


def test_pairwise_score_counts_pairs() -> None:
    truth = pl.DataFrame(
        {"source_file": ["a"] * 4, "line_start": [1, 2, 3, 4], "paper_id": ["p", "p", "p", "q"]}
    )
    records = pl.DataFrame(
        {"source_file": ["a"] * 4, "record_index": [0, 1, 2, 3], "line_start": [1, 2, 3, 4]}
    )
    # Predicted: {0, 1} and {2, 3}: one right pair of three true, one wrong.
    sources = pl.DataFrame(
        {"source_file": ["a"] * 4, "record_index": [0, 1, 2, 3], "paper_id": ["x", "x", "y", "y"]}
    )
    s = pairwise_score(truth, sources, records)
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (3, 2, 1)
    assert s.precision == 0.5 and s.recall == pytest.approx(1 / 3)


def test_merge_errors_name_the_causes() -> None:
    truth = pl.DataFrame(
        {
            "source_file": ["a"] * 4,
            "line_start": [1, 2, 3, 4],
            "paper_id": ["p", "p", "q", "r"],
            "variant": ["latex", None, None, None],
            "damage": [None, None, None, None],
        }
    )
    papers = pl.DataFrame(
        {"paper_id": ["p", "q", "r"], "hard_negative_kind": [None, "same_title", "same_title"]}
    )
    records = pl.DataFrame(
        {"source_file": ["a"] * 4, "record_index": [0, 1, 2, 3], "line_start": [1, 2, 3, 4]}
    )
    # p is split in two; q and r (a same-title pair) are wrongly merged.
    sources = pl.DataFrame(
        {"source_file": ["a"] * 4, "record_index": [0, 1, 2, 3], "paper_id": ["x", "y", "z", "z"]}
    )
    errors = merge_errors(truth, papers, sources, records)
    assert errors == {
        "wrong_clusters_by_kind": {"same_title": 1},
        "split_papers_by_cause": {"latex": 1},
    }


def test_refresh_publishes_two_coauthors_with_one_name(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    abstract = "We study the serving of large models on small clusters. " * 6
    (raw / "d.txt").write_text(
        "\n".join(
            [
                "Hu, Qinghao",
                "Twin Names: A Study",
                "Wang, Wei, Li, Bo, Wang, Wei, Chen, Yu",
                abstract,
                "Another Paper on Serving",
                "Hu, Qinghao, Li, Bo",
                abstract,
            ]
        ),
        encoding="utf-8",
    )
    dumps, _ = resolve_dumps(raw, date(2026, 11, 22))
    tables, _ = link_tables(combine(extract_batch(dumps)), raw)
    # One printed name is one person (see README, "what cannot be told apart"):
    # the repeated name folds into one author and positions stay 1..n, so the
    # data tests pass and the warehouse is published.
    database, _ = load_and_publish(tables, tmp_path / "warehouse", default_sql_dir())
    assert database.exists()
    positions = tables["paper_authors"].group_by("paper_id").agg(pl.col("author_position").sort())
    for row in positions.iter_rows(named=True):
        assert row["author_position"] == list(range(1, len(row["author_position"]) + 1))


def test_same_name_coauthors_are_off_by_default(corpus: Path) -> None:
    """No paper lists two people whose names paperlake folds to one key (see the xfail above)."""
    papers = pl.read_parquet(corpus / "truth" / "papers.parquet")
    for authors in papers["authors"].to_list():
        folded = [_name_fold(a) for a in authors]
        assert len(set(folded)) == len(folded), authors


def test_peer_comparison_links_the_same_records_with_both_tools(
    corpus: Path, tmp_path: Path
) -> None:
    """splink and paperlake cluster exactly the refresh's records, each scored by the truth."""
    raw = corpus / "raw"
    dumps, _ = resolve_dumps(raw, None)
    tables, _ = link_tables(combine(extract_batch(dumps)), raw)
    warehouse = tmp_path / "warehouse"
    load_and_publish(tables, warehouse, default_sql_dir())
    records = peer.read_records(warehouse)
    assert records.height == tables["records"].height > 300

    res = peer.compare(corpus, records)
    truth = truth_records(corpus)
    refresh = pairwise_score(truth, tables["paper_sources"], tables["records"])
    mine = res["paperlake"]
    # The benchmark's paperlake clusters are the refresh's papers, scored the same way.
    assert (mine["precision"], mine["recall"]) == (refresh.precision, refresh.recall)
    assert (mine["predicted_pairs"], mine["correct_pairs"], mine["true_pairs"]) == (
        refresh.predicted_pairs,
        refresh.correct_pairs,
        refresh.true_pairs,
    )
    assert mine["papers"] == tables["papers"].height

    theirs = res["splink"]
    assert theirs["clustered_records"] == records.height
    assert theirs["records_scored"] == mine["records_scored"] == refresh.records
    assert theirs["true_pairs"] == refresh.true_pairs  # same records, same truth
    scores = [mine, theirs, *theirs["by_threshold"].values()]
    for s in scores:
        assert 0 <= s["precision"] <= 1 and 0 <= s["recall"] <= 1
        assert s["correct_pairs"] <= min(s["predicted_pairs"], s["true_pairs"])
    # A higher threshold never merges more pairs; splink does find the repeats.
    by_threshold = sorted(theirs["by_threshold"].items(), key=lambda kv: float(kv[0]))
    predicted = [s["predicted_pairs"] for _, s in by_threshold]
    assert predicted == sorted(predicted, reverse=True)
    assert by_threshold[0][1]["recall"] > 0.9
    assert theirs["best_threshold"]["f1"] == max(s["f1"] for _, s in by_threshold)
    assert theirs["seconds"] > 0 and mine["seconds"] > 0

    # splink's clusters cover exactly the records it was given, once each.
    run, _ = peer.run_splink(records)
    keys = ["source_file", "record_index"]
    assert run.clusters.select(keys).sort(keys).equals(records.select(keys).sort(keys))
    assert run.clusters["paper_id"].null_count() == 0
    text = "\n".join(peer.report_lines(res))
    assert "splink" in text and "paperlake" in text


def test_runner_end_to_end_on_a_tiny_corpus(tmp_path: Path) -> None:
    """The runner prints every figure (values are not checked: they are timings)."""
    corpus = tmp_path / "corpus"
    generate(GenConfig(size_bytes=150_000, seed=11, median_records=15), corpus)
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--corpus",
            str(corpus),
            "--work",
            str(tmp_path / "work"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for label in [
        "floor (read lines)",
        "extract",
        "link",
        "load+publish",
        "prefect start-up (empty)",
        "flow end to end (process)",
        "incremental (+",
        "refresh / floor =",
        "flow stages / floor =",
        "flow overhead (end-stages)",
        "incremental / full refresh =",
        "peak RSS / input =",
        "link RSS MB  full:",
        "link RSS MB  +1 MB:",
        "linkage      precision",
        "views ms",
        "extract MB/s",
        "peer         paperlake",
        "peer         splink",
    ]:
        assert label in text, label
    res = json.loads(out.read_text(encoding="utf-8"))
    assert set(res["stages"]["stages"]) == {"extract", "link", "load+publish"}
    for stage in res["stages"]["stages"].values():
        assert stage["seconds"] > 0 and stage["peak_rss_mb"] > 0
    assert res["stages"]["records"] > 0 and res["floor"]["lines"] > 0
    # Each linking step has its own peak, and the link stage's is the highest of them.
    for run in ("stages", "incremental"):
        peaks = res[run]["link_step_peak_rss_mb"]
        assert set(res[run]["link_steps"]) | {"(between steps)"} == set(peaks)
        assert all(mb > 0 for mb in peaks.values())
        assert res[run]["stages"]["link"]["peak_rss_mb"] >= max(peaks.values())
    assert 0 < res["linkage"]["precision"] <= 1 and 0 < res["linkage"]["recall"] <= 1
    assert res["linkage"]["records_scored"] == res["stages"]["records"]
    assert res["flow"]["records"] == res["stages"]["records"]
    assert res["incremental"]["records"] > res["stages"]["records"]
    assert {"papers", "records", "sources"} <= set(res["views"])
    # The peer step matched the stages' records and scored them as the linkage row does.
    assert res["peer"]["records"] == res["stages"]["records"]
    assert res["peer"]["paperlake"]["precision"] == res["linkage"]["precision"]
    assert res["peer"]["paperlake"]["recall"] == res["linkage"]["recall"]
    assert res["peer"]["splink"]["clustered_records"] == res["stages"]["records"]
    table = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--table", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert "peer: splink linkage s / P / R" in table


def test_runner_full_only_needs_no_truth(tmp_path: Path) -> None:
    """--full-only (the 4 GB run): floor, an empty run, the full refresh; no truth read."""
    corpus = tmp_path / "corpus"
    generate(GenConfig(size_bytes=60_000, seed=5, median_records=10), corpus)
    shutil.rmtree(corpus / "truth")
    (corpus / "corpus.json").unlink()
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "benchmarks.run", "--corpus", str(corpus)]
    command += ["--work", str(tmp_path / "work"), "--json", str(out), "--full-only"]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "peak RSS beyond an empty run / input =" in proc.stdout
    assert "linkage" not in proc.stdout and "incremental" not in proc.stdout
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["stages"]["records"] > 0 and "incremental" not in res
    table = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--table", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert "| incremental +1 MB s (/ full) | - |" in table
