"""Scheduling on a real Prefect server: `prefect server start` on loopback,
`paperlake serve --cron` registers the deployment, a run triggered through the
API completes, writes the warehouse and publishes its report artifacts."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from conftest import PAPERLAKE, RAW

PATIENCE = 240  # seconds; bounds every wait on the server or a run
PREFECT = [sys.executable, "-m", "prefect"]
CRON = "0 6 * * *"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """End a process group this test started: politely, then for sure."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _until(what: str, check: Callable[[], Any], log: Path, proc: subprocess.Popen) -> Any:
    """Poll ``check`` until it returns something truthy; fail after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if proc.poll() is not None:
            pytest.fail(f"{what}: process exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {PATIENCE} s:\n{log.read_text()[-3000:]}")


def _answer(response: httpx.Response) -> Any:
    """The server's JSON answer; None after a server error (5xx: asked again by
    ``_until``); any other failure fails the test with the answer's text."""
    assert response.is_success or response.status_code >= 500, response.text
    return response.json() if response.is_success else None


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        **extra,
    }


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A real `prefect server start` on 127.0.0.1 and a free port; yields (API URL, home).

    One per module: its tests register deployments of different names."""
    tmp_path = tmp_path_factory.mktemp("prefect-server")
    home, log = tmp_path / "prefect-home", tmp_path / "server.log"
    port = _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/api"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        _until("server start", healthy, log, proc)
        yield url, home
    finally:
        _stop(proc)


def test_a_scheduled_deployment_runs_to_completion(prefect_server, tmp_path: Path) -> None:
    url, home = prefect_server
    raw, warehouse, log = tmp_path / "raw", tmp_path / "wh", tmp_path / "serve.log"
    shutil.copytree(RAW, raw)
    env = _env(home, PREFECT_API_URL=url, PREFECT_RUNNER_POLL_FREQUENCY="1")
    where = ["--warehouse", str(warehouse)]
    with open(log, "w") as out:
        serve = subprocess.Popen(
            [*PAPERLAKE, "serve", "--cron", CRON, "--raw", str(raw), *where, "--name", "nightly"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = httpx.Client(base_url=url, timeout=30)
    try:
        response = _until(
            "deployment registered",
            lambda: (r := api.get("/deployments/name/paperlake-refresh/nightly")).is_success and r,
            log,
            serve,
        )
        deployment = response.json()
        assert [s["schedule"]["cron"] for s in deployment["schedules"]] == [CRON]
        assert deployment["parameters"]["warehouse_dir"] == str(warehouse.resolve())

        # The server itself puts the next 06:00 runs on the calendar.
        def scheduled() -> list[dict]:
            query = {
                "flow_runs": {
                    "deployment_id": {"any_": [deployment["id"]]},
                    "state": {"type": {"any_": ["SCHEDULED"]}},
                }
            }
            return _answer(api.post("/flow_runs/filter", json=query)) or []

        for run in _until("runs scheduled from the cron line", scheduled, log, serve):
            start = datetime.fromisoformat(run["expected_start_time"])
            assert (start.hour, start.minute) == (6, 0)

        # Trigger one now, through the API, and let the served runner execute it. A
        # server error (5xx: the request did not go through) is asked again; any
        # other failure fails the test with the server's answer.
        def created() -> dict | None:
            return _answer(api.post(f"/deployments/{deployment['id']}/create_flow_run", json={}))

        run_id = _until("flow run created", created, log, serve)["id"]

        def finished() -> dict | None:
            run = _answer(api.get(f"/flow_runs/{run_id}"))
            done = run and run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
            return run if done else None

        run = _until("triggered run finished", finished, log, serve)
        assert run["state"]["type"] == "COMPLETED", log.read_text()[-3000:]
    finally:
        _stop(serve)
        api.close()

    with duckdb.connect(str(warehouse / "paperlake.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from records").fetchone()[0] == 171
    artifacts = httpx.post(
        f"{url}/artifacts/filter",
        json={"artifacts": {"flow_run_id": {"any_": [run_id]}}},
        timeout=30,
    ).json()
    by_type = {a["type"]: a for a in artifacts}
    assert set(by_type) == {"markdown", "table"}
    assert "Published version 1" in by_type["markdown"]["data"]
    assert "## Input files" in by_type["markdown"]["data"]


def _ignore_sigint() -> None:
    """What a shell does to a job it starts in the background (`paperlake serve &`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_on_sigint_and_pauses_its_schedule(
    prefect_server, tmp_path: Path, stop_with: signal.Signals
) -> None:
    url, home = prefect_server
    raw, warehouse, log = tmp_path / "raw", tmp_path / "wh", tmp_path / "serve.log"
    shutil.copytree(RAW, raw)
    name, where = f"stops-on-{stop_with.name.lower()}", ["--warehouse", str(warehouse)]
    env = _env(home, PREFECT_API_URL=url, PREFECT_RUNNER_POLL_FREQUENCY="1")
    with open(log, "w") as out:
        serve = subprocess.Popen(
            [*PAPERLAKE, "serve", "--cron", CRON, "--raw", str(raw), *where, "--name", name],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_ignore_sigint,
        )
    api = httpx.Client(base_url=url, timeout=30)
    try:
        deployment = _until(
            "deployment registered",
            lambda: (
                (r := api.get(f"/deployments/name/paperlake-refresh/{name}")).is_success
                and r.json()
            ),
            log,
            serve,
        )
        assert deployment["paused"] is False
        _until("serving", lambda: "Ctrl-C stops it" in log.read_text(), log, serve)
        # Ctrl-C in a terminal: the signal goes to the whole process group.
        os.killpg(serve.pid, stop_with)
        try:
            code = serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve ignored {stop_with.name}:\n{log.read_text()[-3000:]}")
        text = log.read_text()
        assert code == 0, text[-3000:]
        assert "never awaited" not in text and "Traceback" not in text, text[-3000:]
        # Nothing serves the schedule any more: it is paused, as the README says.
        assert api.get(f"/deployments/{deployment['id']}").json()["paused"] is True
    finally:
        _stop(serve)
        api.close()
