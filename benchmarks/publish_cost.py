"""What loading and publishing cost: a full refresh against one dump more.

Extracts and links a corpus's dumps (N files) and the same dumps plus one
new ~1 MB profile page (N+1), then times the load+publish part of a refresh
(``staging.stage_version`` and ``store.promote``: table files, the DuckDB file,
the data tests, the switch):

- full: N files into an empty warehouse;
- +1 MB: the N+1 tables into that same warehouse (what a scheduled refresh
  that finds one new dump does);
- scratch: the N+1 tables into a second, empty warehouse, whose table files
  must be byte for byte those of the +1 MB run.

    python -m benchmarks.publish_cost --corpus /tmp/corpus-100mb --work /tmp/publish-cost

Prints one JSON object: seconds and peak RSS (MB, /proc VmHWM reset per step).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from benchmarks.run import PeakRss, _link_raw, extra_dump


def _tables(raw: Path):
    from concurrent.futures import ThreadPoolExecutor

    from pipelines.refresh import batches, combine, extract_batch, link_tables
    from pipelines.sources import resolve_dumps

    dumps, _ = resolve_dumps(raw, None)
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(extract_batch, batches(dumps, 4)))
    extracted = sorted(
        (e for part in parts for e in part), key=lambda e: e.source["source_file"][0]
    )
    tables, _ = link_tables(combine(extracted), raw)
    return tables


def _publish(tables, warehouse: Path, rss: PeakRss) -> dict:
    from pipelines import refresh, store
    from pipelines.config import default_sql_dir
    from pipelines.transform.linkage import FramesToWrite

    rss.reset()
    start = time.perf_counter()
    with store.warehouse_lock(warehouse):
        store.recover(warehouse)
        frames = FramesToWrite(tables, None)
        staged = refresh.stage_version(frames, warehouse, default_sql_dir(), {"inputs": []})
        if staged.path is not None:
            store.promote(warehouse, staged.path)
    return {"seconds": round(time.perf_counter() - start, 2), "peak_rss_mb": rss.peak_mb()}


def _table_files(warehouse: Path) -> dict[str, bytes]:
    """The published tables' data files and their bytes (0.1: the <table>.parquet names)."""
    from pipelines import store

    if not hasattr(store, "published_tables"):
        return {p.name: p.read_bytes() for p in sorted(warehouse.glob("*.parquet"))}
    return {
        f"{name}/{path.name}": path.read_bytes()
        for name, table in store.published_tables(warehouse).items()
        for path in table.files
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    meta = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))
    extra = extra_dump(meta, args.work / "extra")
    plus_one = args.work / "raw-plus-one"
    _link_raw(args.corpus / "raw", extra / "raw", plus_one)

    rss = PeakRss()
    out: dict = {"corpus": str(args.corpus), "load_average_before": os.getloadavg()}
    tables = _tables(args.corpus / "raw")
    out["full"] = _publish(tables, args.work / "warehouse", rss)
    del tables
    tables = _tables(plus_one)
    out["plus_1mb"] = _publish(tables, args.work / "warehouse", rss)
    out["scratch_plus_1mb"] = _publish(tables, args.work / "scratch", rss)
    out["tables_identical"] = _table_files(args.work / "warehouse") == _table_files(
        args.work / "scratch"
    )
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
