"""The review queue: record pairs the matcher left for a human, and the answers.

A pair is a ``paper_matches`` row with decision ``review``: similar enough to
be one paper, not similar enough to merge on its own. Each pair gets a short
id (``pair_id``, from its two record ids, so it is the same in the report, in
``paperlake review --list`` and on the next run while the records stay).

An answer is written to ``raw/overrides.toml`` in the documented form, one
entry per answer (``[[merge]]`` or ``[[apart]]`` with ``records = [a, b]``),
by tomlkit, which keeps the file's existing entries, comments and layout.
The next refresh honours it; until then the pair is listed as answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import tomlkit
import tomlkit.items

from pipelines.curation import OVERRIDES, check_overrides_text, read_overrides
from pipelines.errors import PaperlakeError
from pipelines.load import write_text
from pipelines.look.database import frame

SAME, APART = "merge", "apart"
ANSWER_WORDS = {SAME: "same paper", APART: "different papers"}
VIEWS = ("paper_matches", "records")

# The pair id, computed in SQL wherever pairs are listed: 10 hex digits of the
# MD5 of the two record ids.
PAIR_ID_SQL = "substr(md5(m.record_id_a || ' ' || m.record_id_b), 1, 10)"

# One side of a pair: what a person needs to tell two records apart.
_SIDE = """
    {s}.title as title_{s}, {s}.authors as authors_{s}, {s}.authors_truncated as truncated_{s},
    {s}.author_count as author_count_{s}, {s}.date_text as date_text_{s},
    {s}.published_date as date_{s}, {s}.category as category_{s}, {s}.format as format_{s},
    {s}.source_file as file_{s}, {s}.line_start as line_start_{s}, {s}.line_end as line_end_{s},
    left({s}.abstract, 300) as abstract_{s}
"""

# The pairs are ranked and cut first, and records (whose abstracts make it the
# largest table) is read once for both sides of the pairs kept: joining it to
# every review pair before the limit read it twice and built 32 columns for
# each of them.
REVIEW_PAIRS_SQL = f"""
with m as (
    select * from paper_matches
    where decision = 'review'
    order by score desc, record_id_a, record_id_b
    limit $limit
),
sides as (
    select * from records
    where record_id in (select record_id_a from m union all select record_id_b from m)
)
select {PAIR_ID_SQL} as pair_id, m.record_id_a, m.record_id_b, m.score, m.title_similarity,
       m.shared_authors, m.date_gap_days, m.rule,
       {_SIDE.format(s="a")}, {_SIDE.format(s="b")}
from m
join sides a on a.record_id = m.record_id_a
join sides b on b.record_id = m.record_id_b
order by m.score desc, m.record_id_a, m.record_id_b
"""


def review_pairs(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> pl.DataFrame:
    """The review pairs, most similar first, both records side by side (``_a``, ``_b``).

    Every pair names two records (the data test paper_matches_valid), so
    cutting the pairs before joining them to records keeps the same ones.
    """
    return frame(con, REVIEW_PAIRS_SQL, {"limit": limit})  # limit null: every pair


def count_review_pairs(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select count(*) from paper_matches where decision = 'review'").fetchone()
    return int(row[0])


def answered(raw_dir: Path) -> dict[frozenset[str], str]:
    """Record pairs that overrides.toml already decides, by record id: pair -> merge/apart.

    Entries naming titles are honoured by the refresh too, but are not
    resolved to records here.
    """
    overrides = read_overrides(raw_dir).filter(pl.col("record_id").is_not_null())
    out: dict[frozenset[str], str] = {}
    for (kind, _group), members in overrides.group_by("kind", "group", maintain_order=True):
        ids = sorted(members["record_id"].unique().to_list())
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                out[frozenset((a, b))] = str(kind)
    return out


@dataclass(frozen=True)
class Answer:
    """A human's decision on one pair: ``kind`` is merge (same paper) or apart."""

    pair_id: str
    kind: str
    record_a: str
    record_b: str
    title_a: str | None
    title_b: str | None


def _comment(answer: Answer) -> str:
    def short(title: str | None) -> str:
        text = " ".join((title or "").split())
        return text if len(text) <= 70 else text[:69] + "…"

    return (
        f"paperlake review {answer.pair_id}: {ANSWER_WORDS[answer.kind]}: "
        f'"{short(answer.title_a)}" / "{short(answer.title_b)}"'
    )


def add_answers(raw_dir: Path, answers: list[Answer]) -> Path:
    """Append answers to ``raw_dir/overrides.toml``, keeping what the file holds.

    The file is checked first (a bad one is refused, naming it) and after
    (what was written reads back as the refresh reads it); it is replaced
    atomically. Returns its path.
    """
    path = raw_dir / OVERRIDES
    read_overrides(raw_dir)  # refuses a file the refresh would refuse
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as err:
        raise PaperlakeError(f"{path}: {err.strerror or err}") from None
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as err:
        raise PaperlakeError(f"{path}: not valid TOML: {err}") from None
    for n, answer in enumerate(answers):
        records = [answer.record_a, answer.record_b]
        entries = doc.get(answer.kind)
        if entries is None:
            entries = tomlkit.aot()
            doc.append(answer.kind, entries)
        if isinstance(entries, tomlkit.items.AoT):
            table = tomlkit.table()
            table.add(tomlkit.comment(_comment(answer)))
            table.add("records", records)
            # A blank line before each new entry, unless it starts the file.
            table.trivia.indent = "\n" if text.strip() or n else ""
            entries.append(table)
        else:  # written inline: merge = [{records = [...]}, ...]
            entry = tomlkit.inline_table()
            entry.add("records", records)
            entries.append(entry)
    new_text = tomlkit.dumps(doc)
    # Checked before it replaces the file: an answer that, through other entries,
    # merges a pair the file keeps apart is refused, and the file stays as it was.
    check_overrides_text(new_text, path)
    try:
        write_text(new_text, path)
    except OSError as err:
        raise PaperlakeError(f"{err.filename or path}: {err.strerror or err}") from None
    return path


def find_pairs(pairs: pl.DataFrame, ids: list[str]) -> dict[str, dict]:
    """The review pairs named by ``ids`` (PaperlakeError naming an unknown id)."""
    by_id = {row["pair_id"]: row for row in pairs.iter_rows(named=True)}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise PaperlakeError(
            f"no review pair {', '.join(unknown)} in the published warehouse; "
            "`paperlake review --list` lists them"
        )
    return {i: by_id[i] for i in ids}


def answer_for(pair: dict, kind: str, decided: dict[frozenset[str], str]) -> Answer | None:
    """The answer to write for ``pair``, None when overrides.toml already says so.

    PaperlakeError when the file already says the opposite: change the file by hand.
    """
    key = frozenset((pair["record_id_a"], pair["record_id_b"]))
    earlier = decided.get(key)
    if earlier == kind:
        return None
    if earlier is not None:
        raise PaperlakeError(
            f"pair {pair['pair_id']} is already answered in {OVERRIDES} as "
            f"{ANSWER_WORDS[earlier]}; edit the file to change that answer"
        )
    return Answer(
        pair["pair_id"],
        kind,
        pair["record_id_a"],
        pair["record_id_b"],
        pair["title_a"],
        pair["title_b"],
    )
