"""Timing for the bench scripts: wall and CPU seconds of each run of a call, summarised as min and median.

CPU time is what a busy shared machine changes least, so the scripts print it beside wall time. For a call that
runs a child process (a CLI, a Dagster job), `children=True` counts the CPU of the finished children instead of
this process's own.
"""

from __future__ import annotations

import resource
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Timings:
    walls: tuple[float, ...]
    cpus: tuple[float, ...]
    result: Any = None  # what the last run returned

    min_wall = property(lambda self: min(self.walls))
    median_wall = property(lambda self: statistics.median(self.walls))
    min_cpu = property(lambda self: min(self.cpus))
    median_cpu = property(lambda self: statistics.median(self.cpus))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], Any], repeat: int = 1, *, children: bool = False) -> Timings:
    """Run `fn` `repeat` times (at least once); wall and CPU seconds of each run."""
    cpu_now = _children_cpu if children else time.process_time
    walls, cpus, result = [], [], None
    for _ in range(max(1, repeat)):
        wall0, cpu0 = time.perf_counter(), cpu_now()
        result = fn()
        walls.append(time.perf_counter() - wall0)
        cpus.append(cpu_now() - cpu0)
    return Timings(tuple(walls), tuple(cpus), result)
