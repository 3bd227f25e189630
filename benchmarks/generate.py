"""Deterministic benchmark corpus: dumps in the four formats, plus the truth.

    python -m benchmarks.generate --size 100MB --out /tmp/corpus-100mb --seed 1

writes

    OUT/raw/NNNNNN_<hex>.txt     dumps in formats A-D, as the sample pages print them
    OUT/raw/manifest.toml        [capture_dates] "file" = YYYY-MM-DD, paperlake's format
    OUT/truth/records.parquet    one row per rendered record: where it is, its true paper
    OUT/truth/papers.parquet     one row per true paper: clean fields, hard-negative partner
    OUT/truth/files.parquet      one row per dump: format, capture date, damage
    OUT/corpus.json              the settings and counts

The same seed and size give byte-identical output. Every paper (and person) is
a pure function of (seed, index), so a paper repeated in a later dump is
regenerated rather than kept: memory stays bounded whatever the size, and the
dumps are written one at a time.

Realism, on purpose:

- a share of records repeats a paper of an earlier dump, printed the way that
  dump's format prints it (cut "et al." lists vs full "Family, Given" lists,
  LaTeX vs plain titles, "Nexus:Proactive" vs "Nexus: Proactive", a year-less
  date vs one with its year, no date at all, other upvotes);
- pairs of different papers made to fool a linker: "... Part I" / "... Part II",
  the same abstract under another title (as in sample dump 001), the same title
  in another year by other authors, titles one word apart;
- damaged files: cut off mid-record, stray page fragments ("Show more"),
  Windows-1252 encoding (characters it lacks become "?"), CRLF line ends.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
import unicodedata
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from random import Random

import polars as pl
import pyarrow.parquet as pq

from benchmarks import vocab as V

FORMATS = ("profile_page", "collapsed_profile_page", "daily_papers", "scholar_profile")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAILY_HEADER = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)
# Hard-negative kinds: two different papers built to look alike.
HARD_KINDS = ("part", "same_abstract", "same_title", "near_title")
# Seed-stream tags, so the random streams of papers, people and dumps never overlap.
_PAPER, _PERSON, _DUMP = 1, 2, 3

# Bytes per record assumed before the first dump is written (sizes the first dump).
BYTES_PER_RECORD_GUESS = 1500

SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}


def parse_size(text: str) -> int:
    """'100MB' -> 100_000_000 (decimal units: KB, MB, GB)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", text.upper())
    if not m:
        raise ValueError(f"not a size like 10MB or 1GB: {text!r}")
    return int(float(m.group(1)) * SIZE_UNITS[m.group(2)])


@dataclass(frozen=True)
class GenConfig:
    """What to generate. Shares are of records (repeat), new papers (hard) or files."""

    size_bytes: int
    seed: int = 1
    capture_start: date = date(2024, 1, 8)
    capture_end: date = date(2026, 11, 22)
    # Format mix, by share of dumps: A, B, C, D.
    format_weights: tuple[float, float, float, float] = (0.35, 0.15, 0.3, 0.2)
    # Share of records that print a paper an earlier record already printed.
    repeat_share: float = 0.25
    # Share of new papers that come with a look-alike different paper.
    hard_negative_share: float = 0.03
    # Shares of dumps with each kind of damage (a dump can have several).
    cut_off_share: float = 0.03
    stray_share: float = 0.05
    cp1252_share: float = 0.02
    crlf_share: float = 0.03
    # Median records per dump (log-normal around it, clipped to [3, 8x]).
    median_records: int = 60
    # Write every dump as this one format (None: the mix above); used for a single extra dump.
    only_format: str | None = None
    # Prefix of file names and paper ids, so two corpora can be mixed.
    prefix: str = ""
    # Stop after this many dumps even if the size is not reached (None: no limit).
    max_files: int | None = None
    # Share of people with a family name the v0 parsers mis-read (vocab.HARD_FAMILY).
    hard_name_share: float = 0.005
    # Allow two different co-authors of one paper to print the same name (or
    # names equal once accents and case are folded: "David Li", "Dávid Li").
    # Real but rare; this small name pool would make it far too common, and
    # v0's refresh fails on it (see BENCHMARKS.md), so it is off by default.
    same_name_coauthors: bool = False


# --- papers and people ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    given: str
    family: str

    @property
    def hard(self) -> bool:
        """A name the v0 parsers are known to mis-read in formats B and D."""
        return self.family in V.HARD_FAMILY or self.family in V.HARD_PARTICLE_FAMILY

    @property
    def name(self) -> str:
        """'Given Family', the order profile pages print and the truth uses."""
        return f"{self.given} {self.family}"

    @property
    def scholar(self) -> str:
        """'Family, Given', the order scholar profiles print."""
        return f"{self.family}, {self.given}"


@dataclass(frozen=True, slots=True)
class Paper:
    index: int
    title: str  # the clean, true title
    latex_title: str | None  # the same title with LaTeX markup, when it has a form
    authors: tuple[int, ...]  # person indexes, in order
    published: date
    category: str
    has_code: bool
    orgs: tuple[str, ...]
    abstract: str
    partner: int  # the hard-negative partner's index, or -1
    kind: str | None  # hard-negative kind


def _cum_weights(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


_CAT_NAMES = [c for c, _ in V.CATEGORIES]
_CAT_CUM = _cum_weights([float(w) for _, w in V.CATEGORIES])
# Authors per paper: 1..20, most around 3-8 (cut to 3 on profile pages).
_N_AUTHORS = list(range(1, 21))
_N_AUTHORS_CUM = _cum_weights(
    [3, 9, 14, 15, 13, 11, 9, 7, 5, 4, 2.5, 2, 1.5, 1, 1, 0.8, 0.5, 0.4, 0.3, 0.3]
)


def _date_text(d: date, capture: date) -> str:
    """The site prints the year except for dates in the capture year."""
    text = f"{MONTHS[d.month - 1]} {d.day}"
    return text if d.year == capture.year else f"{text}, {d.year}"


def _latex_name(rng: Random) -> tuple[str, str]:
    """A system name with a LaTeX form: ('A2Q', '$\\rm A^2Q$') or ('μServe', '$\\mu$Serve')."""
    if rng.random() < 0.5:
        a, b = rng.choice(V.ACRONYM_LETTERS), rng.choice(V.ACRONYM_LETTERS)
        n = rng.choice("234")
        return f"{a}{n}{b}", f"$\\rm {a}^{n}{b}$"
    greek, symbol = rng.choice((("μ", "mu"), ("α", "alpha"), ("λ", "lambda"), ("π", "pi")))
    tail = rng.choice(V.NAME_TAILS)
    return f"{greek}{tail}", "$\\" + symbol + "$" + tail


def _system_name(rng: Random) -> str:
    """A CamelCase or acronym system name: 'SpotServe', 'TC-GNN', 'xGR', 'PRAGMA'."""
    r = rng.random()
    if r < 0.55:
        name = rng.choice(V.NAME_HEADS) + rng.choice(V.NAME_TAILS)
        if rng.random() < 0.15:
            name += rng.choice(("2", "3", "++", "-X", "-2"))
        return name
    if r < 0.8:
        return "".join(rng.choice(V.ACRONYM_LETTERS) for _ in range(rng.randint(3, 6)))
    if r < 0.9:
        left = "".join(rng.choice(V.ACRONYM_LETTERS) for _ in range(rng.randint(2, 3)))
        return f"{left}-{rng.choice(('GNN', 'SpMV', 'LLM', 'MoE', 'NAS', 'KV', 'DNN'))}"
    return rng.choice("xmuq") + "".join(rng.choice(V.ACRONYM_LETTERS) for _ in range(2))


def _subtitle(rng: Random) -> str:
    """'Efficient LLM Serving with Paged Attention on GPUs' and similar."""
    r = rng.random()
    topic = rng.choice(V.TOPICS)
    if r < 0.35:
        adjective, prep = rng.choice(V.ADJECTIVES), rng.choice(V.PREPOSITIONS)
        s = f"{adjective} {topic} {prep} {rng.choice(V.TECHNIQUES)}"
    elif r < 0.6:
        action, prep = rng.choice(V.ACTIONS), rng.choice(("on", "at", "for", "across"))
        s = f"{action} {topic} {prep} {rng.choice(V.SETTINGS)}"
    elif r < 0.75:
        s = f"A {rng.choice(V.ADJECTIVES)} {rng.choice(V.SYSTEM_NOUNS).title()} for {topic}"
    elif r < 0.85:
        s = (
            f"{rng.choice(V.ADJECTIVES)}, {rng.choice(V.ADJECTIVES).lower()}, and "
            f"{rng.choice(V.ADJECTIVES).lower()} {topic}"
        )
    else:
        s = f"{rng.choice(V.ADJECTIVES)} {topic} and {rng.choice(V.TOPICS)}"
    if r >= 0.6 and rng.random() < 0.4:
        s += f" on {rng.choice(V.SETTINGS)}"
    return s


def _title(rng: Random) -> tuple[str, str | None, str]:
    """(clean title, LaTeX form or None, system name used in the abstract)."""
    latex = None
    if rng.random() < 0.04:
        name, latex_name = _latex_name(rng)
    else:
        name, latex_name = _system_name(rng), None
    if rng.random() < 0.62:
        title = f"{name}: {_subtitle(rng)}"
        if latex_name:
            latex = f"{latex_name}: {title[len(name) + 2 :]}"
    else:
        title = _subtitle(rng)
    return title, latex, name


def _sentence(rng: Random, name: str, topic: str, r: int) -> str:
    if r == 0:
        return (
            f"{topic} {rng.choice(('has become', 'is increasingly', 'remains'))} "
            f"{rng.choice(('a critical workload', 'central', 'a key building block'))} "
            f"for {rng.choice(V.DOMAINS)}."
        )
    if r == 1:
        return (
            f"However, existing {rng.choice(V.SYSTEM_NOUNS)}s suffer from "
            f"{rng.choice(V.PROBLEMS)} and {rng.choice(V.PROBLEMS)}, leaving substantial "
            f"room for optimization."
        )
    if r == 2:
        return (
            f"In this paper, we present {name}, a {rng.choice(V.ADJECTIVES).lower()} "
            f"{rng.choice(V.SYSTEM_NOUNS)} that {rng.choice(V.VERBS)} "
            f"{rng.choice(V.OBJECTS)}."
        )
    if r == 3:
        return (
            f"{name} {rng.choice(('introduces', 'leverages', 'combines'))} "
            f"{rng.choice(V.TECHNIQUES).lower()} with {rng.choice(V.TECHNIQUES).lower()} "
            f"to address {rng.choice(V.PROBLEMS)}."
        )
    if r == 4:
        return (
            f"We evaluate {name} on {rng.randint(3, 2900):,} "
            f"{rng.choice(('models', 'workloads', 'matrices', 'traces', 'benchmarks'))} "
            f"and show that it achieves up to {rng.randint(1, 40)}.{rng.randint(0, 99):02d}x "
            f"{rng.choice(V.METRICS)} over {rng.choice(V.BASELINES)} and "
            f"{rng.choice(V.BASELINES)}."
        )
    if r == 5:
        return (
            f"Experiments on {rng.choice(V.HARDWARE)} demonstrate that {name} "
            f"{rng.choice(V.VERBS)} {rng.choice(V.OBJECTS)} by {rng.randint(12, 97)}%."
        )
    if r == 6:
        return (
            f"We observe that {rng.choice(V.PROBLEMS)} dominates the end-to-end time, "
            f"and that {rng.choice(V.OBJECTS)} accounts for up to {rng.randint(20, 80)}% of it."
        )
    if r == 7:
        return (
            f"We prove that the problem is solvable in {rng.choice(V.LATEX_SNIPPETS)} time "
            f"under mild assumptions on the {rng.choice(('workload', 'topology', 'input'))}."
        )
    if r == 8:
        return (
            f"To this end, {name} ({rng.choice(('1', 'i'))}) {rng.choice(V.VERBS)} "
            f"{rng.choice(V.OBJECTS)}, and ({rng.choice(('2', 'ii'))}) "
            f"{rng.choice(V.VERBS)} {rng.choice(V.OBJECTS)}."
        )
    return (
        f"The implementation is open source and integrates with "
        f"{rng.choice(V.BASELINES)} with fewer than {rng.randint(2, 30) * 50} lines of changes."
    )


def _abstract(rng: Random, name: str, topic: str) -> str:
    """One paragraph of 600-2000 characters, ending on a full sentence."""
    target = rng.randint(600, 2000)
    # Context, problem, proposal, method details, results, sometimes a closing line.
    middle = [3, 6, 7, 8]
    rng.shuffle(middle)
    order = [0, 1, 2, *middle, 4, 5, 9]
    parts: list[str] = []
    length = 0
    k = 0
    while length < target:
        kind = order[k] if k < len(order) else rng.choice((3, 4, 5, 6, 8))
        k += 1
        s = _sentence(rng, name, topic, kind)
        parts.append(s)
        length += len(s) + 1
    while length > 2000 and len(parts) > 1:
        length -= len(parts.pop()) + 1
    text = " ".join(parts)
    if len(text) < 600:  # a rare short draw: pad with one more fact
        text += " " + _sentence(rng, name, topic, 4)
    return text


class Universe:
    """Every paper and person, each a pure function of (seed, index).

    Only a few integers per paper are stored (its date limit, the dump owner
    it must include, its hard-negative partner and a title retry count), so a
    repeated paper is regenerated, not kept.
    """

    def __init__(
        self, seed: int, hard_name_share: float = 0.005, same_name_coauthors: bool = False
    ) -> None:
        self.seed = seed
        self.hard_name_share = hard_name_share
        self.same_name_coauthors = same_name_coauthors
        self.limit_day = array("i")  # latest ordinal day the paper may be dated
        self.owner = array("i")  # person the paper must list (-1: none)
        self.partner = array("i")  # hard-negative partner (-1: none)
        self.kind = bytearray()  # index into HARD_KINDS + 1 (0: none)
        self.attempt = bytearray()  # title retries to avoid accidental duplicates
        self.n_persons = array("i")  # person pool size when the paper was made
        self._title_keys: set[bytes] = set()
        self.paper = lru_cache(maxsize=20_000)(self._make_paper)
        self.person = lru_cache(maxsize=200_000)(self._make_person)

    def __len__(self) -> int:
        return len(self.limit_day)

    def _rng(self, tag: int, index: int, extra: int = 0) -> Random:
        return Random((((self.seed << 8) | tag) << 48 | index) << 8 | extra)

    def _make_person(self, k: int) -> Person:
        rng = self._rng(_PERSON, k)
        r = rng.random()
        given = rng.choice(V.GIVEN_WITH_INITIAL) if r < 0.04 else rng.choice(V.GIVEN)
        r = rng.random()
        if r < self.hard_name_share:
            family = rng.choice(V.HARD_FAMILY + V.HARD_PARTICLE_FAMILY)
        elif r < self.hard_name_share + 0.03:
            family = rng.choice(V.PARTICLE_FAMILY)
        else:
            family = rng.choice(V.FAMILY)
        return Person(given, family)

    def new_paper(self, limit: date, owner: int, partner: int = -1, kind: str | None = None) -> int:
        """Register a new paper and return its index; its title is unique unless meant not to be."""
        i = len(self)
        self.limit_day.append(limit.toordinal())
        self.owner.append(owner)
        self.partner.append(partner)
        self.kind.append(0 if kind is None else HARD_KINDS.index(kind) + 1)
        self.attempt.append(0)
        self.n_persons.append(max(500, int(len(self) * 1.6)))
        if partner >= 0:
            # The first of the pair was made just before and not yet cached or
            # printed, so its title may still change ("... Part I").
            self.partner[partner] = i
            self.kind[partner] = self.kind[i]
        for attempt in range(255):
            self.attempt[i] = attempt
            p = self._make_paper(i)
            if kind == "same_title":
                break
            if _title_key(p.title) not in self._title_keys:
                break
        self._title_keys.add(_title_key(p.title))
        if partner >= 0:
            self._title_keys.add(_title_key(self._make_paper(partner).title))
        return i

    def _authors(self, rng: Random, i: int) -> list[int]:
        n = rng.choices(_N_AUTHORS, cum_weights=_N_AUTHORS_CUM)[0]
        pool = self.n_persons[i]
        # Squared uniform: a few prolific people recur across many papers.
        authors: list[int] = []
        # Folded as paperlake folds them: "David Li" and "Dávid Li" count as one name.
        names: set[str] = set()
        owner = self.owner[i]
        if owner >= 0:
            names.add(_name_fold(self.person(owner).name))
        for _ in range(n):
            k = int(pool * rng.random() ** 2)
            name = _name_fold(self.person(k).name)
            if k in authors or k == owner:
                continue
            if name in names and not self.same_name_coauthors:
                continue
            authors.append(k)
            names.add(name)
        if owner >= 0:
            authors.insert(rng.randrange(len(authors) + 1), owner)
        return authors

    def _make_paper(self, i: int) -> Paper:
        rng = self._rng(_PAPER, i, self.attempt[i])
        partner = self.partner[i]
        kind = HARD_KINDS[self.kind[i] - 1] if self.kind[i] else None
        limit = date.fromordinal(self.limit_day[i])
        title, latex, name = _title(rng)
        topic = rng.choice(V.TOPICS)
        authors = self._authors(rng, i)
        # Recent papers dominate listings: half within 18 months of the limit.
        span = (limit - date(2015, 1, 1)).days
        back = int(rng.random() * 540) if rng.random() < 0.5 else int(rng.random() * span)
        published = limit - timedelta(days=max(0, min(back, span)))
        category = rng.choices(_CAT_NAMES, cum_weights=_CAT_CUM)[0]
        has_code = rng.random() < 0.35
        orgs: tuple[str, ...] = ()
        if rng.random() < 0.15:
            orgs = tuple(dict.fromkeys(rng.choice(V.ORG_TAGS) for _ in range(rng.randint(1, 2))))
        abstract = _abstract(rng, name, topic)
        if kind is not None and partner < i and partner >= 0:
            # The second of a look-alike pair: derived from the first.
            base = self._make_paper(partner)
            if kind == "part":
                title, latex = base.title.removesuffix(" Part I") + " Part II", None
                authors = list(base.authors[:2]) + [a for a in authors if a not in base.authors]
            elif kind == "same_abstract":
                abstract = base.abstract
                authors = list(base.authors[:2]) + [a for a in authors if a not in base.authors]
            elif kind == "same_title":
                title, latex = base.title, base.latex_title
                years = rng.randint(2, 6)
                try:
                    published = base.published.replace(year=base.published.year - years)
                except ValueError:  # 29 February
                    published = base.published - timedelta(days=365 * years)
            elif kind == "near_title":
                swaps = [(a, b) for a, b in V.NEAR_SWAPS if a in base.title]
                if swaps:
                    a, b = rng.choice(swaps)
                    title = base.title.replace(a, b, 1)
                else:
                    title = base.title + " Revisited"
                latex = None
                authors = list(base.authors[:1]) + [a for a in authors if a not in base.authors]
        elif kind == "part":
            title, latex = title + " Part I", (latex + " Part I" if latex else None)
        return Paper(
            i,
            title,
            latex,
            tuple(authors),
            published,
            category,
            has_code,
            orgs,
            abstract,
            partner,
            kind,
        )


def _name_fold(name: str) -> str:
    """A person's name as paperlake folds it to match people (accents, case, punctuation)."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^\w]+|_", " ", bare).split())


def _title_key(title: str) -> bytes:
    """A stable 8-byte digest of a folded title (Python's own hash is salted per process)."""
    folded = re.sub(r"[^0-9a-z]+", " ", title.lower()).strip()
    return hashlib.blake2b(folded.encode(), digest_size=8).digest()


# --- rendering ------------------------------------------------------------------


@dataclass
class Rendered:
    """One record as printed, with what a correct parser must read back."""

    lines: list[str]
    paper: Paper
    printed_title: str
    printed_authors: list[str]  # "Given Family", the names printed
    authors_truncated: bool
    date_text: str | None
    category: str | None = None
    has_code: bool | None = None
    upvotes: int | None = None
    author_count: int | None = None
    variant: str = ""  # how this print differs from the clean paper


def _print_title(rng: Random, p: Paper, latex_chance: float) -> tuple[str, list[str]]:
    variants = []
    title = p.title
    if p.latex_title and rng.random() < latex_chance:
        title = p.latex_title
        variants.append("latex")
    if ": " in title and rng.random() < 0.12:
        title = title.replace(": ", ":", 1)
        variants.append("colon_nospace")
    return title, variants


class Renderer:
    """Prints papers the way each dump format does."""

    def __init__(self, universe: Universe) -> None:
        self.u = universe

    def names(self, p: Paper) -> list[Person]:
        return [self.u.person(k) for k in p.authors]

    def profile(self, rng: Random, p: Paper, capture: date, *, glued: bool) -> Rendered:
        title, variants = _print_title(rng, p, 0.05)
        people = self.names(p)
        shown = people[:3]
        cut = len(people) > 3
        author_line = ", ".join(x.name for x in shown) + (" et al." if cut else "")
        if p.orgs:
            author_line += " · " + ", ".join(p.orgs)
        dt = _date_text(p.published, capture)
        meta = f"{p.category}{dt}{'Code' if p.has_code else ''}"
        if glued:
            lines = [meta, title + author_line, p.abstract]
        else:
            lines = [meta, title, "", author_line, "", p.abstract]
        if "·" in author_line:
            variants.append("orgs")
        if glued and any(x.hard for x in shown):
            variants.append("hard_name")
        return Rendered(
            lines,
            p,
            title,
            [x.name for x in shown],
            cut,
            dt,
            category=p.category,
            has_code=p.has_code,
            variant=",".join(variants),
        )

    def daily(self, rng: Random, p: Paper, capture: date) -> Rendered:
        title, variants = _print_title(rng, p, 0.03)
        lines = [title, "", p.abstract]
        r = rng.random()
        dt = upvotes = count = None
        if r < 0.85:
            if r < 0.75:
                count = len(p.authors)
                head = f"  • {count} authors"
            else:
                head = rng.choice(V.DAILY_ORGS)
                variants.append("org_trailer")
            dt = _date_text(p.published, capture)
            date_line = dt
            if rng.random() < 0.5:
                upvotes = rng.randint(1, 400)
                date_line += f" {upvotes}"
            lines += ["", head, "·", date_line]
        else:
            variants.append("no_trailer")
        return Rendered(
            lines,
            p,
            title,
            [],
            True,
            dt,
            upvotes=upvotes,
            author_count=count,
            variant=",".join(variants),
        )

    def scholar(self, rng: Random, p: Paper, *, piped: bool) -> Rendered:
        title, variants = _print_title(rng, p, 0.8)
        people = self.names(p)
        if piped:
            line = " | ".join(
                f"{x.scholar} ({V.AFFILIATIONS[(k * 7 + p.index) % len(V.AFFILIATIONS)]})"
                for k, x in zip(p.authors, people, strict=True)
            )
            variants.append("affiliations")
        else:
            line = ", ".join(x.scholar for x in people)
        if any(x.hard for x in people):
            variants.append("hard_name")
        return Rendered(
            [title, line, p.abstract],
            p,
            title,
            [x.name for x in people],
            False,
            None,
            variant=",".join(variants),
        )


# --- dumps -----------------------------------------------------------------------


@dataclass
class DumpPlan:
    """One dump file to write."""

    number: int
    name: str
    fmt: str
    capture: date
    n_records: int
    damage: list[str] = field(default_factory=list)


def _owner_header(rng: Random, owner: Person, n: int) -> list[str]:
    h = rng.randint(3, 90)
    return [
        owner.name,
        "",
        rng.choices(_CAT_NAMES, cum_weights=_CAT_CUM)[0],
        f"h-index{h}",
        f"{n + rng.randint(0, n)}papers",
        f"{h * rng.randint(8, 60):,}citations".replace(",", ""),
        f"Novelty{rng.randint(20, 80)}%",
        f"AI Score{rng.randint(20, 90)}",
        "",
        f"{n} Papers",
        "",
    ]


class Generator:
    """Writes dumps one at a time until the requested size is reached."""

    def __init__(self, config: GenConfig) -> None:
        self.c = config
        self.u = Universe(config.seed, config.hard_name_share, config.same_name_coauthors)
        self.render = Renderer(self.u)
        self.pending: deque[int] = deque()  # look-alike partners not printed yet
        self.bytes_written = 0

    def _plan(self, number: int) -> DumpPlan:
        c = self.c
        rng = Random((((c.seed << 8) | _DUMP) << 48 | number) << 8)
        drawn = rng.choices(FORMATS, weights=c.format_weights)[0]
        fmt = c.only_format or drawn
        progress = min(1.0, self.bytes_written / max(1, c.size_bytes))
        span = (c.capture_end - c.capture_start).days
        capture = c.capture_start + timedelta(days=round(progress * span))
        n = int(c.median_records * 2.718 ** rng.gauss(0, 0.6))
        n = max(3, min(n, c.median_records * 8))
        damage = [
            kind
            for kind, share in (
                ("cut_off", c.cut_off_share),
                ("stray", c.stray_share),
                ("cp1252", c.cp1252_share),
                ("crlf", c.crlf_share),
            )
            if rng.random() < share
        ]
        name = f"{c.prefix}{number:06d}_{rng.getrandbits(64):016x}.txt"
        return DumpPlan(number, name, fmt, capture, n, damage)

    def _pick_papers(self, rng: Random, plan: DumpPlan, owner: int) -> Iterator[int]:
        """Paper indexes for one dump: repeats of earlier papers, look-alikes, new ones."""
        c = self.c
        seen: set[int] = set()
        emitted = 0
        while emitted < plan.n_records:
            if len(self.u) > 20 and rng.random() < c.repeat_share:
                i = rng.randrange(len(self.u))
                if self.u.paper(i).published > plan.capture or i in seen:
                    continue
            elif self.pending and rng.random() < 0.6:
                i = self.pending.popleft()
                if i in seen:
                    continue
            else:
                i = self.u.new_paper(plan.capture, owner)
                if rng.random() < c.hard_negative_share:
                    kind = rng.choice(HARD_KINDS)
                    j = self.u.new_paper(plan.capture, -1, partner=i, kind=kind)
                    # Half the pairs sit in one dump (as in sample 001), half apart.
                    if rng.random() < 0.5:
                        self.pending.appendleft(j)
                    else:
                        self.pending.append(j)
            seen.add(i)
            emitted += 1
            yield i

    def dump(self, plan: DumpPlan) -> tuple[bytes, list[dict]]:
        """Render one dump: its bytes and one truth row per record."""
        rng = Random((((self.c.seed << 8) | _DUMP) << 48 | plan.number) << 8 | 1)
        fmt = plan.fmt
        owner_k = int(len(self.u) * 1.6 * rng.random() ** 2) if fmt != "daily_papers" else -1
        lines: list[str] = []
        records: list[Rendered] = []
        starts: list[int] = []
        if fmt == "daily_papers":
            listing = plan.capture - timedelta(days=rng.randint(0, 3))
            for h in DAILY_HEADER:
                lines += [h, ""]
            lines += [f"{MONTHS[listing.month - 1]} {listing.day}", ""]
        elif fmt == "scholar_profile":
            lines.append(self.u.person(owner_k).scholar)
        stray = "stray" in plan.damage
        for i in self._pick_papers(rng, plan, owner_k):
            p = self.u.paper(i)
            if fmt == "profile_page":
                r = self.render.profile(rng, p, plan.capture, glued=False)
            elif fmt == "collapsed_profile_page":
                r = self.render.profile(rng, p, plan.capture, glued=True)
            elif fmt == "daily_papers":
                r = self.render.daily(rng, p, plan.capture)
            else:
                r = self.render.scholar(rng, p, piped=rng.random() < 0.3)
            if records and stray and rng.random() < 0.08:
                lines.append(rng.choice(V.STRAY_FRAGMENTS))
                if fmt in ("profile_page", "daily_papers"):
                    lines.append("")
            starts.append(len(lines) + 1)
            records.append(r)
            lines += r.lines
            if fmt in ("profile_page", "daily_papers"):
                lines.append("")
        if fmt == "profile_page":
            lines[0:0] = _owner_header(rng, self.u.person(owner_k), len(records))
            starts = [s + 11 for s in starts]
        while lines and lines[-1] == "":
            lines.pop()
        damaged: dict[int, str] = {}
        if "cut_off" in plan.damage and records:
            # Cut inside the last record: somewhere in its lines, mid-line.
            last = len(records) - 1
            first = starts[last] - 1
            cut_line = rng.randrange(first, len(lines))
            keep = lines[cut_line][: rng.randrange(max(1, len(lines[cut_line])))]
            lines = [*lines[:cut_line], keep] if keep else lines[:cut_line]
            if len(lines) <= first:
                records.pop()
                starts.pop()
            else:
                damaged[last] = "cut_off"
        text = "\n".join(lines)
        if "cp1252" in plan.damage:
            data = text.encode("cp1252", errors="replace")
            for k, r in enumerate(records):
                body = "\n".join(r.lines)
                if body.encode("cp1252", errors="replace").decode("cp1252") != body:
                    damaged.setdefault(k, "encoding_loss")
            if "crlf" in plan.damage:
                data = data.replace(b"\n", b"\r\n")
        else:
            if "crlf" in plan.damage:
                text = text.replace("\n", "\r\n")
            data = text.encode("utf-8")
        truth = []
        for k, (r, start) in enumerate(zip(records, starts, strict=True)):
            p = r.paper
            truth.append(
                {
                    "source_file": plan.name,
                    "record_index": k,
                    "line_start": start,
                    "format": fmt,
                    "paper_id": self.paper_id(p.index),
                    "damage": damaged.get(k),
                    "variant": r.variant or None,
                    "title": p.title,
                    "authors": [x.name for x in self.render.names(p)],
                    "author_ids": [self.person_id(a) for a in p.authors],
                    "published_date": p.published,
                    "printed_title": r.printed_title,
                    "printed_authors": r.printed_authors,
                    "authors_truncated": r.authors_truncated,
                    "date_text": r.date_text,
                    "printed_date": p.published if r.date_text else None,
                    "category": r.category,
                    "has_code": r.has_code,
                    "upvotes": r.upvotes,
                    "author_count": r.author_count,
                }
            )
        return data, truth

    def paper_id(self, i: int) -> str:
        return f"{self.c.prefix}P{i:08d}"

    def person_id(self, k: int) -> str:
        return f"{self.c.prefix}R{k:08d}"

    def paper_rows(self, start: int, stop: int) -> list[dict]:
        rows = []
        for i in range(start, stop):
            p = self.u.paper(i)
            rows.append(
                {
                    "paper_id": self.paper_id(i),
                    "title": p.title,
                    "latex_title": p.latex_title,
                    "authors": [x.name for x in self.render.names(p)],
                    "author_ids": [self.person_id(a) for a in p.authors],
                    "published_date": p.published,
                    "category": p.category,
                    "has_code": p.has_code,
                    "hard_negative_of": self.paper_id(p.partner) if p.partner >= 0 else None,
                    "hard_negative_kind": p.kind,
                }
            )
        return rows


# --- writing ----------------------------------------------------------------------

TRUTH_RECORDS = pl.Schema(
    {
        "source_file": pl.String,
        "record_index": pl.Int64,
        "line_start": pl.Int64,
        "format": pl.String,
        "paper_id": pl.String,
        "damage": pl.String,
        "variant": pl.String,
        "title": pl.String,
        "authors": pl.List(pl.String),
        "author_ids": pl.List(pl.String),
        "published_date": pl.Date,
        "printed_title": pl.String,
        "printed_authors": pl.List(pl.String),
        "authors_truncated": pl.Boolean,
        "date_text": pl.String,
        "printed_date": pl.Date,
        "category": pl.String,
        "has_code": pl.Boolean,
        "upvotes": pl.Int64,
        "author_count": pl.Int64,
    }
)
TRUTH_PAPERS = pl.Schema(
    {
        "paper_id": pl.String,
        "title": pl.String,
        "latex_title": pl.String,
        "authors": pl.List(pl.String),
        "author_ids": pl.List(pl.String),
        "published_date": pl.Date,
        "category": pl.String,
        "has_code": pl.Boolean,
        "hard_negative_of": pl.String,
        "hard_negative_kind": pl.String,
    }
)
TRUTH_FILES = pl.Schema(
    {
        "source_file": pl.String,
        "format": pl.String,
        "capture_date": pl.Date,
        "n_bytes": pl.Int64,
        "n_records": pl.Int64,
        "damage": pl.List(pl.String),
    }
)


class _ParquetSink:
    """Appends row batches to one Parquet file (a row group per flush)."""

    def __init__(self, path: Path, schema: pl.Schema, flush_rows: int = 50_000) -> None:
        self.path, self.schema, self.flush_rows = path, schema, flush_rows
        self.rows: list[dict] = []
        self.writer: pq.ParquetWriter | None = None

    def add(self, rows: list[dict]) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        frame = pl.DataFrame(self.rows, schema=self.schema)
        self.rows = []
        table = frame.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        if frame.height:
            self.writer.write_table(table)

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


def generate(config: GenConfig, out: Path, *, quiet: bool = True) -> dict:
    """Write a corpus into ``out`` (raw/, truth/, corpus.json); return its counts."""
    raw, truth_dir = out / "raw", out / "truth"
    raw.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    gen = Generator(config)
    records = _ParquetSink(truth_dir / "records.parquet", TRUTH_RECORDS)
    papers = _ParquetSink(truth_dir / "papers.parquet", TRUTH_PAPERS)
    files = _ParquetSink(truth_dir / "files.parquet", TRUTH_FILES)
    manifest = [
        "# Capture dates of the generated dumps (benchmarks.generate).",
        "",
        "[capture_dates]",
    ]
    counts = {"files": 0, "records": 0, "damaged_records": 0, "bytes": 0}
    number = papers_written = 0
    while gen.bytes_written < config.size_bytes and number != config.max_files:
        plan = gen._plan(number)
        # Near the end, shrink the dump so the corpus lands near the requested size.
        per_record = (
            gen.bytes_written / counts["records"] if counts["records"] else BYTES_PER_RECORD_GUESS
        )
        left = config.size_bytes - gen.bytes_written
        plan.n_records = max(1, min(plan.n_records, round(left / per_record)))
        data, rows = gen.dump(plan)
        (raw / plan.name).write_bytes(data)
        gen.bytes_written += len(data)
        records.add(rows)
        files.add(
            [
                {
                    "source_file": plan.name,
                    "format": plan.fmt,
                    "capture_date": plan.capture,
                    "n_bytes": len(data),
                    "n_records": len(rows),
                    "damage": plan.damage,
                }
            ]
        )
        manifest.append(f'"{plan.name}" = {plan.capture.isoformat()}')
        counts["files"] += 1
        counts["records"] += len(rows)
        counts["damaged_records"] += sum(r["damage"] is not None for r in rows)
        number += 1
        # Papers are final once their dump is written (a look-alike pair is made together).
        papers.add(gen.paper_rows(papers_written, len(gen.u)))
        papers_written = len(gen.u)
        if not quiet and number % 200 == 0:
            print(f"  {gen.bytes_written / 1e6:8.1f} MB, {number} files", file=sys.stderr)
    for sink in (records, papers, files):
        sink.close()
    (raw / "manifest.toml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    counts.update(
        bytes=gen.bytes_written,
        papers=len(gen.u),
        persons_max=max(gen.u.n_persons) if len(gen.u) else 0,
    )
    settings = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(config).items()}
    summary = {"generator": "benchmarks.generate", "config": settings, "counts": counts}
    (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def read_manifest(raw: Path) -> dict[str, date]:
    """The capture dates a corpus's manifest.toml holds."""
    return tomllib.loads((raw / "manifest.toml").read_text(encoding="utf-8"))["capture_dates"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", default="10MB", help="total dump size: 10MB, 100MB, 1GB")
    parser.add_argument("--out", required=True, type=Path, help="empty or new folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=FORMATS, help="write only this dump format")
    parser.add_argument("--prefix", default="", help="prefix of file names and paper ids")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    config = GenConfig(
        size_bytes=parse_size(args.size),
        seed=args.seed,
        only_format=args.format,
        prefix=args.prefix,
    )
    summary = generate(config, args.out, quiet=False)
    c = summary["counts"]
    print(
        f"{args.out}: {c['files']} dumps, {c['bytes'] / 1e6:.1f} MB, {c['records']} records, "
        f"{c['papers']} papers, {c['damaged_records']} damaged records"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
