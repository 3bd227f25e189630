"""Nothing paperlake starts outlives it, and a configured Prefect server saves the
start-up: `paperlake refresh` run as a real process, paused at a stage
(PAPERLAKE_TEST_PAUSE_AT), its process tree read from /proc (psutil), then
killed with SIGKILL or let finish."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import PAPERLAKE, RAW

from benchmarks.startup import phases
from pipelines.progress import PAUSE_AT, PAUSE_FILE

PATIENCE = 240  # seconds: a temporary server can take long on a busy 2-core machine


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for proc in procs:
        try:
            alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            alive = False  # gone between the two calls: not alive
        if alive:
            out.append(proc)
    return out


@pytest.fixture
def started() -> Iterator[list[psutil.Process]]:
    """Processes a test saw; any left at its end are killed (so a failure leaks nothing)."""
    seen: list[psutil.Process] = []
    yield seen
    for proc in _alive(seen):
        proc.kill()


def _own_server_env(tmp_path: Path) -> dict[str, str]:
    """No Prefect server configured: paperlake must start its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {
        **env,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }


def _paused_refresh(
    tmp_path: Path, env: dict[str, str], stage: str, seen: list[psutil.Process]
) -> tuple[subprocess.Popen, Path]:
    raw, marker = tmp_path / "raw", tmp_path / f"paused-{stage}"
    shutil.copytree(RAW, raw)
    proc = subprocess.Popen(
        [*PAPERLAKE, "refresh", "--raw", str(raw), "--warehouse", str(tmp_path / "wh")],
        env={**env, PAUSE_AT: stage, PAUSE_FILE: str(marker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen.append(psutil.Process(proc.pid))
    deadline = time.monotonic() + PATIENCE
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"refresh exited ({proc.returncode}) before {stage}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"refresh did not reach {stage} in {PATIENCE} s")
        time.sleep(0.1)
    return proc, marker


def _descendants(proc: subprocess.Popen, seen: list[psutil.Process]) -> list[psutil.Process]:
    children = psutil.Process(proc.pid).children(recursive=True)
    seen.extend(children)
    return children


def _gone_within(procs: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while _alive(procs) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(procs)


def test_kill_9_of_a_refresh_leaves_no_process_behind(tmp_path: Path, started) -> None:
    proc, _ = _paused_refresh(tmp_path, _own_server_env(tmp_path), "link", started)
    children = _descendants(proc, started)
    # The temporary Prefect API server (uvicorn) is running under it.
    assert any("uvicorn" in " ".join(c.cmdline()) for c in children), children
    os.kill(proc.pid, signal.SIGKILL)  # the refresh only: not its group, not its children
    proc.wait()
    survivors = _gone_within(children, 20)
    assert not survivors, [" ".join(p.cmdline()) for p in survivors]


def test_a_finished_refresh_leaves_no_process_behind(tmp_path: Path, started) -> None:
    proc, marker = _paused_refresh(tmp_path, _own_server_env(tmp_path), "clean-up", started)
    children = _descendants(proc, started)
    assert children
    marker.unlink()  # let it finish
    out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 0, out + err
    assert "Published version 1" in out
    assert "Prefect: a temporary server on 127.0.0.1:" in " ".join(out.split())
    assert not _gone_within(children, 20)
    # paperlake status says which Prefect API the next refresh reports to: none here.
    status = _status(tmp_path, _own_server_env(tmp_path))
    assert "Prefect: no server configured; a refresh starts a temporary one" in status
    # What benchmarks/startup.py reads from the report: the stages and the server's wait.
    split = phases(out, wall=100.0, after=0.0)
    assert split["stages"] > 0 and split["server ready after its start"] > 0
    assert 0 <= split["server wait"] <= split["server ready after its start"]


def test_a_configured_prefect_server_is_used_and_none_is_started(
    subprocess_env, prefect_harness, tmp_path: Path, started
) -> None:
    proc, marker = _paused_refresh(tmp_path, subprocess_env, "discover", started)
    assert _descendants(proc, started) == []  # no server of its own
    marker.unlink()
    out, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 0, out + err
    assert f"Prefect: the server at {prefect_harness} (no start-up)" in " ".join(out.split())
    assert phases(out, wall=100.0, after=0.0)["server wait"] == 0
    assert f"Prefect: refreshes report to {prefect_harness} (answers)." in _status(
        tmp_path, subprocess_env
    )


def _status(tmp_path: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [*PAPERLAKE, "status", "--warehouse", str(tmp_path / "wh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return " ".join(result.stdout.split())
