"""Giving freed memory back to the system between the big steps of a refresh.

glibc's malloc keeps memory that numpy, igraph and DuckDB freed in its heap
for reuse (its threshold for mapping large blocks on their own grows as they
are freed), so the process's resident size stays at its high-water mark:
after the network step at 1 GB of dumps, 0.34 GB of it. ``malloc_trim``
returns it. Polars' own allocator (jemalloc) gives memory back by itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc only; a no-op elsewhere)."""
    trim = _trim()
    if trim is not None:
        trim(0)
