"""A corpus of real person names for the name-grammar tests.

The names come from Faker's person providers: the common given and family
names of 80-odd locales (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari,
Bengali, Tamil, Sinhala, Thai, Georgian, Armenian, Chinese, Japanese, Korean
scripts), drawn with a fixed seed. The printed variants real author lists
also carry (initials with and without dots, capitals, particles, elided and
hyphenated articles, suffixes) are made from those names with nameparser's
particle list. Faker's lists hold a few malformed entries (a lower-case
family name, a comma inside a name); ``malformed`` says which and why, and
the tests leave them out by that rule, never by name.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import re
import unicodedata
import warnings
from functools import cache

import faker
import faker.providers.person
from nameparser.config import particles

from pipelines.extract.names import CAMEL_PREFIXES, PARTICLES

NAMES_PER_LOCALE = 25
SEED = 10

# nameparser's particles in Latin script, usable between words ("van der").
_LATIN_PARTICLES = sorted(
    p for p in particles.PARTICLES if re.fullmatch(r"[a-z]+", p) and p in PARTICLES
)


def _locales() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(faker.providers.person.__path__)]
    out = []
    for name in names:
        module = importlib.import_module(f"faker.providers.person.{name}")
        provider = getattr(module, "Provider", None)
        if provider is not None and hasattr(provider, "first_names"):
            out.append(name)
    return out


def malformed(name: str) -> str | None:
    """Why a corpus entry is no name as a list prints one (Faker data errors), or None."""
    if re.search(r"[,()]|\s{2}", name):
        return "punctuation or double space inside the name"
    if unicodedata.category(name[0]).startswith("M"):
        return "starts with a combining mark"
    for word in name.split():
        if word in PARTICLES:
            continue
        if re.match(r"[a-zà-ÿа-яёіїєґšžčćđ]", word):
            return f"lower-case word {word!r}"
        if re.match(r"[A-Z]{2}[a-z]", word):
            return f"misprinted capitals in {word!r}"
    return None


@cache
def faker_names() -> tuple[tuple[str, str, str], ...]:
    """(locale, given, family) for every locale, fixed seed, distinct."""
    rows: list[tuple[str, str, str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated locales still hold real names
        for locale in _locales():
            fake = faker.Faker(locale)
            fake.seed_instance(SEED)
            for _ in range(NAMES_PER_LOCALE):
                rows.append((locale, fake.first_name(), fake.last_name()))
    return tuple(dict.fromkeys(rows))


@cache
def printed_names() -> tuple[str, ...]:
    """Faker's names as "Given Family", well-formed ones only."""
    names = (f"{given} {family}" for _, given, family in faker_names())
    return tuple(n for n in dict.fromkeys(names) if malformed(n) is None)


def _variant(given: str, family: str, rng: random.Random) -> str:
    shape = rng.randrange(10)
    if shape == 0:
        return f"{given[0]}. {family}"  # "J. Smith"
    if shape == 1:
        return f"{given[0]} {family}"  # "J Smith"
    if shape == 2:
        return f"{given[0]}{rng.choice('ABCDEHJKLMNPRSTW')} {family}"  # "JP Smith"
    if shape == 3:
        return f"{family.upper()} {given}"  # "SMITH John"
    if shape == 4:
        return f"{given} {family.upper()}"  # "John SMITH"
    if shape == 5:
        return f"{given} {family} {rng.choice(['Jr.', 'Sr.', 'II', 'III'])}"
    if shape == 6:
        return f"{given} {rng.choice(_LATIN_PARTICLES)} {family}"  # "Ana van Berg"
    if shape == 7:
        return f"{given} {rng.choice(['d', 'dell', 'l'])}'{family}"  # "Jean d'Alembert"
    if shape == 8:
        return f"{given} {rng.choice(['al', 'el', 'ash'])}-{family}"  # "Omar al-Farsi"
    return f"{given}-{rng.choice(['Luc', 'Pierre', 'Marie', 'jun'])} {family}"  # "Jean-Luc X"


@cache
def name_variants() -> tuple[str, ...]:
    """Latin-script corpus names printed in the other shapes author lists use."""
    rng = random.Random(SEED)
    latin = [
        (given, family)
        for _, given, family in faker_names()
        if re.fullmatch(r"[A-ZÀ-Þ][a-zß-ÿ]+", given) and re.fullmatch(r"[A-ZÀ-Þ][a-zß-ÿ]+", family)
    ]
    return tuple(dict.fromkeys(_variant(g, f, rng) for g, f in latin))


def inner_capital(name: str) -> bool:
    """A word with a capital right after a lower-case letter, past the known prefixes
    ("SimphiweyiNkosi", but not "McKenzie" or "LeCun")."""
    prefixes = "|".join(sorted(CAMEL_PREFIXES, key=len, reverse=True))
    return any(
        re.search(r"[a-zß-ÿ][A-ZÀ-Þ]", re.sub(rf"^(?:{prefixes})(?=[A-ZÀ-Þ])", "", word))
        for word in name.split()
    )


def starts_with_capitals(name: str) -> bool:
    """A name whose first word is a run of capitals or a lone capital ("JP Smith", "SMITH Jo")."""
    return re.match(r"[A-ZÀ-Þ](?:[A-ZÀ-Þ]|\s)", name) is not None
