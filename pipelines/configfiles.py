"""Reading the configuration files of a raw folder: TOML parsed, then validated whole.

Each file has a pydantic model (next to the code that uses it: ``sources``,
``curation``, ``taxonomy``). ``load_model`` reads a file and validates all of
it before anything uses a value, and turns every problem into one line naming
the file, the key and what was expected::

    raw/overrides.toml: merge[1].records: expected a list, got 5

so a wrong type never surfaces later as an AttributeError naming nothing.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipelines.errors import PaperlakeError
from pipelines.files import read_regular

# A TOML key that needs no quotes; others are shown quoted, as the file writes them.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Problems listed per file; a file with more is usually the wrong file.
MAX_PROBLEMS = 10

Model = TypeVar("Model", bound=BaseModel)


class ConfigModel(BaseModel):
    """A configuration file or a table in one: unknown keys are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(PaperlakeError):
    """One or more problems in one configuration file, one line each."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = [f"{path}: {p}" for p in problems]
        super().__init__("\n".join(self.problems))


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables; a file that cannot be read or parsed is a ConfigError.

    Read with ``read_regular``: a FIFO or device in its place is refused, not waited on.
    """
    try:
        return tomllib.loads(read_regular(path).decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(path, [f"not UTF-8 text ({err.reason} at byte {err.start})"]) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, [f"not valid TOML: {err}"]) from None
    except OSError as err:
        raise ConfigError(path, [f"cannot be read: {err.strerror or err}"]) from None


# What a pydantic error type means to someone editing a TOML file.
_EXPECTED = {
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "date_type": "expected a TOML date like 2026-11-22 (no quotes)",
    "date_parsing": "expected a TOML date like 2026-11-22 (no quotes)",
    "date_from_datetime_parsing": "expected a TOML date like 2026-11-22 (no quotes)",
    "date_from_datetime_inexact": "expected a date like 2026-11-22 (no time of day)",
    "missing": "missing (required)",
}


def _where(loc: tuple[Any, ...], data: Any, labels: dict[str, str]) -> str:
    """A location as an editor sees it: ``merge[1].records[2]`` (entries counted from 1).

    ``labels`` names a list's entries by one of their keys (``{"topic": "name"}``
    gives ``topic[3] 'quantization'``), so the entry can be found in the file.
    """
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            label = ""
            if isinstance(node, list) and 0 <= part < len(node):
                entry = node[part]
                key = labels.get(out.rsplit(".", 1)[-1].split("[")[0])
                if key and isinstance(entry, dict) and isinstance(entry.get(key), str):
                    label = f" {entry[key]!r}"
                node = entry
            else:
                node = None
            out += f"[{part + 1}]{label}"
        else:
            node = node.get(part) if isinstance(node, dict) else None
            key = str(part) if _BARE_KEY.fullmatch(str(part)) else json.dumps(str(part))
            out += f".{key}" if out else key
    return out or "(the whole file)"


def _problem(error: dict[str, Any], data: Any, model: type[BaseModel], labels) -> str:
    kind, loc = error["type"], tuple(error["loc"])
    where = _where(loc, data, labels)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"{where}: unknown key{hint}"
    expected = _EXPECTED.get(kind) or error["msg"].removeprefix("Value error, ")
    if kind == "too_short":
        expected = f"expected at least {error['ctx']['min_length']} entries"
    if kind == "missing":
        return f"{where}: {expected}"
    return f"{where}: {expected}, got {error.get('input')!r}"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` takes (following the model's nested fields)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate(
    model: type[Model], data: Any, path: Path, labels: dict[str, str] | None = None
) -> Model:
    """Validate the whole of ``data`` against ``model``; every problem is one line."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        problems = [_problem(e, data, model, labels or {}) for e in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            problems.append(f"and {len(errors) - MAX_PROBLEMS} more problems")
        raise ConfigError(path, problems) from None


def load_model(
    model: type[Model], path: Path, labels: dict[str, str] | None = None
) -> Model | None:
    """Read and validate a TOML configuration file; None when it does not exist."""
    if not path.exists() and not path.is_symlink():
        return None
    return validate(model, read_toml(path), path, labels)


def check_raw_config(raw_dir: Path) -> None:
    """Validate every configuration file of a raw folder; raise one ConfigError listing all.

    manifest.toml, overrides.toml, aliases.toml, and topics.toml and
    arxiv_categories.csv (the raw folder's or the shipped ones): a run checks
    them all before it starts, so no bad value is met half-way.
    """
    from pipelines.curation import load_aliases, load_overrides
    from pipelines.sources import read_manifest
    from pipelines.taxonomy import load_taxonomies

    problems: list[str] = []
    for check in (read_manifest, load_overrides, load_aliases, load_taxonomies):
        try:
            check(raw_dir)
        except ConfigError as err:
            problems += err.problems
        except PaperlakeError as err:
            problems.append(str(err))
    if problems:
        error = PaperlakeError("\n".join(problems))
        error.problems = problems  # type: ignore[attr-defined]
        raise error
