"""`cointrader backtest --strategy mtf-pullback`: run the MTF pullback backtest and print its research table.

Parameters come from `--param NAME=VALUE` (names of `MTFParams`); `--legacy` switches to the research script's
rules (reproduces its published result; keeps its known defects). Everything is validated before any file is
written.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from typing import Any

import pandas as pd

from trader_runtime.errors import ConfigError


def parse_params(pairs: list[str] | None, cls: type) -> Any:
    """`NAME=VALUE` pairs → a parameter object of `cls` (a frozen dataclass); unknown names are refused."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, raw = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in fields:
            raise ConfigError(f"--param {pair!r}: expected NAME=VALUE with NAME one of {', '.join(fields)}")
        kind = type(fields[name].default)
        try:
            values[name] = kind(float(raw)) if kind is float else kind(raw)
        except ValueError:
            raise ConfigError(f"--param {pair!r}: {raw!r} is not a valid {kind.__name__}") from None
    return cls(**values)


def parse_time(raw: str | None, flag: str) -> pd.Timestamp | None:
    if raw is None:
        return None
    try:
        t = pd.Timestamp(raw)
    except (ValueError, TypeError):
        raise ConfigError(f"{flag}={raw!r} is not a date or time, e.g. 2026-02-01 or 2026-02-01T12:00") from None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _fmt(v: float | int) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f"{v:g}" if isinstance(v, int) else f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}"


def print_mtf_result(result, source: str) -> None:
    out = sys.stdout
    rules = "legacy (research script, known defects kept)" if result.rules.is_legacy else "platform default"
    p = result.params
    print(f"== backtest {result.symbol} with the MTF pullback strategy (rules: {rules})", file=out)
    print(f"data      {source}", file=out)
    print(
        f"window    {result.window_start:%Y-%m-%d %H:%M} → {result.window_end:%Y-%m-%d %H:%M} UTC, "
        f"{result.decided_candles} candles decided, {result.hourly_candles} hourly candles",
        file=out,
    )
    print(
        f"params    1h EMA {p.ema_fast_1h}/{p.ema_slow_1h}, ADX({p.adx_length}) ≥ {p.adx_threshold:g}, ATR({p.atr_length}); "
        f"15m EMA {p.trigger_ema}, volume < {p.dry_ratio:g} × SMA{p.volume_sma}; SL {p.sl_mult:g}×ATR_1h, TP {p.tp_mult:g}×ATR_1h; "
        f"fee {result.rules.fee_rate * 100:g}% per side",
        file=out,
    )
    for note in result.notes:
        print(f"note      {note}", file=out)
    c = result.counters
    print(
        f"counts    trend LONG {c['meta_long_candles']} / SHORT {c['meta_short_candles']} candles, "
        f"{c['pullbacks']} pullbacks, {c['triggers']} triggers, trades LONG {c['trades_long']} / SHORT {c['trades_short']}",
        file=out,
    )
    print(f"\n  {'':<6}{'trades':>7}{'win %':>7}{'PF':>7}{'PnL bps':>10}{'max DD bps':>12}{'avg win':>9}{'avg loss':>10}", file=out)
    for name, s in result.summary.items():
        print(
            f"  {name:<6}{s['trades']:>7}{s['win_rate']:>7.1f}{_fmt(s['profit_factor']):>7}{s['pnl_bps']:>10.1f}"
            f"{s['max_dd_bps']:>12.1f}{s['avg_win_bps']:>9.1f}{s['avg_loss_bps']:>10.1f}",
            file=out,
        )
    print(f"\n  {'#':>3}  {'side':<5} {'entry time (UTC)':<17} {'entry':>8} {'exit':>8} {'bps':>8}  exit", file=out)
    for n, t in enumerate(result.trades.itertuples(), start=1):
        print(
            f"  {n:>3}  {t.side:<5} {t.entry_time:%Y-%m-%d %H:%M} {t.entry_price:>8.4f} {t.exit_price:>8.4f} "
            f"{t.pnl_bps:>+8.1f}  {t.close_reason}",
            file=out,
        )


def cmd_mtf_backtest(args: argparse.Namespace, load_market) -> int:
    """Validate, load, run, print, save. `load_market(args, symbol)` is the shared data loader of cli/backtest.py."""
    from trader_runtime.backtest.serialization import write_json
    from trader_runtime.market.symbols import normalize_symbol
    from trader_runtime.errors import DataError
    from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, run_mtf_backtest

    if args.walk_forward:
        raise ConfigError("--walk-forward is not available with --strategy mtf-pullback; give --start/--end instead")
    params = parse_params(args.param, MTFParams)
    rules = MTFRules.legacy() if args.legacy else MTFRules()
    start, end = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--end={args.end} is before --start={args.start}")
    if rules.warmup == "research" and start is None:
        raise ConfigError("--legacy needs --start (the research rules read 250 hours of history before it)")
    try:
        symbol = normalize_symbol(args.symbol)
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    if args.json_out is not None and args.json_out.is_dir():
        raise ConfigError(f"--json {args.json_out} is a directory; give a file name")
    frame, source = load_market(args, symbol)
    try:
        result = run_mtf_backtest(frame, symbol, start, end, params, rules)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    print_mtf_result(result, source)
    if args.json_out is not None:
        payload = result.to_dict()
        payload["data"] = {"source": source}
        write_json(args.json_out, payload)
        print(f"saved {args.json_out}")
    return 0
