"""Looking at a published warehouse: the HTML report, author pages, the review
queue of uncertain merges, and the quarantine.

Every module here reads only the published DuckDB file, through its views,
opened read-only (``database.reading``); the one thing written back is a
human's answer to a review pair, into ``raw/overrides.toml`` (``review``).
"""
