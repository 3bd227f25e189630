"""The dumps' hashes kept between runs (``pipelines.file_hashes``): an unchanged dump is
not read again; a changed one always is, also with its mtime put back or written in
the tick it was hashed in; a missing or damaged record costs hashing, nothing else."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import date
from pathlib import Path

import pytest

from pipelines import file_hashes, store
from pipelines.refresh import plan_extraction
from pipelines.sources import DumpFile

SETTLE_S = file_hashes.SETTLE_NS / 1e9


@pytest.fixture(scope="module")
def settled(tmp_path_factory) -> Path:
    """A folder of dumps written long enough ago for their hashes to be kept."""
    folder = tmp_path_factory.mktemp("settled")
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (folder / name).write_text(f"dump {name}\n" * 50, encoding="utf-8")
    time.sleep(SETTLE_S + 0.1)
    return folder


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The names of the files whose bytes are read and hashed (the real hashing, counted)."""
    names: list[str] = []
    real = file_hashes.hash_regular

    def counting(path: Path):
        names.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(file_hashes, "hash_regular", counting)
    return names


def _plan(paths: list[Path], warehouse: Path) -> dict[str, str | None]:
    """Plan as a refresh does (record read, dumps planned, record written): name -> sha256."""
    hashes = store.read_file_hashes(warehouse)
    dumps = [DumpFile(p, p.name, date(2026, 1, 1), "as-of") for p in paths]
    plan = plan_extraction(dumps, store.cache_dir(warehouse), "test", hashes)
    store.write_file_hashes(warehouse, hashes)
    return {p.dump.source_file: p.sha256 for p in plan}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_untouched_dump_is_not_read_again(settled: Path, tmp_path: Path, hashed) -> None:
    paths = [settled / "a.txt", settled / "b.txt"]
    first = _plan(paths, tmp_path / "wh")
    assert hashed == ["a.txt", "b.txt"]
    assert first == {p.name: _sha(p) for p in paths}
    hashed.clear()
    assert _plan(paths, tmp_path / "wh") == first
    assert hashed == []


def test_a_rewrite_with_its_mtime_put_back_is_hashed_again(
    settled: Path, tmp_path: Path, hashed
) -> None:
    path = settled / "c.txt"
    before = _plan([path], tmp_path / "wh")
    status = os.stat(path)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"dump", b"DUMP"))  # same size
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    now = os.stat(path)
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (
        status.st_size,
        status.st_mtime_ns,
        status.st_ino,
    )
    hashed.clear()
    after = _plan([path], tmp_path / "wh")
    assert hashed == ["c.txt"]  # the ctime told: no user can set it
    assert after["c.txt"] == _sha(path) != before["c.txt"]


def test_a_file_replaced_by_another_is_hashed_again(settled: Path, tmp_path: Path, hashed):
    path = settled / "d.txt"
    _plan([path], tmp_path / "wh")
    replacement = path.with_name("d.new")
    replacement.write_bytes(path.read_bytes().replace(b"dump", b"pmud"))
    status = os.stat(path)
    os.utime(replacement, ns=(status.st_atime_ns, status.st_mtime_ns))
    os.replace(replacement, path)
    hashed.clear()
    assert _plan([path], tmp_path / "wh") == {"d.txt": _sha(path)}
    assert hashed == ["d.txt"]


def test_a_freshly_written_dump_is_hashed_until_it_settles(tmp_path: Path, hashed) -> None:
    # Written in the tick it is hashed in, a second write could keep all five
    # of its device, inode, size, mtime and ctime: its hash is not kept yet.
    path = tmp_path / "fresh.txt"
    path.write_text("just written\n", encoding="utf-8")
    _plan([path], tmp_path / "wh")
    assert _plan([path], tmp_path / "wh") == {"fresh.txt": _sha(path)}
    assert hashed == ["fresh.txt", "fresh.txt"]
    record = json.loads((tmp_path / "wh" / store.FILE_HASHES).read_text(encoding="utf-8"))
    assert record["files"] == []


def test_symbolic_links_to_the_same_files_share_their_hashes(
    settled: Path, tmp_path: Path, hashed
) -> None:
    # Two raw folders of links to one corpus (as the benchmarks build them).
    folders = [tmp_path / "raw1", tmp_path / "raw2"]
    for folder in folders:
        folder.mkdir()
        (folder / "a.txt").symlink_to(settled / "a.txt")
    _plan([folders[0] / "a.txt"], tmp_path / "wh")
    assert _plan([folders[1] / "a.txt"], tmp_path / "wh") == {"a.txt": _sha(settled / "a.txt")}
    assert hashed == ["a.txt"]


def test_the_record_keeps_only_this_runs_dumps(settled: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    _plan([settled / "a.txt", settled / "b.txt"], warehouse)
    _plan([settled / "a.txt"], warehouse)
    record = json.loads((warehouse / store.FILE_HASHES).read_text(encoding="utf-8"))
    assert [row[-1] for row in record["files"]] == [_sha(settled / "a.txt")]
    assert sorted(p.name for p in (warehouse / "cache").iterdir()) == ["file_hashes.json"]


DAMAGE = {
    "not JSON": b"\x00\xff not json",
    "cut short": b'{"format": "paperlake file hashes 1", "files": [[1, 2',
    "another format": json.dumps({"format": "paperlake file hashes 0", "files": []}).encode(),
    "not an object": b"[1, 2, 3]",
    "a row too short": json.dumps({"format": file_hashes.FORMAT, "files": [[1, "ab"]]}).encode(),
    "a hash not hex": json.dumps(
        {"format": file_hashes.FORMAT, "files": [[1, 2, 3, 4, 5, "z" * 64]]}
    ).encode(),
    "a time not a number": json.dumps(
        {"format": file_hashes.FORMAT, "files": [[1, 2, 3, "4", 5, "a" * 64]]}
    ).encode(),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_record_means_hashing_again(
    settled: Path, tmp_path: Path, hashed, damage: str
) -> None:
    warehouse = tmp_path / "wh"
    paths = [settled / "a.txt", settled / "b.txt"]
    expected = _plan(paths, warehouse)
    (warehouse / store.FILE_HASHES).write_bytes(DAMAGE[damage])
    hashed.clear()
    assert _plan(paths, warehouse) == expected
    assert hashed == ["a.txt", "b.txt"]
    # ... and the record is whole again.
    hashed.clear()
    assert _plan(paths, warehouse) == expected
    assert hashed == []


def test_a_record_that_cannot_be_written_or_read_costs_nothing_else(
    settled: Path, tmp_path: Path, hashed
) -> None:
    warehouse = tmp_path / "wh"
    (warehouse / store.FILE_HASHES).mkdir(parents=True)  # a folder in its place
    paths = [settled / "a.txt"]
    assert _plan(paths, warehouse) == {"a.txt": _sha(settled / "a.txt")}
    assert _plan(paths, warehouse) == {"a.txt": _sha(settled / "a.txt")}
    assert hashed == ["a.txt", "a.txt"]


def test_a_dump_that_cannot_be_read_is_planned_unread(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    gone = tmp_path / "gone.txt"
    assert _plan([fifo, gone], tmp_path / "wh") == {"pipe.txt": None, "gone.txt": None}
