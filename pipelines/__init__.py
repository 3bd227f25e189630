"""paperlake: scraped research-paper listings to an analytic warehouse."""

import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc, whose settings carry the _RJEM_ prefix) keeps the
# pages a frame freed for ~10 s before it gives them back, so a refresh's
# resident size is that of every frame of the last seconds, not of the frames
# alive: at 1 GB of dumps 0.1-0.3 GB more in each link step (BENCHMARKS.md).
# Read once, when Polars loads: hence here, before any stage imports it. The
# processes a refresh starts (Dask workers) inherit it. A value already set wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
