"""Benchmark a full refresh on a generated corpus and print the figures.

    python -m benchmarks.run --corpus /tmp/corpus-100mb [--json out.json]

Each measured step runs in its own Python process, so its peak RSS is its own
(read from /proc/self/status VmHWM, reset between stages with
/proc/self/clear_refs; ru_maxrss where that is missing). Steps:

- floor: only read the same files into a Polars column of lines (decode UTF-8,
  split on line ends): the least any refresh must do;
- stages: the plain stage functions of ``pipelines.refresh`` (extract with the
  flow's batching and thread pool, link, load+publish), timed one by one;
- prefect start-up: an empty Prefect flow run in a fresh process;
- flow: the real ``refresh_flow`` end to end, as ``paperlake refresh`` runs it;
- incremental: the corpus plus one new ~1 MB dump, refreshed again by the
  flow on the flow's warehouse (its extraction cache reused), compared with
  the flow's own full refresh; without Prefect, the stages on N+1 files;
- views: each DuckDB view of the published warehouse, read in full;
- linkage: pairwise precision/recall of paper merges against the truth;
- peer: the same records matched by paperlake and by splink, each timed and
  scored against the truth (``benchmarks.peer``; ``--no-splink`` skips it).

Sizes are decimal: 1 MB = 1,000,000 bytes. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path

RESULT_TAG = "BENCH-RESULT "
MB = 1_000_000
ROOT = Path(__file__).resolve().parents[1]


# --- measuring inside a step process -----------------------------------------------


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakRss:
    """Peak resident memory of this process, resettable per stage (Linux)."""

    def __init__(self) -> None:
        self.resettable = self.reset()

    def reset(self) -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def peak_mb(self) -> float:
        kb = _status_kb("VmHWM")
        if kb is None:
            kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb * 1024 / MB


def _emit(result: dict) -> None:
    print(RESULT_TAG + json.dumps(result, default=str), flush=True)


def _input_bytes(raw: Path) -> tuple[int, int]:
    from pipelines.sources import discover_dumps

    files = discover_dumps(raw)
    return len(files), sum(p.stat().st_size for p in files)


def step_floor(raw: Path) -> dict:
    """Read every dump into one Polars column of lines, nothing else."""
    import polars as pl

    from pipelines.sources import discover_dumps

    rss = PeakRss()
    start = time.perf_counter()
    columns = []
    for path in discover_dumps(raw):
        text = path.read_bytes().decode("utf-8", errors="replace")
        columns.append(pl.Series("line", [text]).str.split("\n").explode())
    lines = pl.concat(columns) if columns else pl.Series("line", [], dtype=pl.String)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "lines": lines.len(), "peak_rss_mb": rss.peak_mb()}


BETWEEN_STEPS = "(between steps)"


class _LinkStepPeaks:
    """Each linking step's peak RSS (MB), the high-water mark reset as the step starts.

    Wraps ``linkage._Steps.__call__``, the timer every linking step (full or
    incremental) runs under, for the life of the step process: resetting the
    process's high-water mark is the benchmark's business, not the product's.
    """

    def __init__(self, rss: PeakRss) -> None:
        from pipelines.transform import linkage

        self.peaks: dict[str, float] = {}
        timed = linkage._Steps.__call__
        peaks = self.peaks

        @contextmanager
        def measured(steps, name: str) -> Iterator[None]:
            # What ran since the last step ended (or the stage started) keeps its peak too.
            gap = rss.peak_mb()
            peaks[BETWEEN_STEPS] = max(peaks.get(BETWEEN_STEPS, 0.0), gap)
            rss.reset()
            with timed(steps, name):
                yield
            peaks[name] = max(peaks.get(name, 0.0), rss.peak_mb())
            rss.reset()

        linkage._Steps.__call__ = measured


def step_refresh(raw: Path, warehouse: Path) -> dict:
    """One refresh by the plain stage functions of ``pipelines.refresh``, each stage timed
    with its own peak RSS, on ``warehouse`` as the flow would: its dumps' hashes,
    extraction cache and linkage state make a second run on the same warehouse
    incremental, and one with nothing new stop before linking."""
    from pipelines import extract as extraction
    from pipelines import store
    from pipelines.config import default_sql_dir
    from pipelines.memory import give_back_freed_memory
    from pipelines.refresh import (
        batches,
        collect_extractions,
        extract_batch,
        link_warehouse,
        plan_extraction,
        unchanged_summary,
    )
    from pipelines.sources import resolve_dumps
    from pipelines.staging import build_info, discarded_on_failure, publish_version, write_version

    # The flow's fan-out: 2 batches per core on a pool of one thread per core.
    workers = os.cpu_count() or 2
    rss = PeakRss()
    baseline_mb = (_status_kb("VmRSS") or 0) * 1024 / MB  # interpreter + libraries
    step_peaks = _LinkStepPeaks(rss)
    out: dict[str, dict] = {}
    cache = store.cache_dir(warehouse)
    with store.warehouse_lock(warehouse):
        store.recover(warehouse)
        start = time.perf_counter()
        # The incremental step's raw folder is symbolic links to the corpus (see _link_raw).
        dumps, _ = resolve_dumps(raw, None, follow_links=True)
        hashes = store.read_file_hashes(warehouse)
        plan = plan_extraction(dumps, cache, extraction.PARSER_VERSION, hashes)
        store.write_file_hashes(warehouse, hashes)
        misses = [p.dump for p in plan if not p.cached]
        by_file = {p.dump.source_file: p for p in plan}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # As the flow's threads do: each batch caches what it parses as it goes.
            parts = list(
                pool.map(lambda b: extract_batch(b, cache, by_file), batches(misses, 2 * workers))
            )
        fresh = [e for part in parts for e in part]
        del parts
        collected = collect_extractions(plan, fresh, cache)
        del fresh
        out["extract"] = {"seconds": time.perf_counter() - start, "peak_rss_mb": rss.peak_mb()}

        # "link": the comparison with the published version, and the link when it is needed.
        rss.reset()
        start = time.perf_counter()
        summary = unchanged_summary(plan, collected, warehouse, raw, default_sql_dir(), [])
        linked = link_warehouse(collected, warehouse, raw) if summary is None else None
        # The steps reset the high-water mark: the stage's peak is its highest step's.
        link_peak = max([rss.peak_mb(), *step_peaks.peaks.values()])
        out["link"] = {"seconds": time.perf_counter() - start, "peak_rss_mb": link_peak}

        rss.reset()
        start = time.perf_counter()
        published = False
        if linked is not None:
            link, counts, sources = linked.report, linked.counts, linked.tables["sources"]
            info = build_info(plan, linked.tables, linked.report)
            # As the flow does: the frames go as they are written, the rest after.
            frames = linked.hand_over()
            written = write_version(frames, warehouse, default_sql_dir(), info, linked.changed)
            del linked, frames
            give_back_freed_memory()
            with discarded_on_failure(written):
                staged = publish_version(written)
            if staged.path is not None:
                store.promote(warehouse, staged.path)
            published = not staged.unchanged
        store.prune_versions(warehouse, 1)
        store.prune_extract_cache(cache, {key for _, key in collected.entries})
        out["load+publish"] = {"seconds": time.perf_counter() - start, "peak_rss_mb": rss.peak_mb()}
    if summary is not None:
        link, sources = summary.link, summary.sources
        counts = {"records": summary.n_records, "papers": summary.n_papers}
    return {
        "stages": out,
        "link_steps": link.seconds,
        "link_step_peak_rss_mb": step_peaks.peaks,
        "link_mode": link.mode,
        "link_changes": link.changes,
        "published": published,
        "records": counts["records"],
        "papers": counts["papers"],
        "parsed": sum(1 for how in collected.how.values() if how == "parsed"),
        "rejected_lines": int(sources["n_rejected_lines"].sum()),
        "quarantined_files": int(sources["format"].is_null().sum()),
        "rss_resettable": rss.resettable,
        "baseline_rss_mb": baseline_mb,
        "peak_rss_mb": max(s["peak_rss_mb"] for s in out.values()),
    }


def step_formats(raw: Path, sample_mb: float = 20.0) -> dict:
    """Extraction speed per format, on up to ``sample_mb`` of each format.

    Says which parser holds extraction back. Files are taken in name order and
    each format's sample is extracted as one batch, as a refresh extracts.
    """
    from pipelines.extract import DumpBytes, extract_dumps
    from pipelines.extract.registry import detect_format
    from pipelines.extract.text import decode_dump, split_lines
    from pipelines.sources import resolve_dumps

    dumps, _ = resolve_dumps(raw, None)
    samples: dict[str, list[DumpBytes]] = {}
    for dump in dumps:
        data = dump.path.read_bytes()
        guess = detect_format(split_lines(decode_dump(data[:65536]).text)).format
        sample = samples.setdefault(guess or "(quarantined)", [])
        if sum(len(d.data) for d in sample) / MB < sample_mb:
            sample.append(
                DumpBytes(data, dump.source_file, dump.capture_date, dump.capture_date_origin)
            )
    per: dict[str, dict] = {}
    for fmt, sample in sorted(samples.items()):
        start = time.perf_counter()
        extracted = extract_dumps(sample)
        seconds = time.perf_counter() - start
        mb = sum(len(d.data) for d in sample) / MB
        per[fmt] = {
            "files": len(sample),
            "mb": mb,
            "seconds": seconds,
            "records": sum(e.records.height for e in extracted),
            "mb_per_s": mb / seconds if seconds else None,
        }
    return {"formats": per}


def step_empty_flow() -> dict:
    """Import Prefect and run a flow that does nothing: the fixed cost of a flow run."""
    start = time.perf_counter()
    from prefect import flow

    @flow(name="paperlake-bench-empty")
    def empty() -> int:
        return 0

    empty()
    return {"seconds": time.perf_counter() - start}


def step_flow(raw: Path, warehouse: Path) -> dict:
    """``refresh_flow`` end to end, as the CLI runs it."""
    rss = PeakRss()
    start = time.perf_counter()
    from pipelines.flows import refresh_flow

    # follow_links: the incremental step's raw folder is symbolic links to the corpus.
    summary = refresh_flow(raw_dir=str(raw), warehouse_dir=str(warehouse), follow_links=True)
    return {
        "seconds": time.perf_counter() - start,
        "stage_seconds": summary.stage_seconds,
        "records": summary.n_records,
        "papers": summary.n_papers,
        "peak_rss_mb": rss.peak_mb(),
    }


def step_views(database: Path) -> dict:
    """Each view of the DuckDB file, in milliseconds: read in full (fetched to Arrow), and
    its first 1,000 rows (what a dashboard's table shows first). Analysis views
    (``sql/marts``) are marked ``layer: analysis``."""
    import duckdb

    from pipelines.config import default_sql_dir

    analysis = {p.stem for p in (default_sql_dir() / "marts").glob("*.sql")}
    con = duckdb.connect(str(database), read_only=True)
    try:
        names = [
            r[0]
            for r in con.sql(
                "select view_name from duckdb_views() where not internal order by view_name"
            ).fetchall()
        ]
        views = {}
        for name in names:
            start = time.perf_counter()
            con.sql(f'select * from "{name}" limit 1000').fetch_arrow_table()
            first_page_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            table = con.sql(f'select * from "{name}"').fetch_arrow_table()
            views[name] = {
                "ms": (time.perf_counter() - start) * 1000,
                "first_page_ms": first_page_ms,
                "rows": table.num_rows,
                "layer": "analysis" if name in analysis else "staging",
            }
    finally:
        con.close()
    return {"views": views}


def step_peer(corpus: Path, warehouse: Path) -> dict:
    """paperlake's matcher and splink on the warehouse's records (see ``benchmarks.peer``)."""
    from benchmarks.peer import compare, read_records

    return compare(corpus, read_records(warehouse))


STEPS = {
    "floor": lambda a: step_floor(a.raw),
    "refresh": lambda a: step_refresh(a.raw, a.warehouse),
    "formats": lambda a: step_formats(a.raw),
    "empty-flow": lambda a: step_empty_flow(),
    "flow": lambda a: step_flow(a.raw, a.warehouse),
    "views": lambda a: step_views(a.warehouse / "paperlake.duckdb"),
    "peer": lambda a: step_peer(a.corpus, a.warehouse),
}


# --- the driver -------------------------------------------------------------------------


def _child_env(prefect_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(prefect_home))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    env.setdefault("PREFECT_LOGGING_LOGGERS_ROOT_LEVEL", "CRITICAL")
    env.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_step(step: str, env: dict[str, str], **paths: Path) -> dict:
    """Run one step in a fresh process; return its result plus the process's wall time."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--step", step]
    for name, value in paths.items():
        cmd += [f"--{name}", str(value)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"step {step} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_TAG)]
    if not lines:
        raise RuntimeError(f"step {step} printed no result:\n{proc.stdout[-2000:]}")
    result = json.loads(lines[-1][len(RESULT_TAG) :])
    result["process_seconds"] = wall
    return result


def _total_seconds(result: dict) -> float:
    if "stages" in result:
        return sum(s["seconds"] for s in result["stages"].values())
    if "formats" in result:
        return sum(f["seconds"] for f in result["formats"].values())
    if "paperlake" in result:  # the peer step: both tools' linkage
        return sum(result[tool]["seconds"] for tool in ("paperlake", "splink") if tool in result)
    return result.get("seconds", result["process_seconds"])


def run_best(step: str, env: dict[str, str], repeat: int, **paths: Path) -> dict:
    """Run a step ``repeat`` times and keep the fastest run (noise on a shared machine
    only ever adds time)."""
    runs = [run_step(step, env, **paths) for _ in range(max(1, repeat))]
    best = min(runs, key=_total_seconds)
    best["runs_seconds"] = [round(_total_seconds(r), 3) for r in runs]
    return best


def _link_raw(corpus_raw: Path, extra_raw: Path, target: Path) -> None:
    """A raw folder of symlinks: the corpus's dumps plus the extra dump, one manifest."""
    target.mkdir(parents=True)
    manifest = (corpus_raw / "manifest.toml").read_text(encoding="utf-8").rstrip("\n")
    for folder in (corpus_raw, extra_raw):
        for path in sorted(folder.iterdir()):
            if path.name != "manifest.toml":
                (target / path.name).symlink_to(path.resolve())
    extra = (extra_raw / "manifest.toml").read_text(encoding="utf-8")
    extra_lines = [line for line in extra.splitlines() if line.startswith('"')]
    (target / "manifest.toml").write_text(
        manifest + "\n" + "\n".join(extra_lines) + "\n", encoding="utf-8"
    )


def extra_dump(meta: dict, out: Path, size: int = MB) -> Path:
    """One new profile-page dump of ``size`` bytes for a corpus (``corpus.json``'s meta)."""
    from benchmarks.generate import GenConfig, generate

    generate(
        GenConfig(
            size_bytes=size,
            seed=int(meta["config"]["seed"]) + 7919,
            only_format="profile_page",
            prefix="inc_",
            median_records=100_000,
            max_files=1,
            capture_start=date(2026, 11, 22),
        ),
        out,
    )
    return out


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("polars", "duckdb", "pyarrow", "prefect"):
        out[pkg] = version(pkg)
    return out


def _machine() -> dict:
    mem_kb = _status_meminfo()
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "platform": platform.platform(),
    }


def _status_meminfo() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def benchmark(
    corpus: Path,
    work: Path,
    *,
    prefect: bool = True,
    splink: bool = True,
    extra_size: int = MB,
    repeat: int = 1,
    full_only: bool = False,
) -> dict:
    """Run every step on ``corpus`` (made by benchmarks.generate); return the figures.

    ``full_only``: the floor, an empty run and the full refresh only (for corpora
    too large to refresh many times, or without truth).
    """

    from benchmarks.truth import pairwise_score, truth_records
    from pipelines.store import read_table

    raw = corpus / "raw"
    env = _child_env(work / "prefect-home")
    n_files, n_bytes = _input_bytes(raw)
    res: dict = {
        "corpus": str(corpus),
        "files": n_files,
        "input_mb": n_bytes / MB,
        "machine": _machine(),
        "versions": _versions(),
        "date": date.today().isoformat(),
        "repeat": repeat,
        "load_average_before": os.getloadavg(),
    }

    res["floor"] = run_best("floor", env, repeat, raw=raw)
    # An empty run: what a refresh of nothing costs (interpreter, libraries, DuckDB).
    empty_raw = work / "raw-empty"
    empty_raw.mkdir(parents=True, exist_ok=True)
    res["empty"] = run_step("refresh", env, raw=empty_raw, warehouse=work / "warehouse-empty")
    warehouse = work / "warehouse"
    res["stages"] = _full_refresh(env, repeat, raw, warehouse)
    if full_only:
        res["load_average_after"] = os.getloadavg()
        return res
    meta = json.loads((corpus / "corpus.json").read_text(encoding="utf-8"))
    res["views"] = run_best("views", env, repeat, warehouse=warehouse)["views"]
    res["formats"] = run_best("formats", env, repeat, raw=raw)["formats"]

    # Linkage against the truth, read from the warehouse the stages wrote.
    truth = truth_records(corpus)
    score = pairwise_score(
        truth,
        read_table(warehouse, "paper_sources"),
        read_table(warehouse, "records", ["source_file", "record_index", "line_start"]),
    )
    res["linkage"] = {
        "precision": score.precision,
        "recall": score.recall,
        "records_scored": score.records,
        "true_pairs": score.true_pairs,
        "predicted_pairs": score.predicted_pairs,
        "correct_pairs": score.correct_pairs,
        "truth_records_not_parsed": score.missing_truth,
        "parsed_records_not_in_truth": score.unknown_parsed,
        "truth_records": truth.height,
    }
    del truth
    if splink:
        res["peer"] = run_best("peer", env, repeat, corpus=corpus, warehouse=warehouse)

    # Nothing changed, on the warehouse (cache and linkage state) the full refresh left.
    res["no_change"] = run_best("refresh", env, repeat, raw=raw, warehouse=warehouse)

    # Incremental: one new ~1 MB profile-page dump next to the corpus.
    extra = extra_dump(meta, work / "extra", extra_size)
    inc_raw = work / "raw-incremental"
    _link_raw(raw, extra / "raw", inc_raw)
    added_mb = sum(p.stat().st_size for p in (extra / "raw").glob("*.txt")) / MB
    # As a user refreshes: the same warehouse, whose cache and state hold every old
    # dump. Each repeat first rolls the +1 MB version back.
    runs = []
    for i in range(max(1, repeat)):
        if i:
            from pipelines import store

            store.rollback(warehouse)
        runs.append(run_step("refresh", env, raw=inc_raw, warehouse=warehouse))
    inc = min(runs, key=_total_seconds)
    inc["runs_seconds"] = [round(_total_seconds(r), 3) for r in runs]
    inc["compared_with"] = "stages"
    inc["added_mb"] = added_mb
    res["incremental"] = inc

    if prefect:
        res["prefect_startup"] = run_step("empty-flow", env)
        res["flow"] = run_step("flow", env, raw=raw, warehouse=work / "warehouse-flow")
        flow_inc = run_step("flow", env, raw=inc_raw, warehouse=work / "warehouse-flow")
        flow_inc["added_mb"] = added_mb
        res["flow_incremental"] = flow_inc
    res["load_average_after"] = os.getloadavg()
    return res


def _full_refresh(env: dict[str, str], repeat: int, raw: Path, warehouse: Path) -> dict:
    """The full refresh, from an empty warehouse each time; the fastest of ``repeat``."""
    runs = []
    for _ in range(max(1, repeat)):
        shutil.rmtree(warehouse, ignore_errors=True)
        runs.append(run_step("refresh", env, raw=raw, warehouse=warehouse))
    best = min(runs, key=_total_seconds)
    best["runs_seconds"] = [round(_total_seconds(r), 3) for r in runs]
    return best


def _incremental(res: dict, key: str = "incremental") -> tuple[float, float, str]:
    """(incremental seconds, the full refresh it compares with, what that is)."""
    inc = res[key]
    if "stages" not in inc:  # a flow run: its own stage times
        seconds = sum(inc["stage_seconds"].values())
    else:
        seconds = sum(s["seconds"] for s in inc["stages"].values())
    if inc.get("compared_with", "flow") == "flow":
        return seconds, sum(res["flow"]["stage_seconds"].values()), "flow stages"
    return seconds, sum(s["seconds"] for s in res["stages"]["stages"].values()), "stages"


def _beyond_empty(res: dict) -> float | None:
    """Peak RSS of the full refresh beyond that of an empty run (MB), if measured."""
    if "empty" not in res:
        return None
    return (
        max(s["peak_rss_mb"] for s in res["stages"]["stages"].values())
        - res["empty"]["peak_rss_mb"]
    )


def _stage_rows(res: dict) -> list[tuple[str, float, float | None]]:
    stages = res["stages"]["stages"]
    rows = [(name, s["seconds"], s["peak_rss_mb"]) for name, s in stages.items()]
    rows.append(("refresh (all stages)", sum(s["seconds"] for s in stages.values()), None))
    return rows


def report(res: dict) -> str:
    """The figures as plain text, one fact per line."""
    mb, records = res["input_mb"], res["stages"]["records"]
    floor = res["floor"]["seconds"]
    stages = res["stages"]["stages"]
    total = sum(s["seconds"] for s in stages.values())
    peak = max(s["peak_rss_mb"] for s in stages.values())
    out = [
        f"corpus       {res['corpus']}: {res['files']} files, {mb:.1f} MB, "
        f"{records} records parsed, {res['stages']['papers']} papers",
        f"machine      {res['machine']['cpus']} cores, {res['machine']['memory_gib']} GiB; "
        + ", ".join(f"{k} {v}" for k, v in res["versions"].items()),
        f"load         1-min load average {res['load_average_before'][0]:.1f} before, "
        f"{res['load_average_after'][0]:.1f} after; best of {res['repeat']} runs per step "
        "(Prefect steps: one run)",
        "",
        f"{'step':28} {'seconds':>9} {'MB/s':>8} {'records/s':>11} {'peak RSS MB':>12}",
    ]

    def row(name: str, seconds: float, rss: float | None, rates: bool = True) -> str:
        rate = f"{mb / seconds:8.1f}" if seconds and rates else f"{'-':>8}"
        rps = f"{records / seconds:11.0f}" if seconds and rates else f"{'-':>11}"
        rss_text = f"{rss:12.0f}" if rss is not None else f"{'-':>12}"
        return f"{name:28} {seconds:9.2f} {rate} {rps} {rss_text}"

    out.append(row("floor (read lines)", floor, res["floor"]["peak_rss_mb"]))
    for name, seconds, rss in _stage_rows(res):
        out.append(row(name, seconds, rss))
    if "flow" in res:
        startup = res["prefect_startup"]["process_seconds"]
        flow = res["flow"]["process_seconds"]
        in_flow = sum(res["flow"]["stage_seconds"].values())
        out.append(row("prefect start-up (empty)", startup, None, rates=False))
        out.append(row("flow end to end (process)", flow, res["flow"]["peak_rss_mb"]))
        out.append(row("flow stages (inside flow)", in_flow, None))
        out.append(row("flow overhead (end-stages)", flow - in_flow, None, rates=False))
    if "empty" in res:
        empty = res["empty"]
        out.append(row("empty run", _total_seconds(empty), empty["peak_rss_mb"], rates=False))
    if "no_change" in res:
        out.append(row("no-change refresh", _total_seconds(res["no_change"]), None, rates=False))
    if "incremental" in res:
        inc = res["incremental"]
        inc_total, inc_base, inc_what = _incremental(res)
        out.append(row(f"incremental (+{inc['added_mb']:.2f} MB)", inc_total, None))
    if "flow_incremental" in res:
        flow_inc, _, _ = _incremental(res, "flow_incremental")
        out.append(row("flow incremental (stages)", flow_inc, None, rates=False))
    out += [
        "",
        f"ratio        refresh / floor = {total / floor:.2f}",
    ]
    if "flow" in res:
        in_flow = sum(res["flow"]["stage_seconds"].values())
        out.append(f"ratio        flow stages / floor = {in_flow / floor:.2f}")
    if "no_change" in res:
        no_change = _total_seconds(res["no_change"])
        out.append(f"ratio        no-change / full refresh = {no_change / total:.2f}")
    if "incremental" in res:
        ratio = inc_total / inc_base
        out.append(f"ratio        incremental / full refresh = {ratio:.2f} ({inc_what})")
    if "flow_incremental" in res:
        flow_inc, flow_base, _ = _incremental(res, "flow_incremental")
        out.append(f"ratio        flow incremental / flow stages = {flow_inc / flow_base:.2f}")
    out.append(
        f"ratio        peak RSS / input = {peak / mb:.2f} "
        f"(baseline RSS after imports {res['stages']['baseline_rss_mb']:.0f} MB)"
    )
    beyond = _beyond_empty(res)
    if beyond is not None:
        out.append(
            f"ratio        peak RSS beyond an empty run / input = {beyond / mb:.2f} "
            f"({beyond:.0f} MB beyond the empty run's {res['empty']['peak_rss_mb']:.0f} MB)"
        )
    out.append("")
    share = ", ".join(f"{name} {s['seconds'] / total:.0%}" for name, s in stages.items())
    out.append(f"time share   {share}")
    for key, label in (("stages", "full"), ("no_change", "no change"), ("incremental", "+1 MB")):
        steps = res.get(key, {}).get("link_steps")
        if steps:
            link_total = sum(steps.values()) or 1.0
            parts = ", ".join(f"{n} {v:.1f} s ({v / link_total:.0%})" for n, v in steps.items())
            out.append(f"link steps   {label}: {parts}")
        peaks = res.get(key, {}).get("link_step_peak_rss_mb")
        if peaks:
            parts = ", ".join(f"{n} {v:.0f}" for n, v in peaks.items())
            out.append(f"link RSS MB  {label}: {parts}")
    if "linkage" not in res:  # a full-only run: no per-format, linkage or view steps
        return "\n".join(out)
    fmts = ", ".join(
        f"{name} {f['mb_per_s']:.1f}"
        for name, f in sorted(res["formats"].items())
        if f.get("mb_per_s") is not None
    )
    out.append(f"extract MB/s {fmts} (per format, each sample parsed as one batch)")
    link = res["linkage"]
    out.append(
        f"linkage      precision {link['precision']:.4f}  recall {link['recall']:.4f}  "
        f"({link['records_scored']} records scored, {link['true_pairs']} true pairs, "
        f"{link['predicted_pairs']} predicted, {link['correct_pairs']} correct; "
        f"{link['truth_records_not_parsed']} truth records not parsed)"
    )
    slowest = max(res["views"].items(), key=lambda kv: kv[1]["ms"], default=None)
    views = ", ".join(f"{k} {v['ms']:.0f}" for k, v in sorted(res["views"].items()))
    out.append(f"views ms     {views}")
    if slowest:
        out.append(f"views        slowest {slowest[0]} {slowest[1]['ms']:.0f} ms")
    for label, (name, ms) in _slowest_analysis_view(res["views"]).items():
        out.append(f"analysis     slowest view, {label}: {name} {ms:.0f} ms")
    if "peer" in res:
        from benchmarks.peer import report_lines

        out += report_lines(res["peer"])
    return "\n".join(out)


def _slowest_analysis_view(views: dict) -> dict[str, tuple[str, float]]:
    """The slowest analysis view (sql/marts) read in full, and by its first 1,000 rows."""
    marts = {k: v for k, v in views.items() if v.get("layer") == "analysis"}
    out = {}
    for label, field in (("full read", "ms"), ("first 1,000 rows", "first_page_ms")):
        timed = [(k, v[field]) for k, v in marts.items() if field in v]
        if timed:
            out[label] = max(timed, key=lambda kv: kv[1])
    return out


def markdown_table(runs: list[dict]) -> str:
    """Saved runs side by side, as a Markdown table (for BENCHMARKS.md)."""
    from benchmarks.peer import SPLINK_THRESHOLD

    def stage(r: dict, name: str) -> dict:
        return r["stages"]["stages"][name]

    def total(r: dict) -> float:
        return sum(s["seconds"] for s in r["stages"]["stages"].values())

    def peak(r: dict) -> float:
        return max(s["peak_rss_mb"] for s in r["stages"]["stages"].values())

    def flow(r: dict, key: str) -> str:
        if "flow" not in r:
            return "-"
        in_flow = sum(r["flow"]["stage_seconds"].values())
        wall = r["flow"]["process_seconds"]
        values = {
            "wall": wall,
            "stages": in_flow,
            "overhead": wall - in_flow,
            "startup": r["prefect_startup"]["process_seconds"],
            "rss": r["flow"]["peak_rss_mb"],
        }
        return f"{values[key]:.1f}" if key != "rss" else f"{values[key]:.0f}"

    def inc(r: dict) -> str:
        seconds, base, what = _incremental(r)
        return f"{seconds:.1f} ({seconds / base:.2f} of {what})"

    def flow_inc(r: dict) -> str:
        if "flow_incremental" not in r:
            return "-"
        seconds, base, _ = _incremental(r, "flow_incremental")
        return f"{seconds:.1f} ({seconds / base:.2f})"

    def no_change(r: dict) -> str:
        if "no_change" not in r:
            return "-"
        seconds = _total_seconds(r["no_change"])
        return f"{seconds:.1f} ({seconds / total(r):.2f})"

    def beyond(r: dict) -> str:
        extra = _beyond_empty(r)
        return "-" if extra is None else f"{extra:.0f} ({extra / r['input_mb']:.1f}x)"

    def peer(r: dict, tool: str) -> str:
        runs = r.get("peer", {})  # absent from runs saved before the peer step
        if tool == "best":
            if "splink" not in runs:
                return "-"
            b = runs["splink"]["best_threshold"]
            return f"{b['threshold']} / {b['precision']:.4f} / {b['recall']:.4f}"
        if tool not in runs:
            return "-"
        t = runs[tool]
        return f"{t['seconds']:.1f} / {t['precision']:.4f} / {t['recall']:.4f}"

    rows: list[tuple[str, object]] = [
        ("input MB / files", lambda r: f"{r['input_mb']:.0f} / {r['files']}"),
        (
            "records parsed / papers",
            lambda r: f"{r['stages']['records']} / {r['stages']['papers']}",
        ),
        (
            "floor s (MB/s)",
            lambda r: f"{r['floor']['seconds']:.2f} ({r['input_mb'] / r['floor']['seconds']:.0f})",
        ),
    ]

    def stage_cell(r: dict, n: str) -> str:
        sec = stage(r, n)["seconds"]
        return (
            f"{sec:.1f} ({r['input_mb'] / sec:.1f}, {r['stages']['records'] / sec:.0f}, "
            f"{stage(r, n)['peak_rss_mb']:.0f})"
        )

    for name in ("extract", "link", "load+publish"):
        rows.append(
            (f"{name} s (MB/s, records/s, peak RSS MB)", lambda r, n=name: stage_cell(r, n))
        )
    rows += [
        (
            "refresh, all stages s (MB/s)",
            lambda r: f"{total(r):.1f} ({r['input_mb'] / total(r):.1f})",
        ),
        ("refresh / floor", lambda r: f"{total(r) / r['floor']['seconds']:.1f}"),
        (
            "time share extract / link / load+publish",
            lambda r: " / ".join(
                f"{s['seconds'] / total(r):.0%}" for s in r["stages"]["stages"].values()
            ),
        ),
        ("peak RSS MB (/ input)", lambda r: f"{peak(r):.0f} ({peak(r) / r['input_mb']:.1f}x)"),
        ("peak RSS beyond an empty run MB (/ input)", beyond),
        ("Prefect empty flow, process s", lambda r: flow(r, "startup")),
        ("flow end to end, process s", lambda r: flow(r, "wall")),
        ("flow stages inside the flow s", lambda r: flow(r, "stages")),
        ("flow overhead (process - stages) s", lambda r: flow(r, "overhead")),
        ("flow process peak RSS MB", lambda r: flow(r, "rss")),
        ("no-change refresh s (/ full)", no_change),
        ("incremental +1 MB s (/ full)", inc),
        ("flow incremental +1 MB s (/ flow stages)", flow_inc),
        (
            "linkage precision / recall",
            lambda r: f"{r['linkage']['precision']:.4f} / {r['linkage']['recall']:.4f}",
        ),
        ("peer: paperlake matching s / P / R", lambda r: peer(r, "paperlake")),
        (f"peer: splink linkage s / P / R (p >= {SPLINK_THRESHOLD})", lambda r: peer(r, "splink")),
        ("peer: splink best threshold, P / R", lambda r: peer(r, "best")),
        (
            "slowest view (any) ms, full read",
            lambda r: "{} {:.0f}".format(
                *max(((k, v["ms"]) for k, v in r["views"].items()), key=lambda kv: kv[1])
            ),
        ),
        (
            "slowest analysis view ms, full read / first 1,000 rows",
            lambda r: (
                " / ".join(
                    f"{name} {ms:.0f}" for name, ms in _slowest_analysis_view(r["views"]).values()
                )
                or "-"
            ),
        ),
        (
            "load average before / after",
            lambda r: f"{r['load_average_before'][0]:.1f} / {r['load_average_after'][0]:.1f}",
        ),
        ("best of", lambda r: str(r["repeat"])),
    ]
    names = [f"{r['input_mb']:.0f} MB" for r in runs]
    out = ["| | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(runs)]

    def cell(fn, r: dict) -> str:
        try:
            return fn(r)
        except KeyError:  # a step this run did not make (a --full-only run)
            return "-"

    for label, fn in rows:
        out.append(f"| {label} | " + " | ".join(cell(fn, r) for r in runs) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--corpus", type=Path, help="a folder made by benchmarks.generate")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp folder)")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--no-prefect", action="store_true", help="skip the two Prefect steps")
    parser.add_argument(
        "--no-splink", action="store_true", help="skip the peer comparison with splink"
    )
    parser.add_argument("--report", type=Path, help="only print the figures of a saved --json")
    parser.add_argument(
        "--table", type=Path, nargs="+", help="print saved --json runs side by side (Markdown)"
    )
    parser.add_argument(
        "--full-only",
        action="store_true",
        help="only the floor, an empty run and the full refresh (no truth needed)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each non-Prefect step N times, keep the best"
    )
    # Internal: run one measured step in this process.
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.step:
        _emit(STEPS[args.step](args))
        return 0
    if args.table:
        runs = [json.loads(p.read_text(encoding="utf-8")) for p in args.table]
        print(markdown_table(runs))
        return 0
    if args.report:
        print(report(json.loads(args.report.read_text(encoding="utf-8"))))
        return 0
    if not args.corpus or not (args.corpus / "raw").is_dir():
        parser.error("--corpus must be a folder made by benchmarks.generate (with raw/)")
    work = args.work or Path(tempfile.mkdtemp(prefix="paperlake-bench-"))
    try:
        res = benchmark(
            args.corpus,
            work,
            prefect=not args.no_prefect,
            splink=not args.no_splink,
            repeat=args.repeat,
            full_only=args.full_only,
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
