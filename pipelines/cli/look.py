"""Commands that show the published warehouse to a person: report, author, review, rejects.

Each reads the DuckDB file of ``--warehouse`` read-only through
``pipelines.look``; only ``review`` writes, and only ``raw/overrides.toml``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipelines.cli.common import (
    EXIT_USAGE,
    WAREHOUSE_OPTION,
    app,
    console,
    err_console,
    fail,
)
from pipelines.errors import PaperlakeError

DEBUG_OPTION = typer.Option("--debug", help="Show tracebacks.")


@app.command()
def report(
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
    output: Annotated[Path, typer.Option("--output", help="Where to write the HTML file.")] = Path(
        "report.html"
    ),
    debug: Annotated[bool, DEBUG_OPTION] = False,
) -> None:
    """Write the warehouse report: one self-contained HTML file with charts."""
    from pipelines.look import database
    from pipelines.look.report import write_report

    if output.is_dir():
        fail(f"--output {output} is a folder; give a file name", debug, EXIT_USAGE)
    if not output.parent.is_dir():
        fail(f"--output {output}: folder {output.parent} does not exist", debug, EXIT_USAGE)
    try:
        built = write_report(database.database_of(warehouse), output)
    except PaperlakeError as err:
        fail(str(err), debug)
    except OSError as err:
        fail(f"{err.filename or output}: {err.strerror or err}", debug)
    console.print(
        f"Wrote {escape(str(built.path))} ({built.n_bytes / 1000:,.0f} kB in "
        f"{built.seconds:.1f} s)",
        highlight=False,
    )


def _dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n"


@app.command()
def author(
    name: Annotated[str, typer.Argument(help="The person's name, as printed or close to it.")],
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
    debug: Annotated[bool, DEBUG_OPTION] = False,
) -> None:
    """Show one author's page: papers by year, co-authors, topics, categories, profile page."""
    from pipelines.look import author as pages
    from pipelines.look import database

    try:
        with database.reading(database.database_of(warehouse), pages.VIEWS) as con:
            found = pages.find_author(con, name)
            page = pages.author_page(con, found.author_id) if found.author_id else None
    except PaperlakeError as err:
        fail(str(err), debug)
    if page is None:
        close = "; ".join(f"{n} ({p} paper{'s' if p != 1 else ''})" for n, p in found.suggestions)
        fail(
            f"no author named {name!r}"
            + (f"; close names: {close}" if close else "; no name is close"),
            debug,
        )
    if as_json:
        typer.echo(_dump_json({"query": name, "found_by": found.how, **page.to_dict()}), nl=False)
        return
    _print_author(page, found)


def _print_author(page, found) -> None:
    s = page.summary
    years = f"{s['first_year']}-{s['last_year']}" if s["first_year"] else "no dated paper"
    console.print(f"[bold]{escape(s['name'])}[/]  {s['author_id']}", highlight=False)
    if found.how != "folded":
        console.print(f"(found by {found.how} match for {escape(found.query)!r})", style="yellow")
    console.print(
        f"{s['n_papers']} papers ({years}), {s['n_coauthors']} co-authors, "
        f"component {s['component_id']}, community {s['community_id']}",
        highlight=False,
    )
    if found.suggestions:
        others = ", ".join(escape(n) for n, _ in found.suggestions)
        console.print(f"Other close names: {others}", highlight=False)

    by_year = Table(title="Papers by year", title_justify="left")
    by_year.add_column("year", justify="right")
    by_year.add_column("papers", justify="right")
    for row in page.by_year.iter_rows(named=True):
        by_year.add_row(str(row["year"] or "undated"), str(row["papers"]))
    console.print(by_year)

    papers = Table(title="Papers", title_justify="left")
    for col in ("year", "title", "authors", "category", "files"):
        papers.add_column(col)
    for row in page.papers.iter_rows(named=True):
        authors = (row["authors"] or "") + (", et al." if row["authors_truncated"] else "")
        papers.add_row(
            str(row["year"] or ""),
            escape(row["title"] or ""),
            escape(authors),
            row["category_id"] or "",
            escape(row["source_files"] or ""),
        )
    console.print(papers)

    coauthors = Table(title="Co-authors", title_justify="left")
    for col in ("co-author", "papers", "first", "last"):
        coauthors.add_column(col, justify="left" if col == "co-author" else "right")
    for row in page.coauthors.iter_rows(named=True):
        coauthors.add_row(
            escape(row["coauthor_name"]),
            str(row["n_papers"]),
            str(row["first_year"] or ""),
            str(row["last_year"] or ""),
        )
    console.print(coauthors)

    topics = Table(title="Topics and categories", title_justify="left")
    for col in ("topic or category", "papers"):
        topics.add_column(col, justify="right" if col == "papers" else "left")
    for row in page.topics.iter_rows(named=True):
        topics.add_row(escape(row["topic"]), str(row["n_papers"]))
    for row in page.categories.iter_rows(named=True):
        label = f"{row['category_id']} {row['category_name'] or ''}".strip()
        topics.add_row(escape(label), str(row["n_papers"]))
    console.print(topics)

    for row in page.profiles.iter_rows(named=True):
        console.print(
            f"Profile page {escape(row['source_file'])} ({row['format']}) names them as its "
            f"owner: {row['n_papers_in_file']} papers listed, printed on "
            f"{row['n_papers_in_file_owner_printed']}; header: {row['paper_count'] or '-'} "
            f"papers, h-index {row['h_index'] or '-'}",
            highlight=False,
        )


def _side(pair: dict, side: str) -> list[str]:
    authors = ", ".join(pair[f"authors_{side}"] or [])
    if pair[f"truncated_{side}"]:
        count = pair[f"author_count_{side}"]
        authors = (
            f"{authors}, et al."
            if authors
            else (f"{count} authors, names not printed" if count else "no names printed")
        )
    date = pair[f"date_text_{side}"] or "no date"
    if pair[f"date_{side}"]:
        date += f" ({pair[f'date_{side}']})"
    return [
        pair[f"title_{side}"] or "(no title)",
        authors,
        date,
        pair[f"category_{side}"] or "",
        pair[f"format_{side}"] or "",
        f"{pair[f'file_{side}']}, lines {pair[f'line_start_{side}']}-{pair[f'line_end_{side}']}",
        pair[f"abstract_{side}"] or "",
    ]


def _show_pair(pair: dict, position: str) -> None:
    table = Table(
        title=f"Pair {pair['pair_id']} ({position}): score {pair['score']:.3f}, {pair['rule']}",
        title_justify="left",
        show_lines=True,
    )
    table.add_column("")
    table.add_column(f"record {pair['record_id_a']}", ratio=1)
    table.add_column(f"record {pair['record_id_b']}", ratio=1)
    labels = ["title", "authors", "date", "category", "format", "where", "abstract"]
    for label, a, b in zip(labels, _side(pair, "a"), _side(pair, "b"), strict=True):
        table.add_row(label, escape(a), escape(b))
    console.print(table)


ANSWER_KEYS = {"y": "merge", "n": "apart", "s": None, "q": None}


@app.command()
def review(
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
    raw: Annotated[
        Path, typer.Option("--raw", help="The raw folder whose overrides.toml gets the answers.")
    ] = Path("raw"),
    list_pairs: Annotated[
        bool, typer.Option("--list", help="List the pairs to review (tab-separated) and exit.")
    ] = False,
    same: Annotated[
        list[str] | None, typer.Option("--same", help="Answer pair ID: the same paper.")
    ] = None,
    apart: Annotated[
        list[str] | None, typer.Option("--apart", help="Answer pair ID: different papers.")
    ] = None,
    debug: Annotated[bool, DEBUG_OPTION] = False,
) -> None:
    """Decide the record pairs the matcher left for review; answers go to raw/overrides.toml."""
    from pipelines.look import database
    from pipelines.look import review as queue

    same, apart = same or [], apart or []
    if set(same) & set(apart):
        fail(f"--same and --apart both name {sorted(set(same) & set(apart))}", debug, EXIT_USAGE)
    if not raw.is_dir():
        fail(f"raw folder {raw} does not exist or is not a folder", debug, EXIT_USAGE)
    db = database.database_of(warehouse)
    try:
        with database.reading(db, queue.VIEWS) as con:
            pairs = queue.review_pairs(con)
        decided = queue.answered(raw)
    except PaperlakeError as err:
        fail(str(err), debug)
    built_from = database.build_of(db).raw_dir
    if built_from and os.path.realpath(built_from) != os.path.realpath(raw):
        err_console.print(
            f"note: {db} was built from {built_from}; answers go to {raw / 'overrides.toml'}",
            highlight=False,
            soft_wrap=True,
        )
    if list_pairs:
        _list_pairs(pairs, decided)
        return
    if same or apart:
        try:
            named = queue.find_pairs(pairs, same + apart)
        except PaperlakeError as err:
            fail(str(err), debug, EXIT_USAGE)
        try:
            answers = [
                queue.answer_for(named[i], kind, decided)
                for ids, kind in ((same, queue.SAME), (apart, queue.APART))
                for i in ids
            ]
            new = [a for a in answers if a is not None]
            if new:
                queue.add_answers(raw, new)
        except PaperlakeError as err:
            fail(str(err), debug)
        _answered_line(raw, len(new), len(answers) - len(new))
        return
    _interactive(pairs, decided, raw, debug)


def _list_pairs(pairs, decided) -> None:
    columns = ["pair", "score", "rule", "record_a", "title_a", "record_b", "title_b", "answer"]
    lines = ["\t".join(columns)]
    for p in pairs.iter_rows(named=True):
        answer = decided.get(frozenset((p["record_id_a"], p["record_id_b"])))
        fields = [
            p["pair_id"],
            f"{p['score']:.3f}",
            p["rule"],
            p["record_id_a"],
            p["title_a"] or "",
            p["record_id_b"],
            p["title_b"] or "",
            f"{answer} (next refresh)" if answer else "",
        ]
        lines.append("\t".join(" ".join(str(f).split()) for f in fields))
    typer.echo("\n".join(lines))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _answered_line(raw: Path, n_new: int, n_known: int) -> None:
    text = f"Wrote {_plural(n_new, 'answer')} to {raw / 'overrides.toml'}"
    if n_known:
        text += f" ({n_known} already there)"
    if n_new:
        text += f"; the next `paperlake refresh` honours {'it' if n_new == 1 else 'them'}"
    console.print(escape(text) + ".", highlight=False)


def _ask() -> str:
    """One answer key; "q" at the end of the input (nothing waits on a closed stdin)."""
    while True:
        try:
            key = typer.prompt("Same paper? y = same, n = different, s = skip, q = quit")
        except typer.Abort:
            return "q"
        key = key.strip().lower()
        if key in ANSWER_KEYS:
            return key
        err_console.print(f"Answer y, n, s or q, not {key!r}.", highlight=False)


def _interactive(pairs, decided, raw: Path, debug: bool) -> None:
    from pipelines.look import review as queue

    todo = [
        p
        for p in pairs.iter_rows(named=True)
        if frozenset((p["record_id_a"], p["record_id_b"])) not in decided
    ]
    if not todo:
        console.print(
            f"No pair to review ({pairs.height} pairs, all answered in "
            f"{escape(str(raw / 'overrides.toml'))})."
            if pairs.height
            else "No pair to review.",
            highlight=False,
        )
        return
    written = 0
    for i, pair in enumerate(todo, start=1):
        _show_pair(pair, f"{i} of {len(todo)}")
        key = _ask()
        if key == "q":
            break
        kind = ANSWER_KEYS[key]
        if kind is None:
            continue
        try:
            # Written at once: quitting later keeps every answer given.
            queue.add_answers(raw, [queue.answer_for(pair, kind, decided)])
        except PaperlakeError as err:
            fail(str(err), debug)
        written += 1
    _answered_line(raw, written, 0)


@app.command()
def rejects(
    file: Annotated[
        str | None,
        typer.Argument(help="Only this input file (its name in the raw folder, or a path)."),
    ] = None,
    warehouse: Annotated[Path, WAREHOUSE_OPTION] = Path("warehouse"),
    debug: Annotated[bool, DEBUG_OPTION] = False,
) -> None:
    """Print the quarantined lines with their reasons (file:lines: reason, then the text)."""
    from pipelines.look import database
    from pipelines.look import rejects as quarantine

    try:
        with database.reading(database.database_of(warehouse), quarantine.VIEWS) as con:
            source_file = quarantine.resolve_file(con, file) if file is not None else None
            runs = quarantine.quarantined(con, source_file)
    except PaperlakeError as err:
        fail(str(err), debug)
    out = []
    for r in runs.iter_rows(named=True):
        where = quarantine.where(r["line_start"], r["line_end"])
        whole = " (whole file)" if r["whole_file"] else ""
        out.append(f"{r['source_file']}:{where}: {r['reason']}{whole}")
        out += [f"    | {line}" for line in (r["raw_text"] or "").splitlines()]
    scope = f" in {source_file}" if source_file else ""
    if runs.is_empty():
        typer.echo(f"No line was quarantined{scope}.")
        return
    counts = quarantine.by_reason(runs)
    out.append("")
    out.append(
        f"{_plural(runs.height, 'run')}, {_plural(int(counts['lines'].sum()), 'line')} "
        "quarantined"
        f"{scope or ' in ' + _plural(runs['source_file'].n_unique(), 'file')}:"
    )
    out += [
        f"  {row['lines']:>7} lines in {row['runs']:>5} runs: {row['reason']}"
        for row in counts.iter_rows(named=True)
    ]
    typer.echo("\n".join(out))
