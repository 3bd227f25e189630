"""Durable file system operations: what a crash cannot undo."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def fsync_dir(path: Path) -> None:
    """Flush a file, or a folder's entries (renames in it), to disk: a crash cannot undo them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomically(path: Path, text: str) -> None:
    """Replace the file ``path`` with ``text`` so that a crash leaves the old file or the new
    one, whole (a temp file beside it, fsync, rename, fsync of the folder)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


# A write the file system failed (an I/O error, a disk full for a moment) is
# tried again this often, this far apart: the flow's retries of the tasks
# that read or write files, and the writer's of each table (``retried``).
FS_RETRIES = 2
FS_RETRY_SECONDS = 2.0


def retried(write: Callable[[], T]) -> T:
    """``write()``, tried again after an ``OSError`` (FS_RETRIES times, FS_RETRY_SECONDS
    apart), then its error: for a write whose input is let go once it succeeds, which a
    retry of the whole task could no longer redo."""
    for _ in range(FS_RETRIES):
        try:
            return write()
        except OSError:
            time.sleep(FS_RETRY_SECONDS)
    return write()
