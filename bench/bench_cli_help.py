"""`cointrader --help` and a runtime command's help, wall time over fresh interpreters (target: --help < 0.3 s).

The root help lists the runtime's commands from a table and the pipelines' commands from the installed entry
points, so its cost is the interpreter, argparse and importlib.metadata — never pandas, Dagster or MLflow.
Run: .venv/bin/python bench/bench_cli_help.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed  # noqa: E402


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
        runs = timed(lambda: subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False),
                     args.runs, children=True)  # fmt: skip
        print(f"{name:<28} min {runs.min_wall:.3f} s  median {runs.median_wall:.3f} s  "
              f"CPU median {runs.median_cpu:.3f} s  ({args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
