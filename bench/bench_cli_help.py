"""`cointrader --help` and a runtime command's help, wall time over fresh interpreters (target: --help < 0.3 s).

The root help lists the runtime's commands from a table and the pipelines' commands from the installed entry
points, so its cost is the interpreter, argparse and importlib.metadata — never pandas, Dagster or MLflow.
Run: .venv/bin/python bench/bench_cli_help.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _times(argv: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("cointrader", path=str(Path(sys.executable).parent)) or "cointrader"
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cointrader --help": [exe, "--help"],
        "cointrader report --help": [exe, "report", "--help"],
        "cointrader trader --help": [exe, "trader", "--help"],
    }
    for name, argv in cases.items():
        times = _times(argv, args.runs)
        print(f"{name:<28} min {min(times):.3f} s  median {statistics.median(times):.3f} s  ({args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
