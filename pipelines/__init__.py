"""paperlake: scraped research-paper listings to an analytic warehouse."""

__version__ = "0.1.0"

# Polars' allocator (jemalloc) is left at Polars' own settings: freed pages are
# kept about a second for reuse. Told to give them back at once
# (_RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0, set before Polars
# loads), a refresh of 1 GB of dumps peaks 0.2-0.25 GB lower in its link but
# takes 25 % longer from scratch and 79 % longer for one new dump, every
# freed page faulted in again (BENCHMARKS.md; README, "Memory or time").
