"""The two editable taxonomies the analysis layer reads.

- ``arxiv_categories.csv``: printed category code -> arXiv category.
- ``topics.toml``: research topics, each a list of regular expressions over
  title and abstract plus the arXiv categories that imply it.

Both ship in ``pipelines/data/``. A file of the same name in the raw folder
replaces the shipped one for that run, so an analyst can edit topics without
touching the package. Loading checks every row and pattern and names the file
at fault; the frames returned are what ``pipelines.transform.topics`` takes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.config import PACKAGE_DIR
from pipelines.errors import PaperlakeError

DATA_DIR = PACKAGE_DIR / "data"
CATEGORIES_FILE = "arxiv_categories.csv"
TOPICS_FILE = "topics.toml"

TAXONOMY = pl.Schema(
    {
        "code": pl.String,
        "category_id": pl.String,
        "category_name": pl.String,
        "archive": pl.String,
        "group_name": pl.String,
        "also_means": pl.String,
    }
)

TOPIC_RULES = pl.Schema(
    {
        "topic": pl.String,
        "topic_position": pl.Int64,  # order in the file, for stable display
        "description": pl.String,
        "patterns": pl.List(pl.String),
        "categories": pl.List(pl.String),
    }
)


@dataclass(frozen=True)
class Taxonomies:
    """The category taxonomy and topic rules of one run, and where each came from."""

    categories: pl.DataFrame  # TAXONOMY
    topics: pl.DataFrame  # TOPIC_RULES
    categories_path: Path
    topics_path: Path

    def notes(self) -> list[str]:
        """A note for each file taken from the raw folder instead of the shipped one."""
        return [
            f"{path}: used instead of the shipped {path.name}"
            for path in (self.categories_path, self.topics_path)
            if path.parent != DATA_DIR
        ]


def read_categories(path: Path) -> pl.DataFrame:
    """Read and check an arXiv category file (CSV, ``#`` comment lines allowed)."""
    try:
        frame = pl.read_csv(path, comment_prefix="#", infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as err:
        raise PaperlakeError(f"{path}: cannot read the category table: {err}") from None
    missing = [c for c in TAXONOMY.names() if c not in frame.columns]
    if missing:
        raise PaperlakeError(f"{path}: missing columns {', '.join(missing)}")
    # Blank cells are missing values, whatever the spacing.
    frame = frame.select(
        [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in TAXONOMY.names()]
    )
    empty = frame.filter(pl.col("code").is_null() | pl.col("category_id").is_null())
    if empty.height:
        raise PaperlakeError(f"{path}: {empty.height} rows have no code or no category_id")
    dupes = frame.filter(pl.col("code").is_duplicated())["code"].unique().sort()
    if dupes.len():
        raise PaperlakeError(f"{path}: codes listed twice: {', '.join(dupes.to_list())}")
    return frame.sort("code")


def category_ids(categories: pl.DataFrame) -> list[str]:
    """Every arXiv id the table names (as category_id or in also_means), sorted."""
    also = categories["also_means"].drop_nulls().str.split(" ").explode()
    return sorted({i for i in [*categories["category_id"], *also] if i})


def printed_forms(categories: pl.DataFrame) -> pl.DataFrame:
    """Every way a listing page prints each category: (printed, category_id), one row each.

    A category prints as its table code ("LG", "AP", "QUANT-PH"), as its id
    upper-cased ("MATH.AP", "COND-MAT.STAT-MECH", "CS.LG"), as the id itself
    ("math.AP") and, for an id with a subject class, as the bare class ("AP",
    which the table may read as another archive's AP). Parsers accept all of
    them; ``category_ids`` gives the ids whose case the upper-case code shape
    does not cover.
    """
    ids = pl.Series("category_id", category_ids(categories))
    frames = [
        categories.select(printed="code", category_id="category_id"),
        ids.to_frame().select(printed=pl.col("category_id").str.to_uppercase(), category_id=ids),
        ids.to_frame().select(printed="category_id", category_id="category_id"),
        ids.to_frame()
        .filter(pl.col("category_id").str.contains(r"\."))
        .select(
            printed=pl.col("category_id").str.split(".").list.last().str.to_uppercase(),
            category_id="category_id",
        ),
    ]
    return pl.concat(frames).unique(maintain_order=True).sort("printed", "category_id")


def shipped_categories() -> pl.DataFrame:
    """The category table shipped in ``pipelines/data/`` (what parsers' grammar is built from)."""
    return read_categories(DATA_DIR / CATEGORIES_FILE)


def _check_pattern(path: Path, topic: str, pattern: str) -> None:
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.PolarsError as err:
        message = str(err).splitlines()[0]
        raise PaperlakeError(
            f"{path}: topic {topic!r}: pattern {pattern!r} is not a valid regex: {message}"
        ) from None


def read_topics(path: Path, known_categories: set[str] | None = None) -> pl.DataFrame:
    """Read and check a topic file: names unique, patterns valid, categories known."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise PaperlakeError(f"{path}: cannot read the topic file: {err}") from None
    entries = data.get("topic", [])
    if not isinstance(entries, list) or not entries:
        raise PaperlakeError(f"{path}: no [[topic]] entries")
    rows = []
    for position, entry in enumerate(entries, start=1):
        name = str(entry.get("name", "")).strip()
        if not name:
            raise PaperlakeError(f"{path}: topic number {position} has no name")
        patterns = entry.get("patterns", [])
        categories = entry.get("categories", [])
        if not all(isinstance(p, str) and p for p in patterns):
            raise PaperlakeError(f"{path}: topic {name!r}: patterns must be non-empty strings")
        if not all(isinstance(c, str) and c for c in categories):
            raise PaperlakeError(f"{path}: topic {name!r}: categories must be category ids")
        if not patterns and not categories:
            raise PaperlakeError(f"{path}: topic {name!r} has neither patterns nor categories")
        for pattern in patterns:
            _check_pattern(path, name, pattern)
        if known_categories is not None:
            unknown = sorted(set(categories) - known_categories)
            if unknown:
                raise PaperlakeError(
                    f"{path}: topic {name!r} names categories not in the category table: "
                    + ", ".join(unknown)
                )
        rows.append(
            {
                "topic": name,
                "topic_position": position,
                "description": str(entry.get("description", "")).strip() or None,
                "patterns": list(patterns),
                "categories": list(categories),
            }
        )
    frame = pl.DataFrame(rows, schema=TOPIC_RULES)
    dupes = frame.filter(pl.col("topic").is_duplicated())["topic"].unique().sort()
    if dupes.len():
        raise PaperlakeError(f"{path}: topics listed twice: {', '.join(dupes.to_list())}")
    return frame


def taxonomy_paths(raw_dir: Path | None) -> tuple[Path, Path]:
    """The category and topic files a run uses: the raw folder's copy, else the shipped one."""

    def pick(name: str) -> Path:
        if raw_dir is not None and (raw_dir / name).is_file():
            return raw_dir / name
        return DATA_DIR / name

    return pick(CATEGORIES_FILE), pick(TOPICS_FILE)


def load_taxonomies(raw_dir: Path | None = None) -> Taxonomies:
    """Load both taxonomies for a run over ``raw_dir`` (shipped files when it has none)."""
    categories_path, topics_path = taxonomy_paths(raw_dir)
    categories = read_categories(categories_path)
    topics = read_topics(topics_path, set(categories["category_id"].to_list()))
    return Taxonomies(categories, topics, categories_path, topics_path)
