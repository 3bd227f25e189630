"""What each dump hashed to last time, so that a refresh does not read unchanged dumps again.

Part of the warehouse store (``pipelines.store`` re-exports these names): one
record, ``warehouse/cache/file_hashes.json``, replaced whole by each refresh.
As git's index does, it keeps each dump's SHA-256 with what the file system
says of the file it was taken from: device, inode, size, mtime and ctime (in
nanoseconds). A file for which all five are unchanged is not read again. Any
write changes the ctime, which no user can set (``touch -r`` and
``os.utime`` set only the mtime), so a rewrite is always hashed again.

Racy files: a file's times are only as fine as its file system's clock (a
tick of some milliseconds, a second or two on some file systems), so a file
written again in the tick it was hashed in keeps all five. A hash is
therefore kept only for a file whose mtime and ctime are ``SETTLE_NS`` older
than the moment it was hashed; a fresher file is hashed again next time. A
missing or damaged record costs hashing every dump, never a failed run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from pathlib import Path

from pipelines.durable import write_text_atomically
from pipelines.files import hash_regular, read_regular

FILE_HASHES = Path("cache") / "file_hashes.json"
FORMAT = "paperlake file hashes 1"
# How much older than its hashing a file's times must be for its hash to be kept.
SETTLE_NS = 2_000_000_000
_SHA256 = re.compile(r"[0-9a-f]{64}")

# (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns): a file as it was when hashed.
Identity = tuple[int, int, int, int, int]


def _identity(status: os.stat_result) -> Identity:
    return (
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


class FileHashes:
    """The hashes recorded by the last refresh, and those of this one (``hash``)."""

    def __init__(self, known: dict[Identity, str] | None = None) -> None:
        self.known = dict(known or {})
        self.kept: dict[Identity, str] = {}  # this run's files: what the next one may reuse

    def hash(self, path: Path) -> tuple[str, int]:
        """(SHA-256, size) of the regular file at ``path``: the recorded hash when the file
        is unchanged, else its bytes hashed now. Raises OSError as ``hash_regular`` does."""
        status = os.stat(path)
        if stat.S_ISREG(status.st_mode):
            found = self.known.get(_identity(status))
            if found is not None:
                self.kept[_identity(status)] = found
                return found, status.st_size
        started = time.time_ns()
        digest, size, hashed = hash_regular(path)
        # Kept only when the file did not change while read and is settled.
        if hashed is not None and max(hashed.st_mtime_ns, hashed.st_ctime_ns) < (
            started - SETTLE_NS
        ):
            self.kept[_identity(hashed)] = digest
        return digest, size


def read_file_hashes(warehouse_dir: Path) -> FileHashes:
    """The hashes the last refresh recorded (none when the record is missing or damaged)."""
    try:
        record = json.loads(read_regular(warehouse_dir / FILE_HASHES))
        rows = record["files"] if record.get("format") == FORMAT else None
        known = {}
        for *identity, digest in rows:
            if not (_SHA256.fullmatch(digest) and len(identity) == 5):
                return FileHashes()
            if not all(type(n) is int for n in identity):
                return FileHashes()
            known[tuple(identity)] = digest
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        # Damaged in any way: every dump is hashed again, and the record rewritten.
        return FileHashes()
    return FileHashes(known)


def write_file_hashes(warehouse_dir: Path, hashes: FileHashes) -> None:
    """Replace the record with the hashes of this run's files (atomically).

    A record that cannot be written leaves the last one, which stays true: the
    next run hashes more, nothing else.
    """
    path = warehouse_dir / FILE_HASHES
    rows = sorted([*identity, digest] for identity, digest in hashes.kept.items())
    text = json.dumps({"format": FORMAT, "files": rows}, separators=(",", ":")) + "\n"
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, text)
