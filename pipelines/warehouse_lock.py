"""The warehouse lock: one refresh or rollback at a time, and where a warehouse may live.

Part of the warehouse store (``pipelines.store`` re-exports these names).
The lock is an ``flock`` on ``warehouse/.lock``: the kernel releases it when
the process ends, however it ends, so it is never stale.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipelines.errors import PaperlakeError

LOCK = ".lock"


class WarehouseBusy(PaperlakeError):
    """Another refresh or rollback holds the warehouse lock."""


def lock_holder(warehouse_dir: Path) -> str | None:
    """Who holds the warehouse lock ("pid 12 since ..."), or None when nobody does."""
    path = warehouse_dir / LOCK
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        # A shared probe: it never blocks, and it fails only while a writer holds it.
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
    finally:
        os.close(fd)  # closing drops the probe's lock
    return None


# Delta Lake libraries (delta-rs, DuckDB's delta extension, Polars) parse a
# table's location as a URL path: a control character such as a newline, or a
# %-escape, cannot be in it. Everything else (quotes, spaces, ;, --, any
# letter) is fine.
_NOT_A_DELTA_LOCATION = re.compile(r"[\x00-\x1f\x7f]|%[0-9A-Fa-f]{2}")


def check_location(warehouse_dir: Path) -> None:
    """Refuse a warehouse whose Delta tables no Delta Lake reader could open."""
    where = str(warehouse_dir.resolve())
    found = _NOT_A_DELTA_LOCATION.search(where)
    if found:
        raise PaperlakeError(
            f"{where!r}: a warehouse path cannot hold {found.group()!r} "
            "(Delta Lake readers cannot open tables there); choose another --warehouse"
        )


@contextmanager
def warehouse_lock(
    warehouse_dir: Path, wait: bool = False, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's exclusive lock; raise WarehouseBusy (or wait) if another has it."""
    check_location(warehouse_dir)
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        acquired = False
        # A few quick tries: `paperlake status` probing at the same instant must
        # not make a refresh give up.
        for _ in range(10):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                acquired = True
                break
            except BlockingIOError:
                time.sleep(0.05)
        if not acquired:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            if not wait:
                raise WarehouseBusy(
                    f"{path}: another refresh or rollback is running ({holder}); "
                    "try again when it ends, or pass --wait"
                )
            if on_wait:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_utc_now()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the kernel does the same on kill -9


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
