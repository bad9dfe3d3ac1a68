"""Deep history: importing four years of one symbol from a local archive mirror, then dataset + walk-forward.

1. Builds a synthetic mirror in the exact public-data layout (XRPUSDT + BTCUSDT/ETHUSDT monthly klines, monthly
   funding, 1,461 daily 5-minute metrics files; `trader_runtime.testing.bulk_mirror`) — setup, not measured.
2. `cointrader data bulk` on it in a fresh process: wall and CPU seconds, peak RSS (targets < 30 s, < 500 MB); a
   second run (nothing new to read) shows the resume cost.
3. `cointrader ml walk-forward --warehouse ...`: dataset build with the OI/funding features and the market-metric
   features (OI value, top-trader and global long/short ratios, taker ratio at each close) filled from the imported
   metrics, the walk-forward validation and the ML on/off backtest, in a fresh process: wall and CPU seconds, peak
   RSS, and its printed output.

Wall times depend on what else runs on the machine; CPU seconds are the steadier figure on a shared host.
Usage: python bench/bench_bulk.py [--years 4] [--keep DIR [--reuse]]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed  # noqa: E402

from trader_runtime.market.bulk.layout import Month  # noqa: E402
from trader_runtime.testing.bulk_mirror import synthetic_mirror  # noqa: E402

END = pd.Timestamp("2026-01-01", tz="UTC")


#: runs `cointrader ARGS...` and reports the process's own peak RSS on its last stderr line
_CHILD = ("import resource, sys\nfrom trader_runtime.cli.main import main\nrc = main(sys.argv[1:])\n"
          "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)")


def _run(args: list[str]) -> tuple[float, float, float, str, int]:
    """Wall s, CPU s, peak RSS MB of `cointrader ARGS` in a fresh process, its output and exit code."""
    run = timed(lambda: subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True),
                children=True)  # fmt: skip
    proc, wall, cpu = run.result, run.min_wall, run.min_cpu
    lines = (proc.stdout + proc.stderr).splitlines()
    peak = [int(line.split()[1]) for line in lines if line.startswith("PEAK_RSS_KB")]
    out = "\n".join(line for line in lines if not line.startswith("PEAK_RSS_KB"))
    return wall, cpu, (peak[-1] / 1024.0 if peak else float("nan")), out, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="keep the mirror and warehouse in this folder")
    parser.add_argument("--reuse", action="store_true", help="use the mirror already built in the --keep folder")
    args = parser.parse_args()
    if args.reuse and args.keep is None:
        parser.error("--reuse needs --keep DIR")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_bulk_"))
    root.mkdir(parents=True, exist_ok=True)
    days = args.years * 365 + args.years // 4
    t0 = time.perf_counter()
    done = root / "mirror" / "BUILT"
    if args.reuse and done.exists():
        first, last = done.read_text().split()
        mirror_first, mirror_last = Month.parse(first), Month.parse(last)
    else:
        shutil.rmtree(root / "mirror", ignore_errors=True)
        mirror = synthetic_mirror(root / "mirror", "XRPUSDT", days=days, seed=11, end=END)
        mirror_first, mirror_last = mirror.first, mirror.last
        done.write_text(f"{mirror_first} {mirror_last}\n")
    files = sum(1 for _ in (root / "mirror").rglob("*.zip"))
    print(f"mirror: {days} days {mirror_first} .. {mirror_last}, {files} zip files, ready in "
          f"{time.perf_counter() - t0:.0f} s (setup, not measured)")
    cli: list[str] = []
    wh = root / "warehouse.duckdb"
    wh.unlink(missing_ok=True)
    bulk = [*cli, "data", "bulk", "--source", str(root / "mirror"), "--symbols", "XRPUSDT",
            "--from", str(mirror_first), "--to", str(mirror_last), "--warehouse", str(wh)]
    wall, cpu, rss, out, rc = _run(bulk)
    head = next((line for line in out.splitlines() if line.startswith("batch ")), "")
    print(f"\nimport (fresh process, exit {rc}): {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MB  "
          f"[targets < 30 s, < 500 MB]\n  {head}")
    if rc != 0:
        print(out[-3000:])
        return 1
    wall2, cpu2, _, out2, _ = _run(bulk)
    head2 = next((line for line in out2.splitlines() if line.startswith("batch ")), "")
    print(f"re-run, nothing new: {wall2:.1f} s wall, {cpu2:.1f} s CPU\n  {head2}")

    wf = [*cli, "ml", "walk-forward", "--symbol", "XRPUSDT", "--warehouse", str(wh), "--train-months", "6",
          "--test-months", "3"]
    wall3, cpu3, rss3, out3, rc3 = _run(wf)
    print(f"\ndataset + walk-forward validation + ML on/off backtest (fresh process, exit {rc3}): {wall3:.1f} s wall, "
          f"{cpu3:.1f} s CPU, peak RSS {rss3:.0f} MB")
    print("\n$ cointrader ml walk-forward --symbol XRPUSDT --warehouse <4 synthetic years> --train-months 6 "
          "--test-months 3")
    print(out3.rstrip())
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return rc3


if __name__ == "__main__":
    sys.exit(main())
