"""The run report: one set of sections that the CLI prints and the flow publishes.

``sections`` decides what a report says; ``to_markdown`` renders it for the
Prefect artifact, and the CLI renders the same sections with rich. Nothing
here touches files or Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipelines.refresh import RunSummary
from pipelines.transform.linkage import NOT_RUN

# How an entry's extraction went when it was not read at all (see pipelines.flows).
NOT_READ = "not read"

# Long lists are cut in the report; the tables hold every row.
MAX_ROWS = 20
MAX_TEXT = 60
MAX_PROCESSES = 8


@dataclass(frozen=True)
class Section:
    """A titled table of strings; ``right`` names the columns aligned right (numbers)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    right: set[str] = field(default_factory=set)
    footer: str | None = None


def _cut(text: str | None, width: int = MAX_TEXT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _lines(start: int | None, end: int | None) -> str:
    if start is None:
        return "(empty)"
    return f"line {start}" if start == end else f"lines {start}-{end}"


def file_rows(summary: RunSummary) -> list[dict[str, Any]]:
    """One row per input file: what it was, how it was read, and its line accounting."""
    rows = []
    for row in summary.sources.sort("source_file").iter_rows(named=True):
        parts = row["n_record_lines"] + row["n_rejected_lines"] + row["n_furniture_lines"]
        rows.append(
            {
                "file": row["source_file"],
                "format": row["format"] or "(quarantined)",
                "extraction": summary.extraction.get(row["source_file"], "parsed"),
                "captured": str(row["capture_date"] or ""),
                "date from": row["capture_date_origin"] or "",
                "lines": row["n_lines"],
                "records": row["n_records"],
                "rejected": row["n_rejected_lines"],
                "furniture": row["n_furniture_lines"],
                "accounted": "ok" if parts == row["n_lines"] else f"{parts} of {row['n_lines']}",
            }
        )
    return rows


def _files_section(summary: RunSummary) -> Section:
    rows = file_rows(summary)
    columns = list(rows[0]) if rows else ["file"]
    return Section(
        "Input files",
        columns,
        [[str(v) for v in r.values()] for r in rows],
        right={"lines", "records", "rejected", "furniture"},
        footer=f"{summary.n_parsed} parsed, {summary.n_reused} reused from the cache",
    )


def _not_read_section(summary: RunSummary) -> Section | None:
    """Entries of the raw folder that were not read (FIFOs, links, unreadable files)."""
    rows = [
        [row["source_file"], row["format_reason"] or ""]
        for row in summary.sources.sort("source_file").iter_rows(named=True)
        if summary.extraction.get(row["source_file"]) == NOT_READ
    ]
    if not rows:
        return None
    return Section("Not read", ["entry", "why"], rows[:MAX_ROWS], footer=_more(len(rows)))


def _more(n: int) -> str | None:
    return f"and {n - MAX_ROWS} more in the sources table" if n > MAX_ROWS else None


def _format_section(summary: RunSummary) -> Section:
    columns = ["format", "files", "lines", "records", "rejected lines", "furniture lines"]
    rows = [[str(v) for v in row] for row in summary.by_format().iter_rows()]
    return Section("By format", columns, rows, right=set(columns[1:]))


def _quarantine_sections(summary: RunSummary) -> list[Section]:
    rejects = summary.rejects
    if rejects.height == 0:
        return []
    spans = rejects.with_columns(
        n=(pl.col("line_end") - pl.col("line_start") + 1).fill_null(0),
    )
    by_reason = (
        spans.group_by("reason")
        .agg(runs=pl.len(), lines=pl.col("n").sum())
        .sort(["lines", "reason"], descending=[True, False])
    )
    reasons = Section(
        "Quarantined lines by reason",
        ["reason", "runs", "lines"],
        [[r, str(n), str(lines)] for r, n, lines in by_reason.iter_rows()],
        right={"runs", "lines"},
    )
    listed = spans.sort("source_file", "line_start", nulls_last=True)
    rows = [
        [
            f"{r['source_file']}",
            _lines(r["line_start"], r["line_end"]),
            r["reason"],
            _cut(r["raw_text"]),
        ]
        for r in listed.head(MAX_ROWS).iter_rows(named=True)
    ]
    more = listed.height - len(rows)
    where = Section(
        "Quarantined lines",
        ["file", "where", "reason", "text"],
        rows,
        footer=f"and {more} more in the rejects table" if more > 0 else None,
    )
    return [reasons, where]


def _flagged_section(summary: RunSummary) -> Section | None:
    """Records kept with a flag: cut off by the end of their file, or dated after its capture."""
    flagged = summary.flagged
    if flagged.height == 0:
        return None
    listed = flagged.sort("source_file", "line_start")
    rows = [
        [
            r["source_file"],
            _lines(r["line_start"], r["line_end"]),
            ", ".join(
                what
                for what, on in (
                    ("cut off by the end of the file", r["is_cut"]),
                    (f"dated {r['date_text']}, after the capture date", r["is_future_date"]),
                )
                if on
            ),
            _cut(r["title"]),
        ]
        for r in listed.head(MAX_ROWS).iter_rows(named=True)
    ]
    more = listed.height - len(rows)
    n_cut, n_future = int(flagged["is_cut"].sum()), int(flagged["is_future_date"].sum())
    footer = f"cut records: {n_cut}, dates after the capture date: {n_future}"
    return Section(
        "Flagged records",
        ["file", "where", "flag", "title"],
        rows,
        footer=footer + (f"; {more} more in the records table" if more > 0 else ""),
    )


def _merge_section(summary: RunSummary) -> Section | None:
    merges = summary.merges
    if merges.height == 0:
        return None
    rows = [
        [_cut(r["title"]), str(r["n_records"]), r["sources"] or ""]
        for r in merges.head(MAX_ROWS).iter_rows(named=True)
    ]
    n_records = int(merges["n_records"].sum())
    more = merges.height - len(rows)
    footer = f"papers linked from several records: {merges.height} (from {n_records} records)"
    return Section(
        "Merged papers",
        ["title", "records", "files"],
        rows,
        right={"records"},
        footer=footer + (f"; {more} more not listed" if more > 0 else ""),
    )


def _warehouse_section(summary: RunSummary) -> Section:
    if summary.published:
        outcome = f"version {summary.version} published"
        if summary.previous_version:
            outcome += f" (was {summary.previous_version})"
    elif summary.version:
        outcome = f"unchanged: version {summary.version} stays published"
    else:
        outcome = "not published"
    rows = [
        ["records", str(summary.n_records)],
        ["rejected lines", str(summary.n_rejected_lines)],
        ["quarantined files", str(summary.n_quarantined_files)],
        ["papers", str(summary.n_papers)],
        ["authors", str(summary.n_authors)],
        ["views published", str(summary.n_views)],
        ["warehouse", outcome],
    ]
    return Section("Warehouse", ["what", "value"], rows, right={"value"})


def _linkage_section(summary: RunSummary) -> Section:
    link = summary.link
    how = {"incremental": "incremental", NOT_RUN: f"not run: {link.reason}"}.get(
        link.mode, f"full re-link ({link.reason})"
    )
    rows = [
        ["linking", how],
        ["records", str(summary.n_records)],
        ["candidate pairs compared", str(link.n_candidate_pairs)],
        *[[f"pairs {decision}", str(n)] for decision, n in link.decisions.items()],
        ["low-confidence title splits", str(len(link.weak_splits))],
    ]
    if link.mode == "incremental":
        rows += [[what, str(n)] for what, n in link.changes.items()]
    rows += [
        ["low-confidence split", f"{rid}: {_cut(title)}"]
        for rid, title in link.weak_splits[:MAX_ROWS]
    ]
    return Section("Linkage", ["what", "value"], rows, right={"value"})


def _timing_section(summary: RunSummary) -> Section:
    rows = [[stage, f"{seconds:.2f} s"] for stage, seconds in summary.stage_seconds.items()]
    footer = "\n".join(line for line in (_where_extracted(summary), summary.prefect_server) if line)
    return Section("Time per stage", ["stage", "time"], rows, right={"time"}, footer=footer or None)


def _where_extracted(summary: RunSummary) -> str | None:
    """Where the changed dumps were parsed: task runner, batches, processes (host:pid)."""
    if not summary.extract_batches:
        return None
    processes = summary.extract_processes
    listed = ", ".join(processes[:MAX_PROCESSES]) + (
        ", ..." if len(processes) > MAX_PROCESSES else ""
    )
    return (
        f"extract: {summary.extract_batches} batches on {summary.extract_runner}, "
        f"{len(processes)} process{'es' if len(processes) != 1 else ''} ({listed})"
    )


def sections(summary: RunSummary) -> list[Section]:
    """The report, in order: files, formats, quarantine, flagged records, merges, totals,
    timings."""
    out = [_files_section(summary), _format_section(summary)]
    not_read = _not_read_section(summary)
    if not_read is not None:
        out.append(not_read)
    out += _quarantine_sections(summary)
    flagged = _flagged_section(summary)
    if flagged is not None:
        out.append(flagged)
    merge = _merge_section(summary)
    if merge is not None:
        out.append(merge)
    out += [_linkage_section(summary), _warehouse_section(summary), _timing_section(summary)]
    return out


def notes(summary: RunSummary) -> list[str]:
    """Warnings about configuration entries that matched nothing (they fail --strict),
    input (dates, encodings, whole files quarantined) and recovery."""
    config = [f"warning: {w}" for w in summary.config_warnings]
    return [*config, *summary.warnings, *summary.link.notes, *summary.recovered]


def outcome_line(summary: RunSummary) -> str:
    """The last line of a report: what readers now see."""
    if summary.published:
        return f"Published version {summary.version}: {summary.database_path}"
    return f"Nothing changed: version {summary.version} stays published at {summary.database_path}"


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def to_markdown(summary: RunSummary) -> str:
    """The report as Markdown (the Prefect artifact)."""
    out = ["# paperlake refresh", "", outcome_line(summary), ""]
    for section in sections(summary):
        out += [f"## {section.title}", ""]
        out.append("| " + " | ".join(section.columns) + " |")
        out.append(
            "|" + "|".join("---:" if c in section.right else "---" for c in section.columns) + "|"
        )
        out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in section.rows]
        if section.footer:
            out += ["", section.footer]
        out.append("")
    if notes(summary):
        out += ["## Notes", ""] + [f"- {_md_cell(n)}" for n in notes(summary)] + [""]
    return "\n".join(out)


def failure_markdown(error: BaseException, stage: str, published: bool) -> str:
    """The report of a failed run: where, why, and whether readers see anything new."""
    effect = (
        "The new version was already published; only clean-up failed."
        if published
        else "The published warehouse was not changed."
    )
    return "\n".join(
        [
            "# paperlake refresh failed",
            "",
            f"Stage **{stage}**: {type(error).__name__}: {_md_cell(str(error))}",
            "",
            effect,
        ]
    )
