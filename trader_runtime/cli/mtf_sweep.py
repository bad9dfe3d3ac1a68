"""`cointrader sweep --strategy mtf-pullback`: every combination of the MTF pullback's documented grid over one
period of one symbol, ranked by profit factor (unit size, basis points net of fees).

The same sweep as the `mtf_sweep_results` asset (`strategy.mtf_pullback.research.run_mtf_sweep`): indicators are
computed once and each combination is one compiled loop, so the 162 combinations take seconds in one process.
Everything is validated before any file is read or written.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, Callable

import pandas as pd

from trader_runtime.errors import ConfigError, DataError

#: the grid's parameters, in the column order of the printed table
GRID_COLUMNS = (("sl_mult", "SL"), ("tp_mult", "TP"), ("adx_threshold", "ADX"), ("dry_ratio", "dry"), ("trigger_ema", "EMA"))


def _fmt(v: float | int, nd: int = 2) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f"{v:g}" if isinstance(v, int) else f"{v:.{nd}f}"


def validate_mtf_sweep(args: argparse.Namespace) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The flags an MTF sweep accepts; returns the window (start, end inclusive)."""
    from trader_runtime.cli.mtf_backtest import parse_time

    if getattr(args, "symbols", None) or getattr(args, "data_dir", None) is not None:
        raise ConfigError("the MTF pullback sweep runs one symbol; use --symbol and --data instead of --symbols/--data-dir")
    if args.workers is not None:
        raise ConfigError("the MTF pullback sweep runs in one process (it takes seconds); drop --workers")
    start, end = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--end={args.end} is before --start={args.start}")
    if args.legacy and start is None:
        raise ConfigError("--legacy needs --start (the research rules read 250 hours of history before it)")
    return start, end


def cmd_mtf_sweep(args: argparse.Namespace, load_market: Callable[[argparse.Namespace, str], tuple[pd.DataFrame, str]]) -> int:
    """Validate, load one symbol's data, sweep the grid, print the ranked table, save JSON."""
    from trader_runtime.backtest.serialization import write_json
    from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, prepare_mtf
    from trader_runtime.strategy.mtf_pullback.backtest import utc
    from trader_runtime.strategy.mtf_pullback.params import RESEARCH_LOOKBACK_HOURS, SWEEP_GRID
    from trader_runtime.strategy.mtf_pullback.research import run_mtf_sweep

    start, end = validate_mtf_sweep(args)
    rules = MTFRules.legacy() if args.legacy else MTFRules()
    symbol = args.symbol.upper()
    frame, source = load_market(args, symbol)
    history = utc(start) - pd.Timedelta(hours=RESEARCH_LOOKBACK_HOURS) if args.legacy and start is not None else None
    try:
        market = prepare_mtf(frame, symbol, history_start=history)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    # --end is inclusive (a candle opening at END is traded), the sweep's end is exclusive
    end_excl = end + pd.Timedelta(minutes=15) if end is not None else None
    result = run_mtf_sweep(market, start, end_excl, rules=rules, min_trades=args.min_trades)
    default = MTFParams()
    _print(result, source, market, rules, start, end, args.top, default)
    if args.json_out is not None:
        write_json(args.json_out, {
            "strategy": "mtf-pullback", "symbol": symbol, "data": {"source": source},
            "window": {"start": start, "end": end}, "rules": rules.as_dict(), "grid": {k: list(v) for k, v in SWEEP_GRID.items()},
            "min_trades": result.min_trades, "rows": result.rows,
        })  # fmt: skip
        print(f"saved {args.json_out} ({len(result.rows)} rows)")
    return 0


def _print(result: Any, source: str, market: Any, rules: Any, start, end, top: int, default: Any) -> None:
    out = sys.stdout
    kind = "legacy (research script, known defects kept)" if rules.is_legacy else "platform default"
    span = f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}" if start is not None and end is not None else (
        f"from {start:%Y-%m-%d %H:%M}" if start is not None else f"to {end:%Y-%m-%d %H:%M}" if end is not None else "all candles after the warm-up")  # fmt: skip
    print(f"== sweep {market.symbol} with the MTF pullback strategy: {len(result.rows)} combinations, one period "
          f"({span}), rules {kind}, ranked by profit factor with >= {result.min_trades} trades first", file=out)  # fmt: skip
    print(f"data {source}  {market.index[0]} → {market.index[-1]}; returns in basis points per unit traded, "
          f"net of {rules.fee_rate * 100:g}% fee per side", file=out)  # fmt: skip
    head = "".join(f"{label:>6}" for _, label in GRID_COLUMNS)
    print(f"{'rank':>4}{head}{'trades':>8}{'WR %':>7}{'PF':>7}{'PnL bps':>10}{'max DD bps':>12}", file=out)
    for row in result.rows[:top]:
        p, s = row["params"], row["summary"]
        cells = "".join(f"{p[k]:>6g}" for k, _ in GRID_COLUMNS)
        mark = "  DEFAULT" if row["default"] else ""
        low = "" if row["meets_min_trades"] else "  (<min trades)"
        print(f"{row['rank']:>4}{cells}{s['trades']:>8}{s['win_rate']:>7.1f}{_fmt(s['profit_factor']):>7}"
              f"{s['pnl_bps']:>10.1f}{s['max_dd_bps']:>12.1f}{mark}{low}", file=out)  # fmt: skip
    if not any(r["default"] for r in result.rows[:top]):
        d = next((r for r in result.rows if r["default"]), None)
        if d is not None:
            s = d["summary"]
            print(f"default parameters rank {d['rank']}: {s['trades']} trades, PF {_fmt(s['profit_factor'])}, "
                  f"{s['pnl_bps']:+.1f} bps", file=out)  # fmt: skip
