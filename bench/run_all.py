"""Run every benchmark in turn and print its figures (`make bench`). The soak and reference check are included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timing import timed  # noqa: E402

ORDER = (
    "reference_check.py",
    "bench_sweep.py",
    "bench_portfolio.py",
    "bench_walk_forward.py",
    "bench_mtf.py",
    "bench_dataset.py",
    "bench_incremental.py",
    "bench_synthetic.py",
    "bench_retrain.py",
    "bench_trader.py",
    "bench_weekly_report.py",
    "bench_bulk.py",
    "soak.py",
)


# need extra system packages (PostgreSQL/Redis, qemu-user) and run for many minutes: run them by hand
SEPARATE = ("bench_stack.py", "cross_cpu_check.py")


def scripts() -> list[str]:
    """ORDER first, then any other bench script, so a new bench is never left out by accident."""
    rest = sorted(p.name for p in HERE.glob("bench_*.py") if p.name not in ORDER and p.name not in SEPARATE)
    return [*ORDER, *rest]


def main() -> int:
    failed = []
    for name in scripts():
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n===== {name} =====", flush=True)
        run = timed(lambda: subprocess.call([sys.executable, str(path)]), children=True)
        rc = run.result
        print(f"----- {name}: exit {rc}, {run.min_wall:.1f} s wall, {run.min_cpu:.1f} CPU-s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
