"""Who owns each profile page, as an author of the warehouse."""

from __future__ import annotations

import polars as pl

from pipelines.transform.clean import name_key

PROFILE_OWNERS = pl.Schema(
    {
        "source_file": pl.String,
        "owner_name": pl.String,
        "author_id": pl.String,  # null when no author of the warehouse has that name
    }
)


def profile_owners(profiles: pl.DataFrame, authors: pl.DataFrame) -> pl.DataFrame:
    """Match each page's owner to an author by the same name key linking uses.

    Pages without an owner (collapsed pages, daily listings) have no row. The
    key folds accents, case, hyphens and spacing, as author linking does, so the
    owner is found whatever form the authors table displays.
    """
    keyed = authors.select("author_id", key=name_key(pl.col("name"))).filter(pl.col("key") != "")
    # Two authors with one key cannot happen with key-based ids; if linking ever
    # allows it, take the smallest id so the answer stays deterministic.
    keyed = keyed.sort("key", "author_id").unique("key", keep="first")
    return (
        profiles.filter(pl.col("owner_name").is_not_null())
        .select("source_file", "owner_name", key=name_key(pl.col("owner_name")))
        .join(keyed, on="key", how="left")
        .select(list(PROFILE_OWNERS.names()))
        .cast(dict(PROFILE_OWNERS))
        .sort("source_file")
    )
