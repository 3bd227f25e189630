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

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import polars as pl
from pydantic import Field, StringConstraints, model_validator

from pipelines.config import PACKAGE_DIR
from pipelines.configfiles import ConfigError, ConfigModel, load_model
from pipelines.errors import PaperlakeError
from pipelines.files import read_regular
from pipelines.transform.topics import topic_table

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
        frame = pl.read_csv(io.BytesIO(read_regular(path)), comment_prefix="#", infer_schema=False)
    except OSError as err:
        raise PaperlakeError(f"{path}: cannot be read: {err.strerror or err}") from None
    except pl.exceptions.PolarsError as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise PaperlakeError(f"{path}: not a CSV category table: {message}") from None
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


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Pattern = Annotated[str, StringConstraints(min_length=1)]


class Topic(ConfigModel):
    """A [[topic]] entry of topics.toml."""

    name: Name
    description: str | None = None
    patterns: list[Pattern] = Field(default_factory=list)
    categories: list[Name] = Field(default_factory=list)

    @model_validator(mode="after")
    def _matches_something(self) -> Topic:
        if not self.patterns and not self.categories:
            raise ValueError("has neither patterns nor categories")
        return self


class TopicFile(ConfigModel):
    """topics.toml: the [[topic]] entries, in display order."""

    topic: Annotated[list[Topic], Field(min_length=1)]


def _rules(topics: list[Topic]) -> pl.DataFrame:
    rows = [
        {
            "topic": t.name,
            "topic_position": position,
            "description": (t.description or "").strip() or None,
            "patterns": list(t.patterns),
            "categories": list(t.categories),
        }
        for position, t in enumerate(topics, start=1)
    ]
    return pl.DataFrame(rows, schema=TOPIC_RULES)


def _regex_problem(regex: str) -> str | None:
    """Why the regex engine that matches topics refuses ``regex``, or None."""
    try:
        # The call paper_topics makes, on an empty column: compiles, matches nothing.
        pl.Series([""], dtype=pl.String).str.extract(regex, 0)
    except pl.exceptions.PolarsError as err:
        # Rust's message: "regex parse error: <regex> <caret> error: <why>", then Polars'
        # expression; the line starting "error:" is the one that says why.
        lines = [line.strip() for line in str(err).splitlines()]
        why = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
        return why[0] if why else next((line for line in lines if line), type(err).__name__)
    return None


def _pattern_problems(topics: list[Topic]) -> list[str]:
    """Each topic's regex compiled as the topic matcher runs it (``topic_table``'s).

    A pattern can be valid alone and break the combined regex (``(?x)`` makes
    the closing parenthesis a comment), so this compiles what will run; when
    that fails, each pattern is tried the same way to name the one at fault.
    """
    problems = []
    regexes = topic_table(_rules(topics))["pattern"].to_list()
    for i, (topic, regex) in enumerate(zip(topics, regexes, strict=True)):
        if regex is None or _regex_problem(regex) is None:
            continue
        where = f"topic[{i + 1}] {topic.name!r}"
        found = False
        for n, pattern in enumerate(topic.patterns):
            alone = topic.model_copy(update={"patterns": [pattern], "categories": []})
            problem = _regex_problem(topic_table(_rules([alone]))["pattern"][0])
            if problem:
                found = True
                problems.append(
                    f"{where}: pattern {n + 1} {pattern!r} is not a regex the topic matcher "
                    f"runs (Rust syntax): {problem}"
                )
        if not found:
            problems.append(f"{where}: its patterns together: {_regex_problem(regex)}")
    return problems


def read_topics(path: Path, known_categories: set[str] | None = None) -> pl.DataFrame:
    """Read and check a topic file whole: types, names unique, patterns compiled by the
    engine that runs them, categories known."""
    topics = load_model(TopicFile, path, labels={"topic": "name"})
    if topics is None:
        raise ConfigError(path, ["no such file"])
    problems = _pattern_problems(topics.topic)
    if known_categories is not None:
        for i, topic in enumerate(topics.topic):
            unknown = sorted(set(topic.categories) - known_categories)
            if unknown:
                problems.append(
                    f"topic[{i + 1}] {topic.name!r}: categories not in the category table: "
                    + ", ".join(unknown)
                )
    names = [t.name for t in topics.topic]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"topics listed twice: {', '.join(dupes)}")
    if problems:
        raise ConfigError(path, problems)
    return _rules(topics.topic)


def taxonomy_paths(raw_dir: Path | None) -> tuple[Path, Path]:
    """The category and topic files a run uses: the raw folder's copy, else the shipped one."""

    def pick(name: str) -> Path:
        # Whatever stands under that name is used, so a FIFO or a folder there is an error,
        # not a silent fall-back to the shipped file.
        if raw_dir is not None and os.path.lexists(raw_dir / name):
            return raw_dir / name
        return DATA_DIR / name

    return pick(CATEGORIES_FILE), pick(TOPICS_FILE)


def load_taxonomies(raw_dir: Path | None = None) -> Taxonomies:
    """Load both taxonomies for a run over ``raw_dir`` (shipped files when it has none)."""
    categories_path, topics_path = taxonomy_paths(raw_dir)
    categories = read_categories(categories_path)
    topics = read_topics(topics_path, set(categories["category_id"].to_list()))
    return Taxonomies(categories, topics, categories_path, topics_path)
