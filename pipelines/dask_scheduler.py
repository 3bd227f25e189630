"""Asking a Dask scheduler whether it can take a refresh's extraction, before the run.

Not the flow's business (``pipelines.flows``): the CLI checks ``--dask-address``
with it first, so that a wrong address is one line, not a run waiting for ever.
"""

from __future__ import annotations

import asyncio

from pipelines.errors import PaperlakeError


class DaskProblem(PaperlakeError):
    """A Dask scheduler address that cannot take work; ``usage`` when it is malformed."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def check_dask_scheduler(address: str, timeout: float = 10) -> int:
    """Ask the scheduler at ``address`` who it is; return its number of workers.

    Raises DaskProblem when the address is malformed, nothing answers there,
    what answers is not a Dask scheduler, or it has no workers (a run would
    wait for ever).
    """
    from distributed.comm import connect

    async def identity() -> dict:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    try:
        info = asyncio.run(identity())
    except ValueError as err:  # no port, unknown scheme
        raise DaskProblem(f"--dask-address {address!r}: {err}", usage=True) from err
    except (OSError, TimeoutError) as err:
        raise DaskProblem(f"cannot reach the Dask scheduler at {address}: {err}") from err
    except Exception as err:  # something else answered, with bytes Dask cannot decode
        raise DaskProblem(
            f"{address} did not answer as a Dask scheduler ({type(err).__name__})"
        ) from err
    if not isinstance(info, dict) or info.get("type") != "Scheduler":
        raise DaskProblem(f"{address} did not answer as a Dask scheduler")
    n_workers = len(info.get("workers") or {})
    if not n_workers:
        raise DaskProblem(
            f"the Dask scheduler at {address} has no workers: start some with "
            f"`dask worker {address}`"
        )
    return n_workers
