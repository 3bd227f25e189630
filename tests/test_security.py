"""No SQL from string formatting: paths and names with quotes, semicolons,
comment markers, spaces, newlines and non-ASCII letters are data, never SQL."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import RAW, ROOT, read_table
from typer.testing import CliRunner

from pipelines.cli import EXIT_USAGE, app
from pipelines.errors import PaperlakeError
from pipelines.sqlquote import identifier, literal, qualified

runner = CliRunner()
HOSTILE = ["O'Brien", 'say "hi"', "a;b", "x -- y", "two words", "line\nbreak", "Zürich 東京"]
HELPERS = {"identifier", "qualified", "literal"}


def test_quoting_helpers_round_trip_hostile_text() -> None:
    con = duckdb.connect()
    for i, text in enumerate([*HOSTILE, "'); drop table t; --", '"; drop table t; --']):
        con.execute(f"create table {identifier(text)} (a integer)")
        con.execute(f"comment on table {identifier(text)} is {literal(text)}")
        col = f"c{i}"
        con.execute(f"alter table {identifier(text)} add column {identifier(col)} integer")
        con.execute(f"comment on column {qualified(text, col)} is {literal(text)}")
        got = con.execute(
            "select comment from duckdb_tables() where table_name = ?", [text]
        ).fetchone()
        assert got == (text,)
    assert len(con.sql("select * from duckdb_tables()").fetchall()) == len(HOSTILE) + 2
    for bad in ("nul\x00byte", 5):
        with pytest.raises(PaperlakeError):
            identifier(bad)
        with pytest.raises(PaperlakeError):
            literal(bad)


def _sql_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "sql", "query")
            and node.args
        ):
            yield node.args[0]


def _safe(expr: ast.expr, safe_names: set[str]) -> bool:
    """Text built only from the quoting helpers (or constants)."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        return expr.func.id in HELPERS
    if isinstance(expr, ast.Name):
        return expr.id in safe_names
    if isinstance(expr, ast.JoinedStr):
        return all(
            _safe(v.value, safe_names) for v in expr.values if isinstance(v, ast.FormattedValue)
        )
    # ", ".join(<helper calls>) and " and ".join(f"...{helper}...")
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "join"
        and isinstance(expr.func.value, ast.Constant)
        and isinstance(expr.args[0], ast.GeneratorExp | ast.ListComp)
    ):
        return _safe(expr.args[0].elt, safe_names)
    return False


def test_sql_text_is_only_built_from_the_quoting_helpers() -> None:
    """Every interpolation into SQL text in pipelines/ goes through sqlquote."""
    checked = 0
    for path in sorted((ROOT / "pipelines").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            safe_names: set[str] = set()
            for _ in range(3):  # names built from names built from helpers
                for node in ast.walk(func):
                    if isinstance(node, ast.Assign):
                        pairs = []
                        for target in node.targets:
                            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                                pairs += zip(target.elts, node.value.elts, strict=True)
                            else:
                                pairs.append((target, node.value))
                        for target, value in pairs:
                            if isinstance(target, ast.Name) and _safe(value, safe_names):
                                safe_names.add(target.id)
            for arg in _sql_calls(func):
                if isinstance(arg, ast.JoinedStr | ast.BinOp):
                    checked += 1
                    assert isinstance(arg, ast.JoinedStr) and _safe(arg, safe_names), (
                        f"{path.relative_to(ROOT)}:{arg.lineno}: SQL text built from a "
                        "value not quoted by pipelines.sqlquote: bind it as a parameter"
                    )
    assert checked > 5  # the check did look at the publish code


def test_hostile_paths_refresh_and_run_nothing_else(
    prefect_harness, tmp_path: Path, monkeypatch
) -> None:
    pwned = tmp_path / "pwned.csv"
    # What 0.1 pasted into read_parquet('...') and attach '...' would have run.
    injection = f"x'); copy (select 42) to '{pwned}' (format csv); --"
    odd = "".join(HOSTILE)
    cwd = tmp_path / f"cwd {odd}"
    raw = cwd / f"raw {odd}" / injection
    shutil.copytree(RAW, raw)
    # A dump name with the same characters: a value in every table, never SQL.
    shutil.move(raw / "004_3fe40d5a5f467540.txt", raw / f"{odd}'); --.txt")
    # No Delta Lake reader opens a table under a path with a newline (below),
    # so the warehouse has every other character, and the raw folder all.
    warehouse_rel = Path(os.path.relpath(tmp_path / f"wh {odd.replace(chr(10), '')}", cwd))
    warehouse_rel = warehouse_rel / injection
    monkeypatch.chdir(cwd)
    result = runner.invoke(
        app,
        ["refresh", "--raw", str(raw.relative_to(cwd)), "--warehouse", str(warehouse_rel)],
    )
    assert result.exit_code == 0, result.output
    warehouse = cwd / warehouse_rel
    assert not pwned.exists() and not list(tmp_path.rglob("pwned.csv"))
    sources = read_table(warehouse, "sources")
    assert f"{odd}'); --.txt" in sources["source_file"].to_list()
    os.chdir(tmp_path)  # the DuckDB file opens from anywhere
    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from sources").fetchone() == (5,)
    # Status, rollback and a second (incremental) refresh take the same paths.
    (raw / "001_f44773a72a01ad56.txt").unlink()
    monkeypatch.chdir(cwd)
    again = runner.invoke(
        app,
        ["refresh", "--raw", str(raw.relative_to(cwd)), "--warehouse", str(warehouse_rel)],
    )
    assert again.exit_code == 0, again.output
    assert runner.invoke(app, ["status", "--warehouse", str(warehouse_rel)]).exit_code == 0
    back = runner.invoke(app, ["rollback", "--warehouse", str(warehouse_rel)])
    assert back.exit_code == 0, back.output
    assert read_table(warehouse, "sources").height == 5
    assert not list(tmp_path.rglob("pwned.csv"))


def test_a_warehouse_no_delta_reader_could_open_is_refused(tmp_path: Path) -> None:
    for name in ("line\nbreak", "p%20q"):
        warehouse = tmp_path / name / "wh"
        result = runner.invoke(app, ["refresh", "--raw", str(RAW), "--warehouse", str(warehouse)])
        assert result.exit_code == EXIT_USAGE, result.output
        assert "Delta Lake readers cannot open" in result.output
        assert "Traceback" not in result.output and len(result.output.splitlines()) <= 2
        assert not (tmp_path / name).exists()
