"""Write expected.csv for the collapsed-page golden case (run from this folder).

The split point of every glued title+authors line is the first author's name,
typed by hand below from reading the dump; category, date and Code flag are
cut from the meta line with plain string operations. Nothing here uses the
parser, so the golden file checks it independently.
"""

import csv
import datetime
from pathlib import Path

FIRST_AUTHORS = [
    "Kay Liu", "Zhuoming Chen", "Gabriele Oliaro", "Yixuan Mei", "Xupeng Miao",
    "John Thorpe", "Zikun Li", "Hongyi Jin", "Liyan Zheng", "Yue Huang",
    "Zhihao Jia", "Mengdi Wu", "Zhuoming Chen", "Rui Pan", "Jingyuan Wang",
    "Ferdinand Kossmann", "Zhihao Zhang", "Gabriele Oliaro", "Xinle Cheng", "Zhihao Jia",
    "Yixuan Mei", "Mengdi Wu", "Xupeng Miao", "Byungsoo Jeon", "Yaoyao Ding",
    "Zhuoming Chen", "Gabriele Oliaro", "Zhengxin Zhang", "Zikun Li", "Xiaoxiang Shi",
    "Lijie Yang", "Jiawei He", "Zhihao Jia", "Byungsoo Jeon", "Ruslan Svirschevski",
    "Zhihao Zhang", "Xupeng Miao", "Yue Zhao", "Zhihao Zhang", "John Thorpe",
    "Dheevatsa Mudigere", "Zhihao Jia", "Zhihao Jia",
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
        published = datetime.date(int(year or CAPTURE.year), MONTHS.index(month) + 1, int(day))
        if published > CAPTURE:
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
                "abstract_start": abstract[:50],
            }
        )
    with open("expected.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
