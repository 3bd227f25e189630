"""Where the time of a one-shot `paperlake refresh` of the sample dumps goes.

Runs the refresh as a user does (a new process, a new warehouse each time, a
Prefect home whose database is already migrated by an untimed first run) and
splits each run's wall time into:

- stages: discover .. promote, as the run report times them;
- waiting for the Prefect server: from the report's "Prefect:" line (none
  with a configured server); for paperlake 0.1, which printed no such line,
  the in-command time beyond the stages (its server started inside the flow
  call);
- after the report: from the report's last line to the end of the process
  (stopping the server, the interpreter's teardown);
- the rest: Python's start, imports, checks, the flow run's own API calls.

    python -m benchmarks.startup --runs 3                      # this checkout
    python -m benchmarks.startup --runs 3 --code /tmp/main     # another tree of the code
    python -m benchmarks.startup --runs 3 --server             # with `prefect server start`

Timings, not assertions: compare runs made one after the other on one machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("discover", "extract", "collect", "compare", "link", "stage", "promote", "clean-up")
_ROW = re.compile(r"│ (?P<name>[a-z][^│]*?) +│ +(?P<s>[0-9.]+) s │")
_WAITED = re.compile(r"\(([0-9.]+) s of it waited for\)")
_READY = re.compile(r"ready ([0-9.]+) s after its start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"prefect server start exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"prefect server did not answer within {timeout:.0f} s")


def one_run(env: dict[str, str], work: Path) -> dict[str, float]:
    """One refresh in a new process; its phases in seconds."""
    warehouse = work / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    command = [sys.executable, "-c", "from pipelines.cli import main; main()", "refresh"]
    command += ["--raw", str(ROOT / "raw"), "--warehouse", str(warehouse)]
    began = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work
    )
    assert proc.stdout is not None
    text, last_line_at = [], began
    for line in proc.stdout:
        text.append(line)
        last_line_at = time.perf_counter()
    if proc.wait() != 0:
        raise SystemExit("refresh failed:\n" + "".join(text)[-3000:])
    wall = time.perf_counter() - began
    return phases("".join(text), wall, after=wall - (last_line_at - began))


def phases(report: str, wall: float, after: float) -> dict[str, float]:
    """Split a run's wall time by what its printed report says (see the module doc)."""
    rows = {m["name"].strip(): float(m["s"]) for m in _ROW.finditer(report)}
    stages = sum(rows.get(s, 0.0) for s in STAGES)
    in_command = next((v for k, v in rows.items() if k.startswith("total")), 0.0)
    joined = " ".join(report.split())
    waited, ready = _WAITED.search(joined), _READY.search(joined)
    if waited:
        wait = float(waited[1])
    elif "(no start-up)" in joined:
        wait = 0.0
    else:  # paperlake 0.1 said nothing: its in-command time beyond the stages is the server's
        wait = max(0.0, in_command - stages)
    return {
        "wall": wall,
        "stages": stages,
        "server wait": wait,
        "server ready after its start": float(ready[1]) if ready else float("nan"),
        "after the report": after,
        "rest (start, imports, API calls)": wall - stages - after - wait,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, help="a tree of paperlake's code to run instead")
    parser.add_argument(
        "--server", action="store_true", help="run against a `prefect server start` of its own"
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="paperlake-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(work / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if args.code:
        env["PYTHONPATH"] = str(args.code.resolve())
    server = None
    try:
        if args.server:
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--port", str(port)],
                env={**env, "PREFECT_UI_ENABLED": "false"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
            _wait_healthy(env["PREFECT_API_URL"], server)
        one_run(env, work)  # untimed: migrates the Prefect database, warms the file cache
        runs = [one_run(env, work) for _ in range(args.runs)]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"refresh of the samples, {args.runs} runs, median (load average {load:.1f})")
    for name in runs[0]:
        values = [r[name] for r in runs]
        print(
            f"  {name:<34} {statistics.median(values):6.2f} s   runs: "
            + ", ".join(f"{v:.2f}" for v in values)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
