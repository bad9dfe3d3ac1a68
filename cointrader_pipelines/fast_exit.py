"""Processes that loaded the code location end without a full garbage collection of their heap.

At exit the interpreter collects every object cycle of Dagster, MLflow, pandas and the definitions before the
process ends: 2-6 s of CPU on this machine for the `dagster job execute` process and as much for the executor's
forkserver, which the command's caller waits for (both hold its output pipes). Freezing the heap as the last exit
handler makes that final collection skip it; every other exit handler still runs, files are closed as usual, and
the memory goes back to the system with the process."""

from __future__ import annotations

import atexit
import gc

_installed = False


def skip_final_collection() -> None:
    """Register `gc.freeze` to run at exit (once per process)."""
    global _installed
    if not _installed:
        atexit.register(gc.freeze)
        _installed = True
