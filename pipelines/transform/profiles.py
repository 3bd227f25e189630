"""Who owns each profile page, as an author of the warehouse."""

from __future__ import annotations

import polars as pl

from pipelines.transform.clean import name_key
from pipelines.transform.ids import stable_ids

PROFILE_OWNERS = pl.Schema(
    {
        "source_file": pl.String,
        "owner_name": pl.String,
        "author_id": pl.String,  # null when no author of the warehouse has that name
    }
)


def profile_owners(
    profiles: pl.DataFrame,
    authors: pl.DataFrame,
    same_names: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Resolve each page's owner to an author the way linking resolves a printed name.

    The owner's name key (accents, case, hyphens, spacing folded) is mapped
    through the aliases' ``same_names`` (canonical, name) pairs and hashed into
    an ``author_id`` as linking does; the id is kept only when that author is
    in ``authors`` (the owner is printed on some paper). Pages without an owner
    (collapsed pages, daily listings) have no row.
    """
    owners = profiles.filter(pl.col("owner_name").is_not_null()).select(
        "source_file", "owner_name", key=name_key(pl.col("owner_name"))
    )
    if same_names is not None and not same_names.is_empty():
        mapping = same_names.select(
            key=name_key(pl.col("name")), canonical_key=name_key(pl.col("canonical"))
        ).unique("key", keep="first", maintain_order=True)
        owners = (
            owners.join(mapping, on="key", how="left", maintain_order="left")
            .with_columns(key=pl.coalesce("canonical_key", "key"))
            .drop("canonical_key")
        )
    owners = owners.with_columns(author_id=stable_ids(owners["key"], "aut_"))
    known = pl.col("author_id").is_in(authors["author_id"].implode())
    return (
        owners.with_columns(author_id=pl.when(known).then(pl.col("author_id")))
        .select(list(PROFILE_OWNERS.names()))
        .cast(dict(PROFILE_OWNERS))
        .sort("source_file")
    )
