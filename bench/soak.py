"""Soak: a month of 15m candles through the real trading service against the local fake Binance venue, with seeded
random faults (REST errors and timeouts, lost/duplicated/reordered/truncated user events, dropped and silent
streams, expired listen keys, partial fills, crashes and restarts, manual closes). Prints faults injected and
survived, trades, invariant checks; exit code 1 on any invariant violation.

    python bench/soak.py                 # 30 days, seed 11
    python bench/soak.py --days 7 --seed 3 --fault-every 4
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from tests.integration.faults.market import SEED  # noqa: E402
from tests.integration.faults.soak import SoakConfig, run_soak  # noqa: E402
from trader_runtime.testing.network_guard import loopback_only  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30, help="trading days replayed after the warm-up (default %(default)s)")
    p.add_argument("--seed", type=int, default=SEED, help="market and fault dice seed (default %(default)s)")
    p.add_argument("--fault-every", type=float, default=6.0, help="mean candles between fault draws (default %(default)s)")
    p.add_argument("--symbols", default="XRPUSDT", help="comma-separated symbols (default %(default)s)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the service's own warnings are the faults doing their job
    config = SoakConfig(days=args.days, seed=args.seed, fault_every=args.fault_every,
                        symbols=tuple(s.strip() for s in args.symbols.split(",") if s.strip()))  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cointrader-soak-") as tmp, loopback_only() as refused:
        result = run_soak(Path(tmp), config)
    print(result.summary())
    if refused:
        print(f"refused non-loopback connections: {refused}")
        return 1
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
