"""The ``paperlake`` command: a thin layer over the flow and the library.

One module per group of commands; each registers its commands on the one
Typer app of ``common``. Exit codes: 0 ok, 1 failed, 2 usage error, 3
quarantined input under --strict.
"""

from __future__ import annotations

import sys

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
        sys.exit(130)
