"""Scale-out: `paperlake refresh --task-runner dask` on real Dask clusters.

A local cluster of two worker processes started by the refresh, and a
`dask scheduler` with two `dask worker` processes started here and reached
through --dask-address: both must publish the same warehouse as the default
(threads) runner, and the run report must name the worker processes that
parsed the dumps.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import PAPERLAKE, RAW, table_bytes
from typer.testing import CliRunner

from pipelines.cli import EXIT_FAILED, EXIT_USAGE, app

runner = CliRunner()
DASK = str(Path(sys.executable).with_name("dask"))
# "extract: 4 batches on dask local cluster, 2 processes (vm:123, vm:456)"; the
# report wraps it over lines.
WHERE = re.compile(r"extract: (\d+) batches on (.+?), (\d+) process(?:es)? \((.+?)\)")


def _args(warehouse: Path, *extra: str) -> list[str]:
    return [
        "refresh",
        *("--raw", str(RAW), "--warehouse", str(warehouse), "--as-of", "2026-11-22"),
        *extra,
    ]


def _where(output: str) -> tuple[int, str, list[str]]:
    """Batches, runner and host:pid list from a run report."""
    match = WHERE.search(" ".join(output.split()))  # the report wraps the line
    assert match, output
    batches, runner_label, n, listed = match.groups()
    processes = listed.split(", ")
    assert len(processes) == int(n)
    return int(batches), runner_label, processes


def _tables(warehouse: Path) -> dict[str, bytes]:
    return table_bytes(warehouse)


def _rounded(row: tuple) -> tuple:
    # DuckDB sums doubles in parallel, so a sum (coauthor_pairs.fractional_weight)
    # can differ in its last bit between two queries of the same file.
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


def _views(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True)
    try:
        names = [
            row[0]
            for row in con.sql(
                "select view_name from duckdb_views() "
                "where not internal and schema_name = 'main' order by view_name"
            ).fetchall()
        ]
        return {
            name: sorted(
                (_rounded(r) for r in con.sql(f"select * from {name}").fetchall()), key=repr
            )
            for name in names
        }
    finally:
        con.close()


def _assert_same_warehouse(a: Path, b: Path) -> None:
    tables_a, tables_b = _tables(a), _tables(b)
    assert len(tables_a) >= 15
    assert tables_a.keys() == tables_b.keys()
    for name in tables_a:
        assert tables_a[name] == tables_b[name], name
    views_a = _views(a)
    assert len(views_a) >= 20
    assert views_a == _views(b)


@pytest.fixture(scope="module")
def threads_warehouse(tmp_path_factory, prefect_harness) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("threads")
    result = runner.invoke(app, _args(out))
    assert result.exit_code == 0, result.output
    return out, result.output


def test_default_runner_parses_in_this_process(threads_warehouse) -> None:
    _, output = threads_warehouse
    _, label, processes = _where(output)
    assert label == "threads"
    assert processes == [f"{socket.gethostname()}:{os.getpid()}"]


def test_local_cluster_gives_the_same_warehouse(threads_warehouse, tmp_path: Path) -> None:
    out = tmp_path / "dask"
    result = runner.invoke(app, _args(out, "--task-runner", "dask", "--dask-workers", "2"))
    assert result.exit_code == 0, result.output
    batches, label, processes = _where(result.output)
    assert label == "dask local cluster"
    # Two worker processes, neither of them this one, parsed the batches.
    assert len(processes) == 2
    assert f"{socket.gethostname()}:{os.getpid()}" not in processes
    assert batches >= 2
    _assert_same_warehouse(threads_warehouse[0], out)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes (no nanny: the
    worker's pid is the one we start); yields the address and the workers' pids."""
    from pipelines.dask_scheduler import DaskProblem, check_dask_scheduler

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {**os.environ, "DASK_LOGGING__DISTRIBUTED": "warning"}
    commands = [
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        *[[DASK, "worker", address, "--no-nanny", "--nthreads", "1", "--no-dashboard"]] * 2,
    ]
    procs = []
    try:
        for i, command in enumerate(commands):
            with open(logs / f"{i}.log", "wb") as log:
                procs.append(
                    subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
                )
        deadline = time.monotonic() + 120
        while True:
            try:
                if check_dask_scheduler(address, timeout=2) == 2:
                    break
            except DaskProblem:
                pass  # not up yet: poll again until the deadline below
            assert time.monotonic() < deadline, "the Dask cluster did not start"
            time.sleep(0.5)
        yield address, [p.pid for p in procs[1:]]
    finally:
        # Killed, not terminated: they hold nothing to save, and a worker asked
        # to stop gracefully spends seconds trying to reach its scheduler.
        for proc in procs:
            proc.kill()
            proc.wait()


def test_running_cluster_gives_the_same_warehouse(
    threads_warehouse, dask_cluster, subprocess_env, tmp_path: Path
) -> None:
    address, worker_pids = dask_cluster
    out = tmp_path / "dask"
    result = subprocess.run(
        [*PAPERLAKE, *_args(out, "--task-runner", "dask", "--dask-address", address)],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # No Dask or Prefect logs in the user's terminal.
    assert "distributed" not in result.stderr and "Task run" not in result.stderr
    _, label, processes = _where(result.stdout)
    assert label == f"dask {address}"
    host = socket.gethostname()
    # Extraction ran in the worker processes started above, and only there.
    assert set(processes) <= {f"{host}:{pid}" for pid in worker_pids}
    assert processes
    _assert_same_warehouse(threads_warehouse[0], out)


def test_running_cluster_needs_a_prefect_server_the_workers_reach(
    dask_cluster, subprocess_env, tmp_path: Path
) -> None:
    address, _ = dask_cluster
    env = {k: v for k, v in subprocess_env.items() if k != "PREFECT_API_URL"}
    result = subprocess.run(
        [*PAPERLAKE, *_args(tmp_path / "wh", "--task-runner", "dask", "--dask-address", address)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert "PREFECT_API_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "wh").exists()


def test_unreachable_scheduler_is_one_line_and_exit_1(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    result = runner.invoke(app, _args(tmp_path, "--task-runner", "dask", "--dask-address", address))
    assert result.exit_code == EXIT_FAILED, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], lines
    assert "Traceback" not in result.output
    assert not (tmp_path / "paperlake.duckdb").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dask-address", "tcp://127.0.0.1:8786"], "need --task-runner dask"),
        (["--dask-workers", "2"], "need --task-runner dask"),
        (["--task-runner", "spark"], "choose one of threads, dask"),
        (["--task-runner", "dask", "--dask-address", "no-port"], "missing port"),
        (
            ["--task-runner", "dask", "--dask-address", "tcp://127.0.0.1:1", "--dask-workers", "2"],
            "its own workers",
        ),
    ],
)
def test_bad_task_runner_options_are_usage_errors(extra, message, tmp_path: Path) -> None:
    result = runner.invoke(app, _args(tmp_path, *extra))
    assert result.exit_code == EXIT_USAGE, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
