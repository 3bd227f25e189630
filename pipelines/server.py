"""The Prefect API server a one-shot ``paperlake refresh`` reports to.

Without a Prefect server (no PREFECT_API_URL), Prefect starts a temporary one
when the flow is called: after the flow's imports, waiting for it (5-10 s on a
small machine), and as a plain child process that a ``kill -9`` of paperlake
leaves running. paperlake starts that same server itself instead
(``TemporaryServer``):

- early, before Prefect, Polars and the parsers are imported and the
  configuration is checked, so the server's start-up overlaps them;
- tied to paperlake's life: the kernel kills it when the paperlake process
  ends, however it ends (``PR_SET_PDEATHSIG``), and a normal exit stops it;
- in its own session, so a Ctrl-C in the terminal reaches paperlake, which
  reports the interruption to the server before stopping it.

When a server is configured (``configured_api_url``), none is started: the run
uses it, and the report says the start-up was avoided.

Nothing here imports Prefect: the point is to start before it is imported.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

from pipelines.errors import PaperlakeError

# Linux prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1
# uvicorn exits with this when the port is taken meanwhile; then another port is tried.
_PORT_TRIES = 3


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """In the forked child: ask the kernel for SIGKILL when the parent process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)


def configured_api_url() -> str | None:
    """The Prefect API the user configured, if any, without importing Prefect.

    Once Prefect is imported its settings decide. Before that, the places a
    user sets PREFECT_API_URL: the environment and the active Prefect profile.
    (Prefect also reads .env and prefect.toml files: ``refresh`` asks Prefect
    again after importing it and stops an unneeded server.)
    """
    if "prefect.settings" in sys.modules:
        from prefect.settings import PREFECT_API_URL

        return PREFECT_API_URL.value() or None
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    profile = profiles.get("profiles", {}).get(active, {})
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return url if isinstance(url, str) and url else None


def is_healthy(api_url: str, timeout: float = 2) -> bool:
    """Whether the Prefect API at ``api_url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryServer:
    """A Prefect API server on 127.0.0.1 that lives as long as this process, at most."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.started_at = 0.0
        self.ready_after: float | None = None  # seconds from start to healthy
        # The server's output, for the error when it fails to start; closed with this object.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> TemporaryServer:
        """Start the server process and return at once; ``wait_ready`` waits for it."""
        spec = importlib.util.find_spec("prefect")  # where it is, without importing it
        if spec is None or spec.origin is None:
            raise PaperlakeError("Prefect is not installed in this environment")
        self.port = _free_port()
        self.started_at = time.perf_counter()
        app_dir = Path(spec.origin).parent
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(app_dir),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            # What Prefect's own temporary server runs with: no UI, no services.
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            },
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        return self

    def wait_ready(self, timeout: float = 120, tries: int = _PORT_TRIES) -> float:
        """Wait until the server answers /health; return the seconds since ``start``."""
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                if tries > 1 and b"address already in use" in self._output().lower():
                    self.start()
                    return self.wait_ready(deadline - time.monotonic(), tries - 1)
                raise PaperlakeError(
                    f"the temporary Prefect server exited with code {code}: {self._last_line()}"
                )
            if is_healthy(self.api_url):
                self.ready_after = time.perf_counter() - self.started_at
                return self.ready_after
            time.sleep(0.05)
        self.stop()
        raise PaperlakeError(
            f"the temporary Prefect server did not answer within {timeout:.0f} s; "
            "start one with `prefect server start` and set PREFECT_API_URL"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s); safe to call twice."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _output(self) -> bytes:
        self._log.seek(0)
        return self._log.read()

    def _last_line(self) -> str:
        lines = [line for line in self._output().decode("utf-8", "replace").splitlines() if line]
        return lines[-1] if lines else "(no output)"
