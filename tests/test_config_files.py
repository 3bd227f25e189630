"""The configuration files of a raw folder are validated whole, before a run
starts: every problem is one line naming the file, the key and what was
expected; topic patterns are compiled by the engine that runs them; entries
naming what no dump has are warnings that fail --strict."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import RAW
from typer.testing import CliRunner

from pipelines.cli import EXIT_FAILED, EXIT_STRICT, app
from pipelines.configfiles import check_raw_config
from pipelines.errors import PaperlakeError
from pipelines.refresh import combine, extract_batch, link_tables
from pipelines.sources import resolve_dumps
from pipelines.taxonomy import load_taxonomies
from pipelines.transform.topics import category_table, paper_topics, topic_table

runner = CliRunner()
DUMP = RAW / "004_3fe40d5a5f467540.txt"

# (file, content, what the one line about it must say)
BAD_FILES = [
    ("manifest.toml", "capture_dates = 5\n", "capture_dates: expected a table, got 5"),
    (
        "manifest.toml",
        '[capture_dates]\n"a.txt" = "2026-11-22"\n',
        'capture_dates."a.txt": expected a TOML date like 2026-11-22 (no quotes)',
    ),
    ("manifest.toml", "[capture_date]\n", "capture_date: unknown key; expected one of: capture"),
    ("overrides.toml", "merge = 5\n", "merge: expected a list, got 5"),
    ("overrides.toml", "[[merge]]\nrecords = 5\n", "merge[1].records: expected a list, got 5"),
    (
        "overrides.toml",
        '[[apart]]\nrecords = ["a#1"]\nrecord = ["b#2"]\n',
        "apart[1].record: unknown key; expected one of: records, titles",
    ),
    ("overrides.toml", "[[merge]]\n", "merge[1]: names no records or titles"),
    ("aliases.toml", '[[same]]\nnames = ["One Name"]\n', "same[1].names: expected at least 2"),
    (
        "aliases.toml",
        '[[split]]\nname = "Wei Wang"\nlabel = 3\nrecords = ["a#1"]\n',
        "split[1] 'Wei Wang'.label: expected a string, got 3",
    ),
    # A string where a list belongs used to be split into one-letter patterns.
    (
        "topics.toml",
        '[[topic]]\nname = "gpus"\npatterns = "gpu"\n',
        "topic[1] 'gpus'.patterns: expected a list, got 'gpu'",
    ),
    (
        "topics.toml",
        '[[topic]]\nname = "gpus"\npatterns = ["gpu"]\ncolour = "red"\n',
        "topic[1] 'gpus'.colour: unknown key",
    ),
    ("topics.toml", "topic = []\n", "topic: expected at least 1 entries"),
    ("arxiv_categories.csv", "code,name\nLG,x\n", "missing columns category_id"),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES)
def test_a_bad_config_file_is_one_line_naming_file_and_key(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(PaperlakeError) as caught:
        check_raw_config(tmp_path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{tmp_path / name}: "), lines
    assert expected in lines[0]


def test_every_bad_file_is_reported_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "manifest.toml").write_text("capture_dates = 5\n")
    (tmp_path / "overrides.toml").write_text("merge = 5\napart = 6\n")
    (tmp_path / "aliases.toml").write_text("[same]\n")
    with pytest.raises(PaperlakeError) as caught:
        check_raw_config(tmp_path)
    lines = str(caught.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        str(tmp_path / "manifest.toml"),
        str(tmp_path / "overrides.toml"),
        str(tmp_path / "overrides.toml"),
        str(tmp_path / "aliases.toml"),
    ]


def test_the_refresh_command_prints_each_problem_on_its_own_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_bytes(DUMP.read_bytes())
    (raw / "overrides.toml").write_text("merge = 5\n[[apart]]\nrecords = 6\n")
    result = runner.invoke(app, ["refresh", "--raw", str(raw), "--warehouse", str(tmp_path / "w")])
    assert result.exit_code == EXIT_FAILED
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, result.output
    assert all("overrides.toml" in line for line in errors)
    assert "Traceback" not in result.output and not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        # Valid alone; wrapped in the topic's combined regex, its `#` comments out
        # the closing parenthesis. It used to pass the check and fail at link time.
        (r"(?x)gpu # graphics processors", "unclosed group"),
        (r"(?<=fast )inference", "look-around"),
        (r"(unclosed", "unclosed group"),
    ],
)
def test_topic_patterns_are_compiled_as_the_matcher_runs_them(
    tmp_path: Path, pattern: str, why: str
) -> None:
    (tmp_path / "topics.toml").write_text(
        f"[[topic]]\nname = 'gpus'\npatterns = ['kernel', '''{pattern}''']\n", encoding="utf-8"
    )
    with pytest.raises(PaperlakeError) as caught:
        check_raw_config(tmp_path)
    message = str(caught.value)
    assert f"topic[1] 'gpus': pattern 2 {pattern!r}" in message and why in message


def test_what_passes_validation_runs_in_the_topic_matcher(tmp_path: Path) -> None:
    # Flags, classes and alternation that Rust's regex accepts inside the wrapper.
    patterns = [r"(?-i:GPU)s?", r"\bkv[- ]?cache", r"(?s)a.b", r"x{2,3}|y+"]
    body = ", ".join(f"'''{p}'''" for p in patterns)
    (tmp_path / "topics.toml").write_text(f"[[topic]]\nname = 't'\npatterns = [{body}]\n")
    check_raw_config(tmp_path)
    taxonomies = load_taxonomies(tmp_path)
    papers = pl.DataFrame(
        {
            "paper_id": ["p1", "p2"],
            "title": ["Many GPUs", "KV cache"],
            "abstract": [None, None],
            "category": [None, None],
        },
        schema=dict.fromkeys(["paper_id", "title", "abstract", "category"], pl.String),
    )
    categories = category_table(papers["category"], taxonomies.categories)
    try:
        found = paper_topics(papers, categories, topic_table(taxonomies.topics))
    except pl.exceptions.PolarsError as err:  # pragma: no cover - the point of the test
        pytest.fail(f"validated topics failed in the matcher: {err}")
    assert set(found["paper_id"]) == {"p1", "p2"}


def test_merge_and_apart_on_the_same_pair_names_both_entries(tmp_path: Path) -> None:
    (tmp_path / "overrides.toml").write_text(
        '[[merge]]\nrecords = ["a.txt#1", "b.txt#2"]\n\n'
        '[[merge]]\nrecords = ["b.txt#2", "c.txt#3"]\n\n'
        '[[apart]]\ntitles = ["Unrelated"]\n\n'
        '[[apart]]\nrecords = ["c.txt#3", "a.txt#1"]\n\n'
        '[[merge]]\ntitles = ["Scaling Laws: Part I"]\n\n'
        '[[apart]]\ntitles = ["scaling laws part i", "Something Else"]\n'
    )
    with pytest.raises(PaperlakeError) as caught:
        check_raw_config(tmp_path)
    lines = str(caught.value).splitlines()
    # Joined through b.txt#2, then kept apart: both merge entries and the apart one named.
    assert (
        "merge[1] and merge[2] and apart[2] both name record 'c.txt#3' and record 'a.txt#1'"
        in (lines[0])
    )
    # A one-title merge holds every record of that title: two of them cannot stay apart.
    assert len(lines) == 1, lines


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory) -> pl.DataFrame:
    raw = tmp_path_factory.mktemp("raw")
    dumps, _ = resolve_dumps(RAW, None)
    tables, _ = link_tables(combine(extract_batch(dumps)), raw)
    return tables["records"]


def test_entries_naming_nothing_are_found(sample_records: pl.DataFrame, tmp_path: Path) -> None:
    from pipelines.curation import unmatched_references

    record = sample_records["record_id"][0]
    title = sample_records["title"][1]
    printed = sample_records.filter(pl.col("authors").list.len() > 0).row(0, named=True)
    (tmp_path / "overrides.toml").write_text(
        f'[[merge]]\nrecords = ["{record}", "nope.txt#3"]\n\n'
        f'[[apart]]\ntitles = ["{title.upper()}", "A Title No Dump Has"]\n'
    )
    (tmp_path / "aliases.toml").write_text(
        f'[[same]]\nnames = ["{printed["authors"][0]}", "Nobody Printed"]\n\n'
        f'[[split]]\nname = "Nobody Printed"\nlabel = "x"\nrecords = ["{printed["record_id"]}"]\n'
    )
    warnings = unmatched_references(tmp_path, sample_records)
    assert warnings == [
        f"{tmp_path / 'overrides.toml'}: merge[1].records[2]: no dump has 'nope.txt#3'",
        f"{tmp_path / 'overrides.toml'}: apart[1].titles[2]: no record is titled "
        "'A Title No Dump Has'",
        f"{tmp_path / 'aliases.toml'}: same[1].names[2]: no record prints 'Nobody Printed'",
        f"{tmp_path / 'aliases.toml'}: split[1] 'Nobody Printed'.records[1]: "
        f"{printed['record_id']!r} does not print 'Nobody Printed'",
    ]


def test_unmatched_entries_warn_in_the_report_and_fail_strict(
    prefect_harness, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_bytes(DUMP.read_bytes())
    (raw / "overrides.toml").write_text('[[apart]]\nrecords = ["a.txt#0", "gone.txt#1"]\n')
    args = ["refresh", "--raw", str(raw), "--as-of", "2026-11-22"]
    result = runner.invoke(app, [*args, "--warehouse", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "no dump has 'gone.txt#1'" in result.output
    strict = runner.invoke(app, [*args, "--warehouse", str(tmp_path / "w2"), "--strict"])
    assert strict.exit_code == EXIT_STRICT, strict.output
    assert "1 configuration entries matched nothing" in strict.output
    # Without the stray entry, the same input passes --strict.
    (raw / "overrides.toml").write_text('[[apart]]\nrecords = ["a.txt#0", "a.txt#1"]\n')
    clean = runner.invoke(app, [*args, "--warehouse", str(tmp_path / "w3"), "--strict"])
    assert clean.exit_code == 0, clean.output


def test_a_review_answer_that_would_conflict_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    from pipelines.look.review import Answer, add_answers

    text = (
        '[[merge]]\nrecords = ["a.txt#1", "b.txt#2"]\n\n'
        '[[merge]]\nrecords = ["b.txt#2", "c.txt#3"]\n'
    )
    (tmp_path / "overrides.toml").write_text(text)
    apart = Answer("0123456789", "apart", "a.txt#1", "c.txt#3", "A", "C")
    with pytest.raises(PaperlakeError, match=r"merge\[1\] and merge\[2\] and apart\[1\]"):
        add_answers(tmp_path, [apart])
    assert (tmp_path / "overrides.toml").read_text() == text
    # An answer that conflicts with nothing is written, and reads back.
    add_answers(tmp_path, [Answer("9876543210", "apart", "a.txt#1", "d.txt#4", "A", "D")])
    check_raw_config(tmp_path)
    assert 'records = ["a.txt#1", "d.txt#4"]' in (tmp_path / "overrides.toml").read_text()
