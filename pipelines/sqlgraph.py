"""What ``sql/`` holds: its views and data tests, what each reads, and how each
analysis view is kept (quirks as data: read from each file's header comment).

A mart's header may say, besides what a row is:

- ``Materialized: no`` for a view cheap enough to compute when read (a union
  over another mart's stored rows): it keeps no rows of its own;
- ``Incremental: author_id_a, author_id_b`` for a view whose rows belong to
  the authors in those columns and read only the rows of those authors'
  papers (and whole small tables such as categories): an incremental build
  recomputes only the rows of the authors a change touched
  (``pipelines/view_updates.py``).
"""

from __future__ import annotations

import graphlib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("staging", "marts")


def scope_of(view: str) -> str:
    """The relation of the authors whose rows in incremental view ``view`` a build can
    have changed, which data tests filter on (every author in a full build;
    ``pipelines/view_updates.py``)."""
    return f"scope_{view}"


def sql_files(sql_dir: Path, layer: str) -> list[Path]:
    return sorted((sql_dir / layer).glob("*.sql"))


def lake_table(name: str) -> str:
    """The internal table holding warehouse table ``name``'s rows."""
    return f"{name}_data"


def references(text: str, names: set[str]) -> set[str]:
    """Which of ``names`` a SQL text mentions outside comments and string literals
    (a safe over-estimate of what it reads: a column may share a name)."""
    code = re.sub(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", " ", text.lower(), flags=re.S)
    return set(re.findall(r"[a-z_][a-z0-9_]*", code)) & names


def _header(text: str) -> str:
    """The comment lines a SQL file starts with, as one line."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


def _columns(found: re.Match | None) -> tuple[str, ...]:
    if found is None:
        return ()
    return tuple(c.strip() for c in found.group(1).split(",") if c.strip())


@dataclass(frozen=True)
class Mart:
    """One analysis view of ``sql/marts`` and how it is kept."""

    name: str
    path: Path
    materialized: bool = True
    incremental: tuple[str, ...] = ()  # author columns its rows belong to

    @classmethod
    def of(cls, path: Path) -> Mart:
        header = _header(path.read_text(encoding="utf-8"))
        stored = re.search(r"Materialized: no\b", header) is None
        incremental = _columns(re.search(r"Incremental: ([a-z0-9_, ]+)", header))
        return cls(path.stem, path, stored, incremental)


def marts_of(sql_dir: Path) -> list[Mart]:
    """The analysis views of ``sql/marts``, in file order."""
    return [Mart.of(p) for p in sql_files(sql_dir, "marts")]


@dataclass(frozen=True)
class SqlGraph:
    """What each view and data test of ``sql/`` reads: tables and other views."""

    reads: dict[str, set[str]]  # view -> tables and views it mentions
    tests: dict[Path, set[str]]  # test file -> tables and views it mentions
    marts: list[Mart]  # analysis views, each after the analysis views it reads

    @classmethod
    def of(cls, sql_dir: Path, tables: set[str]) -> SqlGraph:
        views = {p.stem: p for layer in LAYERS for p in sql_files(sql_dir, layer)}
        lake_names = {lake_table(t): t for t in tables}
        names = set(views) | set(lake_names) | tables

        def reads(text: str, itself: str | None = None) -> set[str]:
            found = references(text, names) - {itself}
            return {lake_names.get(n, n) for n in found}

        view_reads = {v: reads(p.read_text(encoding="utf-8"), v) for v, p in views.items()}
        marts = {p.stem: Mart.of(p) for p in sql_files(sql_dir, "marts")}
        order = graphlib.TopologicalSorter(
            {m: view_reads[m] & set(marts) for m in marts}
        ).static_order()
        tests = {p: reads(p.read_text(encoding="utf-8")) for p in sql_files(sql_dir, "tests")}
        return cls(view_reads, tests, [marts[m] for m in order])

    def affected(self, changed_tables: set[str]) -> set[str]:
        """The changed tables and every view that reads one, directly or through views."""
        dirty = set(changed_tables)
        grew = True
        while grew:
            grew = False
            for view, reads in self.reads.items():
                if view not in dirty and reads & dirty:
                    dirty.add(view)
                    grew = True
        return dirty

    def tables_read(self, names: set[str], tables: set[str]) -> set[str]:
        """The warehouse tables that views or tests ``names`` read, directly or through views."""
        seen, todo = set(), list(names)
        while todo:
            name = todo.pop()
            for read in self.reads.get(name, set()):
                if read not in seen:
                    seen.add(read)
                    todo.append(read)
        return seen & tables


def sql_digest(sql_dir: Path) -> str:
    """A hash of every file under ``sql/``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in sql_dir.rglob("*") if p.is_file()):
        digest.update(f"sql {path.relative_to(sql_dir).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode())
    return digest.hexdigest()
