"""The ``paperlake`` command: a thin layer over the flow and the library.

One module per group of commands; each registers its commands on the one
Typer app of ``common``. Exit codes: 0 ok, 1 failed, 2 usage error, 3
quarantined input under --strict.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading

# Importing a module registers its commands; --help lists them in this order.
# isort: off
from pipelines.cli import run, versions, inspect, look  # noqa: F401

# isort: on
from pipelines.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STRICT,
    EXIT_USAGE,
    app,
    err_console,
)

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_STRICT", "EXIT_USAGE", "app", "main"]


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        code: int | str | None = 130
    except SystemExit as done:
        code = done.code
    else:
        code = EXIT_OK
    _exit(code)


def _exit(code: int | str | None) -> None:
    """End the process without tearing down every imported module.

    A refresh imports some 2,000 modules (Prefect, Polars, DuckDB, ...);
    Python's teardown of them took 1-1.5 s of every command. Everything the
    command wrote is closed and renamed by now, so: flush, run the atexit
    handlers (Prefect drains its log and event workers there), and leave. With
    a non-daemon thread still running, exit normally so that it can finish.
    """
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    if code is None or isinstance(code, int):
        os._exit(code or 0)
    print(code, file=sys.stderr, flush=True)  # what sys.exit("message") would do
    os._exit(1)
