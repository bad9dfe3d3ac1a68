"""Compile the numba kernels into their cache once, at install (`make setup`) instead of in a user's first run.

A cold cache costs about 20 CPU-seconds of compilation in the first backtest, walk-forward or trader start. numba
caches per argument types, so this runs the commands users run (backtests of both strategies, walk-forward, the ML
dataset's labels and walk-forward validation, a short replay of the trader) on a small synthetic market; later runs
on any data load those compilations. The cache lands where numba puts it: next to the sources, or in
`NUMBA_CACHE_DIR` (the systemd unit's cache folder).

    python -m trader_runtime.warm
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

#: synthetic days: enough for two walk-forward folds and the trader's warm-up plus a few hundred decisions
DAYS = "150"


def commands(folder: Path) -> list[list[str]]:
    """The commands to run; the trader's settings come from an empty file, not from a `.env` in the folder."""
    settings = folder / "empty.env"
    settings.write_text("")
    return [
        ["backtest", "--days", DAYS, "--walk-forward", "--train-months", "2"],
        ["backtest", "--days", DAYS],
        ["backtest", "--strategy", "mtf-pullback", "--days", DAYS],
        ["ml", "walk-forward", "--days", DAYS, "--folds", "2", "--no-backtest"],
        ["trader", "run", "--config", str(settings), "--mode", "replay", "--symbols", "XRPUSDT", "--ml-mode", "off",
         "--strategy", "weighted-signal", "--source", "synthetic", "--days", "14", "--speed", "0", "--http-port", "-1",
         "--journal", str(folder / "warm.sqlite")],
    ]  # fmt: skip


def main() -> int:
    from trader_runtime.cli.main import main as cli

    t0, c0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        for argv in commands(Path(tmp)):
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                rc = cli(argv)
            if rc:
                print(f"warming the numba cache: 'cointrader {' '.join(argv)}' exited {rc}:\n{out.getvalue()[-2000:]}",
                      file=sys.stderr)  # fmt: skip
                return rc
    print(f"numba kernels compiled and cached ({time.perf_counter() - t0:.1f} s, "
          f"{time.process_time() - c0:.1f} CPU-s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
