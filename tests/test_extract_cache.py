"""The extraction cache keeps dumps parsed together as one pack: what it holds, what a
damaged pack costs, and what pruning keeps."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import CAPTURE, RAW

from pipelines.extract import DumpBytes, ExtractedDump, extract_dumps
from pipelines.extract.schema import RECORDS, SOURCES
from pipelines.extract_cache import (
    ExtractCache,
    clean_extract_cache,
    prune_extract_cache,
    write_extract_pack,
)


@pytest.fixture(scope="module")
def extracted() -> dict[str, ExtractedDump]:
    """The sample dumps' extractions, keyed by a made-up cache key per file."""
    paths = sorted(RAW.glob("*.txt"))
    dumps = [DumpBytes(p.read_bytes(), p.name, CAPTURE, "manifest") for p in paths]
    return {f"key-{p.name}": e for p, e in zip(paths, extract_dumps(dumps), strict=True)}


def _records(cache: ExtractCache, keys: list[str]) -> pl.DataFrame:
    return cache.scan(keys, "records", RECORDS).collect().sort("source_file", "record_index")


def _expected(extracted: dict[str, ExtractedDump], keys: list[str]) -> pl.DataFrame:
    frames = [extracted[k].records.with_columns(cache_key=pl.lit(k)) for k in keys]
    return pl.concat(frames).sort("source_file", "record_index")


def test_a_pack_gives_back_each_dump_it_holds(
    tmp_path: Path, extracted: dict[str, ExtractedDump]
) -> None:
    keys = sorted(extracted)
    first, second = keys[:3], keys[3:]
    write_extract_pack(tmp_path, [(k, extracted[k]) for k in first])
    write_extract_pack(tmp_path, [(k, extracted[k]) for k in second])
    cache = ExtractCache(tmp_path)
    assert sorted(cache.pack_of) == keys and len(cache.packs) == 2
    # Any subset, across packs, and nothing of the other dumps.
    subset = [first[0], second[-1]]
    assert _records(cache, subset).equals(_expected(extracted, subset))
    assert _records(cache, keys).equals(_expected(extracted, keys))
    sources = cache.scan(subset, "source", SOURCES).collect()
    assert sorted(sources["cache_key"]) == sorted(subset)
    for key in keys:
        assert cache.notes(key) == extracted[key].notes
    assert _records(cache, []).is_empty()
    # Grouped as stored, so that a reader a slice at a time reads each pack once.
    assert cache.by_pack(reversed(keys)) == sorted(
        [list(reversed(first)), list(reversed(second))], key=lambda g: cache.pack_of[g[0]]
    )


def test_a_damaged_or_half_written_pack_holds_nothing(
    tmp_path: Path, extracted: dict[str, ExtractedDump]
) -> None:
    keys = sorted(extracted)
    damaged = write_extract_pack(tmp_path, [(k, extracted[k]) for k in keys[:2]])
    whole = write_extract_pack(tmp_path, [(k, extracted[k]) for k in keys[2:]])
    path = tmp_path / damaged / "rejects.parquet"
    path.write_bytes(path.read_bytes()[:-10])  # cut off: its footer is gone
    (tmp_path / ".tmp-killed-1").mkdir()
    cache = ExtractCache(tmp_path)
    assert set(cache.packs) == {whole} and sorted(cache.pack_of) == keys[2:]
    assert clean_extract_cache(tmp_path) == [".tmp-killed-1"]
    with pytest.raises(KeyError):
        cache.scan(keys[:1], "records", RECORDS)


def test_a_key_in_two_packs_is_read_once(
    tmp_path: Path, extracted: dict[str, ExtractedDump]
) -> None:
    keys = sorted(extracted)
    write_extract_pack(tmp_path, [(k, extracted[k]) for k in keys[:3]])
    write_extract_pack(tmp_path, [(k, extracted[k]) for k in keys[2:]])
    cache = ExtractCache(tmp_path)
    assert _records(cache, keys).equals(_expected(extracted, keys))


def test_pruning_deletes_what_holds_no_kept_key_and_repacks_what_is_mostly_gone(
    tmp_path: Path, extracted: dict[str, ExtractedDump]
) -> None:
    keys = sorted(extracted)
    gone = write_extract_pack(tmp_path, [(k, extracted[k]) for k in keys[:2]])
    mostly_gone = write_extract_pack(tmp_path, [(k, extracted[k]) for k in keys[2:]])
    (tmp_path / "foreign.txt").write_text("not a pack")
    kept = {keys[2]}
    removed = prune_extract_cache(tmp_path, kept)
    assert sorted(removed) == sorted([gone, mostly_gone, "foreign.txt"])
    cache = ExtractCache(tmp_path)
    # One pack left, holding only the kept dump, with its rows and notes.
    assert list(cache.pack_of) == [keys[2]] and len(cache.packs) == 1
    assert _records(cache, [keys[2]]).equals(_expected(extracted, [keys[2]]))
    assert cache.notes(keys[2]) == extracted[keys[2]].notes
    # Half or more of a pack kept: the pack stays as it is.
    assert prune_extract_cache(tmp_path, kept) == []


def test_extractions_made_elsewhere_are_cached_a_pack_per_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dask workers hand back whole extractions: the flow process caches them in packs
    of about a chunk's bytes each, as the threads do, and links them from there."""
    import pipelines.extraction as extraction
    from pipelines.extract import PARSER_VERSION
    from pipelines.sources import resolve_dumps

    dumps, _ = resolve_dumps(RAW, None)
    cache = tmp_path / "cache"
    plan = extraction.plan_extraction(dumps, cache, PARSER_VERSION)
    fresh = extraction.extract_batch([p.dump for p in plan])  # no cache: as a worker returns them
    assert all(isinstance(e, ExtractedDump) for e in fresh)
    # Two sample dumps' worth of bytes per pack.
    sizes = sorted(p.size for p in plan)
    monkeypatch.setattr(extraction, "EXTRACT_CHUNK_BYTES", sizes[0] + sizes[1])
    collected = extraction.collect_extractions(plan, fresh, cache)
    stored = ExtractCache(cache)
    assert 1 < len(stored.packs) < len(plan)
    assert sorted(k for _, k in collected.entries) == sorted(stored.pack_of)
    assert set(collected.how.values()) == {extraction.PARSED}
    # The next run finds every dump cached.
    again = extraction.plan_extraction(dumps, cache, PARSER_VERSION)
    assert all(p.cached for p in again)
