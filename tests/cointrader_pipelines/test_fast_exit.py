"""A process that loaded the code location freezes its heap as its last exit handler, so the interpreter's final
garbage collection skips it (seconds for the `dagster job execute` process and the forkserver); exit handlers
registered before still run."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import atexit, gc
loaded = []
atexit.register(lambda: print("frozen at exit", gc.get_freeze_count() > loaded[0] + 10_000))
import cointrader_pipelines.definitions
loaded.append(gc.get_freeze_count())
"""


def test_loading_the_code_location_freezes_the_heap_at_exit():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["frozen at exit True"]
