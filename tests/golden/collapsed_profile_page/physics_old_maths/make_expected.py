"""Write expected.csv for the physics/old-maths collapsed-page case (run from this folder).

As in ../whole_sample: the first author of every glued title+authors line is
typed by hand below from reading input.txt, the category, date and Code flag
are cut from the meta line with plain string operations. The parser is not
used, so the golden file checks it independently.
"""

import csv
import datetime
from pathlib import Path

FIRST_AUTHORS = [
    "Juan M. Maldacena", "S. S. Gubser", "Maxim Kontsevich", "Peter W. Shor",
    "Albert-László Barabási", "Grisha Perelman", "Adam G. Riess", "B. P. Abbott",
    "Maxim Kontsevich",
]  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
CAPTURE = datetime.date(2026, 11, 22)


def main() -> None:
    lines = Path("input.txt").read_text(encoding="utf-8").split("\n")
    rows = []
    for i, first in enumerate(FIRST_AUTHORS):
        meta, glued, abstract = lines[3 * i : 3 * i + 3]
        has_code = meta.endswith("Code")
        meta = meta.removesuffix("Code")
        cut = min(meta.find(m + " ") for m in MONTHS if meta.find(m + " ") > 0)
        category, date_text = meta[:cut], meta[cut:]
        month, rest = date_text.split(" ", 1)
        day, _, year = rest.partition(", ")
        published = datetime.date(int(year), MONTHS.index(month) + 1, int(day))
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
                "affiliations": " | ".join(orgs.split(", ")) if orgs else "",
                "category": category,
                "has_code": str(has_code).lower(),
                "date_text": date_text,
                "published_date": published.isoformat(),
                "title_split": "pattern",
                "is_cut": "false",
                "is_future_date": "false",
                "abstract_start": abstract[:50],
            }
        )
    with open("expected.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
