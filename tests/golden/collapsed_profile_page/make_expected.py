"""Write a collapsed-page golden case's expected.csv: ``python make_expected.py CASE``.

The split point of every glued title+authors line is the first author's
name, typed by hand in ``CASE/first_authors.txt`` (one a line, in record
order) from reading the dump; category, date and Code flag are cut from the
meta line with plain string operations. Nothing here uses the parser, so the
golden file checks it independently.
"""

import csv
import datetime
import sys
from pathlib import Path

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
CAPTURE = datetime.date(2026, 11, 22)


def expected_rows(case: Path) -> list[dict]:
    lines = (case / "input.txt").read_text(encoding="utf-8").split("\n")
    first_authors = (case / "first_authors.txt").read_text(encoding="utf-8").splitlines()
    rows = []
    for i, first in enumerate(first_authors):
        meta, glued, abstract = lines[3 * i : 3 * i + 3]
        has_code = meta.endswith("Code")
        meta = meta.removesuffix("Code")
        cut = min(meta.find(m + " ") for m in MONTHS if meta.find(m + " ") > 0)
        category, date_text = meta[:cut], meta[cut:]
        month, rest = date_text.split(" ", 1)
        day, _, year = rest.partition(", ")
        published = datetime.date(int(year or CAPTURE.year), MONTHS.index(month) + 1, int(day))
        if published > CAPTURE and not year:
            published = published.replace(year=published.year - 1)
        at = glued.index(first)
        title, author_line = glued[:at], glued[at:]
        author_line, _, orgs = author_line.partition(" · ")
        rows.append(
            {
                "record_index": i,
                "line_start": 3 * i + 1,
                "line_end": 3 * i + 3,
                "title": title,
                "authors": " | ".join(author_line.removesuffix(" et al.").split(", ")),
                "authors_truncated": str(author_line.endswith(" et al.")).lower(),
                "author_count": "",
                "affiliations": " | ".join(orgs.split(", ")) if orgs else "",
                "category": category,
                "has_code": str(has_code).lower(),
                "date_text": date_text,
                "published_date": published.isoformat(),
                "upvotes": "",
                "title_split": "pattern",
                "is_cut": "false",
                "is_future_date": str(published > CAPTURE).lower(),
                "abstract_start": abstract[:50],
            }
        )
    return rows


def main(case: Path) -> None:
    rows = expected_rows(case)
    with open(case / "expected.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
