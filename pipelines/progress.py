"""Stage events of a refresh: progress for the CLI, and a pause point for tests.

Plain functions report progress here instead of taking a callback, because
the flow's parameters travel through the Prefect API and a callback cannot.
Without a listener (a served run, a library call) every call is a no-op.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# (stage, units done since the last event, total units or None when unknown)
Listener = Callable[[str, int, int | None], None]

# Test-only: pause the run when it reaches this stage, so that a test can
# kill -9 the process there. The run writes its pid to PAUSE_FILE and waits
# until that file is deleted (resume) or the process is killed.
PAUSE_AT = "PAPERLAKE_TEST_PAUSE_AT"
PAUSE_FILE = "PAPERLAKE_TEST_PAUSE_FILE"

_listeners: list[Listener] = []
_lock = threading.Lock()


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send this process's stage events to ``listener`` while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def start(stage: str, total: int | None = None) -> None:
    """A stage begins; ``total`` units of work will follow."""
    for listener in list(_listeners):
        listener(stage, 0, total)


def advance(stage: str, done: int = 1) -> None:
    """``done`` more units of ``stage`` are finished."""
    for listener in list(_listeners):
        listener(stage, done, None)


def checkpoint(stage: str) -> None:
    """A stage boundary. Under test (PAPERLAKE_TEST_PAUSE_AT=stage) wait here."""
    if os.environ.get(PAUSE_AT) != stage:
        return
    marker = Path(os.environ[PAUSE_FILE])
    marker.write_text(f"{os.getpid()} {stage}\n", encoding="utf-8")
    while marker.exists():
        time.sleep(0.05)
