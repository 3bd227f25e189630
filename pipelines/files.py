"""Opening files paperlake did not write: regular files only, and never blocking.

A path a user or a raw folder hands over may name a FIFO (opening it blocks
until a writer comes), a device (opening it may have effects) or a socket.
``read_regular`` looks before it opens (``stat``), opens without blocking
(``O_NONBLOCK``) and checks again what it opened (``fstat``), so a file
swapped in between cannot make it hang either.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

# What a non-regular entry is, in words.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(OSError):
    """The path exists but is not a regular file; ``strerror`` says what it is."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a regular file", str(path))
        self.kind = kind


def kind_of(mode: int) -> str | None:
    """What a non-regular file mode is ("a named pipe (FIFO)", ...); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a file"


def open_regular(path: Path) -> int:
    """A read-only descriptor of the regular file at ``path`` (links followed).

    Raises NotRegularFile for anything else and OSError when it cannot be opened.
    """
    kind = kind_of(os.stat(path).st_mode)
    if kind:
        raise NotRegularFile(path, kind)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        kind = kind_of(os.fstat(fd).st_mode)
        if kind:
            raise NotRegularFile(path, kind)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path) -> bytes:
    """The bytes of the regular file at ``path``; never opens or waits on anything else."""
    with os.fdopen(open_regular(path), "rb") as handle:
        return handle.read()


def hash_regular(path: Path) -> tuple[str, int, os.stat_result | None]:
    """(SHA-256 hex digest, size in bytes, status) of the regular file at ``path``.

    The status is that of the file hashed (``fstat``), or None when it changed
    while it was read: the digest then stands for no one state of the file.
    """
    with os.fdopen(open_regular(path), "rb") as handle:
        before = os.fstat(handle.fileno())
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        after = os.fstat(handle.fileno())
        same = (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (
            after.st_size,
            after.st_mtime_ns,
            after.st_ctime_ns,
        )
        return digest, handle.tell(), before if same else None
