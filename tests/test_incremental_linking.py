"""Incremental linking gives, byte for byte, the tables (and the state) of linking from scratch.

A pool of dumps (the samples, small generated dumps with repeats and look-alikes
across dumps, and a weak collapsed-page split that a name in another dump
rescues) is added, changed and removed in random order. After every step the
refresh links from the previous step's state, kept as Parquet the way a
version keeps it, and from nothing; both must write the same Parquet bytes,
the incremental side into the previous step's files with the link's hints
(buckets kept, and the changed papers' rows patched into the published rows
of the other buckets), so that a bucket the hints wrongly call unchanged
keeps a stale file and a paper they wrongly leave out keeps stale rows.
Copies of a dump under other names and a tiny block-size cap make blocks cross
the cap in both directions.
"""

from __future__ import annotations

import functools
import os
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import RAW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelines.extract as extract
from pipelines import layout, load
from pipelines.config import MatchConfig
from pipelines.curation import read_aliases, read_overrides
from pipelines.load import write_tables
from pipelines.refresh import (
    CacheSource,
    collect_extractions,
    collect_tables,
    extract_batch,
    plan_extraction,
)
from pipelines.sources import resolve_dumps
from pipelines.staging import write_patches
from pipelines.taxonomy import load_taxonomies
from pipelines.transform.linkage import LinkInputs, relink
from pipelines.transform.state import LinkState

AS_OF = date(2026, 11, 22)
CONFIG = MatchConfig(max_block_size=3)
ABSTRACT = "We study the problem at hand in depth and measure it with care. " * 5
OVERRIDES = """
[[merge]]
titles = ["Other Work", "Big Graphs for Real"]

[[apart]]
records = ["s_003.txt#45", "s_002.txt#29"]
"""
ALIASES = """
[[same]]
names = ["Kay Liu", "K. Liu"]

[[split]]
name = "Yue Zhao"
label = "Yue Zhao (B)"
records = ["s_002.txt#0"]
"""


def _hand_made() -> dict[str, bytes]:
    """A collapsed page whose split is weak, and a profile page printing the names that
    rescue it: adding or removing the second changes the first's records."""
    glued = "\n".join(
        [
            "LGJun 21, 2022",
            "Big Graphs for Realdanah boyd, Kay Liu",
            ABSTRACT,
            "CVJun 22, 2022",
            "Small GraphsK. Liu",
            ABSTRACT,
        ]
    )
    header = ["Ana Liu", "", "LG", "h-index3", "2papers", ""]
    first = ["LGMay 1, 2024", "Other Work", "", "danah boyd, Kay Liu", "", ABSTRACT, ""]
    second = ["LGMay 2, 2024", "Small Graphs", "", "K. Liu", "", ABSTRACT, ""]
    names = "\n".join([*header, *first, *second])
    return {"h_glued.txt": glued.encode(), "h_names.txt": names.encode()}


class Pool(dict):
    """name -> bytes of every dump the examples draw from (short repr in reports)."""

    def __repr__(self) -> str:
        return f"<pool of {len(self)} dumps>"


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Pool:
    from benchmarks.generate import GenConfig, generate

    out = tmp_path_factory.mktemp("pool")
    generate(
        GenConfig(
            size_bytes=60_000,
            seed=5,
            median_records=5,
            repeat_share=0.5,
            hard_negative_share=0.3,
            prefix="g",
        ),
        out,
    )
    dumps = {f"g_{p.name}": p.read_bytes() for p in sorted((out / "raw").glob("*.txt"))}
    dumps |= {f"s_{p.name[:3]}.txt": p.read_bytes() for p in sorted(RAW.glob("*.txt"))}
    return Pool(dumps | _hand_made())


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    # Keyed by content: shared by every example, so each dump is parsed once.
    return tmp_path_factory.mktemp("cache")


@functools.cache
def _taxonomies():
    return load_taxonomies(RAW / "no-such-folder")


def _link(raw: Path, cache_dir: Path, state: LinkState | None):
    dumps, _ = resolve_dumps(raw, AS_OF)
    plan = plan_extraction(dumps, cache_dir, extract.PARSER_VERSION)
    fresh = extract_batch([p.dump for p in plan if not p.cached])
    collected = collect_extractions(plan, fresh, cache_dir)
    inputs = LinkInputs(
        config=CONFIG,
        overrides=read_overrides(raw),
        aliases=read_aliases(raw),
        taxonomies=_taxonomies(),
    )
    return relink(state, collected.entries, CacheSource(cache_dir), inputs)


def _kept(state: LinkState, folder: Path) -> LinkState:
    """The state as the next run reads it: written to Parquet and read back."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, frame in state.frames().items():
        frame.write_parquet(folder / f"{name}.parquet")
    kept = LinkState.from_files(lambda name: folder / f"{name}.parquet")
    assert kept is not None, "a state frame changed its schema on the way through Parquet"
    return kept


def _files(written, folder: Path) -> dict[str, bytes]:
    """The files each table's file set lists, by table and name, with their bytes."""
    return {
        f"{name}/{file.name}": (folder / name / file.name).read_bytes()
        for name, table in written.items()
        for file in table.files
    }


def _bytes(tables, folder: Path) -> dict[str, bytes]:
    shutil.rmtree(folder, ignore_errors=True)
    return _files(write_tables(collect_tables(tables), folder), folder)


def _hinted(result) -> dict[str, set[int]] | None:
    changed = result.changed
    return None if changed is None else layout.unchanged_buckets(changed.sources, changed.homes)


def _patches(result) -> list[load.Patch]:
    return write_patches(result.changed)


def _edit(data: bytes, how: int) -> bytes:
    """A changed dump: cut after some of its lines, or a title word replaced."""
    lines = data.decode("utf-8", "replace").splitlines()
    if how % 2 == 0:
        return "\n".join(lines[: max(1, len(lines) * (how + 1) // 8)]).encode()
    longest = max(range(len(lines)), key=lambda i: (len(lines[i]) < 200, len(lines[i])))
    lines[longest] = lines[longest].replace("e", "a", 1)
    return "\n".join(lines).encode()


operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "copy", "remove", "change", "curation"]),
        st.integers(0, 1000),
        st.integers(0, 7),
    ),
    min_size=2,
    max_size=5,
)


@settings(
    # More examples for a longer hunt: PAPERLAKE_LINK_EXAMPLES=200 pytest ...
    max_examples=int(os.environ.get("PAPERLAKE_LINK_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.lists(st.integers(0, 1000), min_size=1, max_size=8, unique=True),
    steps=operations,
    curated=st.booleans(),
)
def test_incremental_equals_from_scratch(
    pool: dict[str, bytes], cache_dir: Path, tmp_path: Path, start, steps, curated
) -> None:
    names = sorted(pool)
    raw = tmp_path / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir()
    for i in start:
        name = names[i % len(names)]
        (raw / name).write_bytes(pool[name])
    if curated:
        (raw / "overrides.toml").write_text(OVERRIDES)
        (raw / "aliases.toml").write_text(ALIASES)
    first = _link(raw, cache_dir, None)
    assert first.changed is None  # from scratch: no hints, every bucket is written
    state = _kept(first.state, tmp_path / "state")
    # The incremental side's tables, kept across steps as a warehouse keeps them;
    # the wide ones are written lazily, as a refresh writes them.
    kept = tmp_path / "kept"
    shutil.rmtree(kept, ignore_errors=True)
    written = write_tables(first.tables, kept)
    for op, i, how in steps:
        present = sorted(p.name for p in raw.glob("*.txt"))
        name = names[i % len(names)]
        expect = "incremental"
        if op == "add":
            (raw / name).write_bytes(pool[name])
        elif op == "copy" and present:
            # Copies of a dump under other names: blocks of equal keys grow past the cap.
            source = raw / present[i % len(present)]
            for n in range(how % 3 + 1):
                (raw / f"c{len(present) + n}_{source.name}").write_bytes(source.read_bytes())
        elif op == "remove" and present:
            (raw / present[i % len(present)]).unlink()
        elif op == "change" and present:
            target = raw / present[i % len(present)]
            target.write_bytes(_edit(target.read_bytes(), how))
        elif op == "curation":
            # New human decisions: everything is linked again, and the report says why.
            path = raw / "overrides.toml"
            now = path.read_text() if path.exists() else ""
            path.write_text(OVERRIDES.split("[[apart]]")[0] if now == OVERRIDES else OVERRIDES)
            expect = "full"
        result = _link(raw, cache_dir, state)
        assert result.report.mode == expect, result.report.reason
        if expect == "full":
            assert "overrides" in result.report.reason
        assert (result.changed is None) == (expect == "full")
        if result.changed is not None:
            # Nothing to write exactly when the link re-derived nothing.
            assert result.changed.nothing == (not any(result.report.changes.values()))
        scratch = _link(raw, cache_dir, None)
        expected = _bytes(scratch.tables, tmp_path / "new")
        assert _bytes(result.tables, tmp_path / "inc") == expected
        written = write_tables(result.tables, kept, written, _hinted(result), _patches(result))
        assert _files(written, kept) == expected
        for name, frame in result.state.frames().items():
            assert frame.equals(scratch.state.frames()[name]), name
        state = _kept(result.state, tmp_path / "state")


# --- the pieces that make it exact ------------------------------------------------


def _blocks(titles: dict[str, str], fresh: set[str]) -> pl.DataFrame:
    """Blocking features of records named by id, in id order (rid = row)."""
    from pipelines.transform.blocking import record_features

    ids = sorted(titles)
    records = pl.DataFrame({"record_id": ids, "title": [titles[k] for k in ids]})
    return (
        record_features(records)
        .with_row_index("rid")
        .with_columns(fresh=pl.col("record_id").is_in(sorted(fresh)))
    )


def _as_old(features: pl.DataFrame, gone: set[str]) -> pl.DataFrame:
    return features.rename({"rid": "orid"}).with_columns(
        gone=pl.col("record_id").is_in(sorted(gone))
    )


def test_a_block_that_grows_past_the_cap_drops_its_pairs_and_one_that_shrinks_gains_them() -> None:
    from pipelines.transform.blocking import candidate_pairs, still_candidates

    config = MatchConfig(max_block_size=3)
    same = "Sparse Attention Serving on Many GPUs"
    three = {"a": same, "b": same, "c": same}
    before = _blocks(three, set(three))
    pairs = candidate_pairs(before, None, config)
    assert pairs.rows() == [(0, 1), (0, 2), (1, 2)]

    # A fourth copy: the block passes the cap, so b-c is no longer a candidate
    # (a is the block's first record and stays paired with everyone).
    four = _blocks({**three, "d": same}, {"d"})
    new = candidate_pairs(four, _as_old(before, set()), config)
    assert new.rows() == [(0, 3)]
    kept = still_candidates(pairs, four, _as_old(before, set()), config)
    assert kept.to_list() == [True, True, False]

    # The fourth copy leaves again: the block is small again and b-c a candidate anew.
    back = _blocks(three, set())
    again = candidate_pairs(back, _as_old(four, {"d"}), config)
    assert (1, 2) in again.rows()


def test_communities_of_a_component_do_not_depend_on_the_others() -> None:
    from pipelines.transform.network import network_nodes

    def clique(prefix: str, n: int) -> list[tuple[str, str]]:
        return [(f"{prefix}{i}", f"{prefix}{j}") for i in range(n) for j in range(i + 1, n)]

    # Two cliques joined by one edge (two communities), and a separate triangle.
    edges = clique("aut_a", 5) + clique("aut_b", 5) + [("aut_a0", "aut_b0")] + clique("aut_c", 3)
    pairs = pl.DataFrame(
        {
            "author_id_a": [a for a, _ in edges],
            "author_id_b": [b for _, b in edges],
            "n_papers": [1] * len(edges),
            "fractional_weight": [1.0] * len(edges),
        }
    ).sort("author_id_a", "author_id_b")
    ids = pl.concat([pairs["author_id_a"], pairs["author_id_b"]]).unique().sort()
    together = network_nodes(ids, pairs)
    alone = network_nodes(
        ids.filter(~ids.str.starts_with("aut_c")),
        pairs.filter(~pl.col("author_id_a").str.starts_with("aut_c")),
    )
    assert together.filter(~pl.col("author_id").str.starts_with("aut_c")).equals(alone)
    communities = dict(together.select("author_id", "community").iter_rows())
    assert communities["aut_a1"] != communities["aut_b1"]
    assert communities["aut_a1"] == communities["aut_a4"] == "aut_a0"
    assert communities["aut_c2"] == "aut_c0"  # a triangle: one community, its smallest id


def test_only_components_whose_pairs_changed_are_found_again() -> None:
    from dataclasses import replace

    from pipelines.transform.network import coauthor_pairs, network_nodes
    from pipelines.transform.state import LinkState
    from pipelines.transform.updates import LinkInputs, Update

    def authorship(rows: list[tuple[str, str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
        pa = pl.DataFrame(rows, schema=["paper_id", "author_id"], orient="row")
        return pa.select("author_id").unique().sort("author_id"), pa

    # A triangle and a pair; the kept nodes name the triangle's community "stale",
    # which only a new Leiden run over the triangle would replace.
    rows = [
        ("p1", "aut_a0"),
        ("p1", "aut_a1"),
        ("p1", "aut_a2"),
        ("p2", "aut_b0"),
        ("p2", "aut_b1"),
    ]
    authors, pa = authorship(rows)
    pairs = coauthor_pairs(pa)
    nodes = network_nodes(authors["author_id"], pairs).with_columns(
        community=pl.when(pl.col("author_id").str.starts_with("aut_a"))
        .then(pl.lit("stale"))
        .otherwise("community")
    )
    old = replace(LinkState.empty(), coauthors=pairs, nodes=nodes)

    def network(rows, touched):
        authors, pa = authorship(rows)
        run = Update(old, None, LinkInputs(), [], [])
        return run.network(authors, pa, pl.Series(touched, dtype=pl.String))

    # The triangle's paper is derived again with the same authors: nothing to re-run.
    same_pairs, same_nodes = network(rows, ["aut_a0", "aut_a1", "aut_a2"])
    assert same_pairs.equals(pairs) and same_nodes.equals(nodes)

    # A paper joins a0 and b0: one component, found again, as from scratch.
    joined = [*rows, ("p3", "aut_a0"), ("p3", "aut_b0")]
    new_pairs, new_nodes = network(joined, ["aut_a0", "aut_b0"])
    authors, pa = authorship(joined)
    assert new_pairs.equals(coauthor_pairs(pa))
    assert new_nodes.equals(network_nodes(authors["author_id"], coauthor_pairs(pa)))
    assert "stale" not in new_nodes["community"].to_list()


# --- what the hints let the writer skip ---------------------------------------------


def _samples(raw: Path, names: list[Path]) -> None:
    raw.mkdir(exist_ok=True)
    for path in names:
        shutil.copy(path, raw / path.name)


def test_a_new_dump_computes_only_its_buckets_of_the_wide_tables(
    tmp_path: Path, monkeypatch
) -> None:
    samples = sorted(RAW.glob("*.txt"))
    raw, cache, folder = tmp_path / "raw", tmp_path / "cache", tmp_path / "t"
    _samples(raw, samples[:-1])
    first = _link(raw, cache, None)
    before = write_tables(first.tables, folder)
    _samples(raw, samples[-1:])
    result = _link(raw, cache, _kept(first.state, tmp_path / "state"))
    new = samples[-1].name
    assert result.report.mode == "incremental"
    assert result.changed.sources == {new}
    # Every home of a changed paper before or after: the new dump, or a dump the
    # paper shares with it.
    assert new in result.changed.homes <= {p.name for p in samples}

    spilled: dict[str, set[int]] = {}
    real = load._spilled_buckets

    def spy(keyed, mapping, wanted, table_dir):
        spilled[table_dir.name] = set(wanted)
        yield from real(keyed, mapping, wanted, table_dir)

    monkeypatch.setattr(load, "_spilled_buckets", spy)
    hinted = write_tables(result.tables, folder, before, _hinted(result))
    monkeypatch.undo()
    # The lazy wide tables read and wrote the new dump's buckets only.
    assert spilled["records"] == layout.source_buckets("records", [new])
    assert spilled["rejects"] <= layout.source_buckets("rejects", [new])
    assert spilled["papers"] <= layout.source_buckets("papers", result.changed.homes)
    assert len(spilled["papers"]) < layout.TABLES["papers"].buckets
    # Every other bucket kept the published file, and those are the right files.
    kept = {f for f in hinted["records"].files if f.bucket not in spilled["records"]}
    assert kept and kept <= set(before["records"].files)
    plain = write_tables(result.tables, tmp_path / "plain")
    assert _files(hinted, folder) == _files(plain, tmp_path / "plain")

    # With the changed papers' and dumps' rows, the hinted tables are patched, not
    # computed: the papers table is not spilled (every abstract read), nor records,
    # and the bytes are the same.
    spilled.clear()
    monkeypatch.setattr(load, "_spilled_buckets", spy)
    patched = write_tables(result.tables, folder, before, _hinted(result), _patches(result))
    monkeypatch.undo()
    assert "papers" not in spilled and "records" not in spilled
    assert set(result.changed.paper_rows) == set(layout.HINTED_BY_PAPER)
    assert set(result.changed.source_rows) == set(layout.HINTED_BY_SOURCE)
    assert _files(patched, folder) == _files(plain, tmp_path / "plain")


def test_full_links_give_no_hints(tmp_path: Path) -> None:
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    _samples(raw, sorted(RAW.glob("*.txt"))[:2])
    first = _link(raw, cache, None)
    assert first.report.mode == "full" and first.changed is None
    # Other human decisions void the state: linked from scratch, no hints either.
    (raw / "overrides.toml").write_text(OVERRIDES)
    again = _link(raw, cache, _kept(first.state, tmp_path / "state"))
    assert again.report.mode == "full" and again.changed is None


def test_a_file_without_a_cache_entry_is_changed_in_its_run_and_the_next(
    tmp_path: Path,
) -> None:
    from pipelines.sources import SkippedEntry, unread_extraction

    raw, cache = tmp_path / "raw", tmp_path / "cache"
    _samples(raw, sorted(RAW.glob("*.txt"))[:2])
    dumps, _ = resolve_dumps(raw, AS_OF)
    plan = plan_extraction(dumps, cache, extract.PARSER_VERSION)
    entries = collect_extractions(plan, extract_batch([p.dump for p in plan]), cache).entries
    inputs = LinkInputs(config=CONFIG, taxonomies=_taxonomies())
    unread = unread_extraction(SkippedEntry("broken.txt", "cannot be read: denied"))
    source = CacheSource(cache)
    first = relink(None, entries, source, inputs, uncached=[unread])
    assert first.state.uncached["source_file"].to_list() == ["broken.txt"]
    kept = _kept(first.state, tmp_path / "state")
    # Still unreadable: its rejects row is this run's, not the cache's.
    still = relink(kept, entries, source, inputs, uncached=[unread])
    assert still.changed.sources == {"broken.txt"} and not still.changed.nothing
    # Gone: its rows leave the tables, so its buckets are changed too.
    gone = relink(kept, entries, source, inputs)
    assert gone.changed.sources == {"broken.txt"}
    assert gone.state.uncached.is_empty()
    # And the run after that changes nothing.
    after = relink(_kept(gone.state, tmp_path / "state"), entries, source, inputs)
    assert after.changed.nothing
