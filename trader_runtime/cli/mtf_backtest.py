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


def cmd_mtf_backtest(args: argparse.Namespace, make_config, make_wf, load_markets, print_account) -> int:
    """Validate, load, run, print, save. The helpers are cli/backtest.py's (config, walk-forward geometry, data
    loading, account report), shared with the weighted strategy.

    Legacy: the research script's unit-size table only. Platform: the unit-size table (one symbol) and the run on
    the account engine (balance, leverage, fees, slippage, risk limits, kill switch), single, several symbols
    or walk-forward.
    """
    from trader_runtime.backtest.engine import Window
    from trader_runtime.backtest.serialization import write_json
    from trader_runtime.errors import DataError
    from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, run_mtf_backtest
    from trader_runtime.strategy.mtf_pullback.account import exit_params, run_mtf_account

    params = parse_params(args.param, MTFParams)
    rules = MTFRules.legacy() if args.legacy else MTFRules()
    start, end = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--end={args.end} is before --start={args.start}")
    if args.legacy and start is None:
        raise ConfigError("--legacy needs --start (the research rules read 250 hours of history before it)")
    if args.legacy and (args.walk_forward or getattr(args, "symbols", None)):
        raise ConfigError("--legacy reproduces the one-symbol research table; drop --walk-forward/--symbols")
    if args.walk_forward and (start is not None or end is not None):
        raise ConfigError("--start/--end apply to a single run, not to --walk-forward")
    cfg = make_config(args, exit_params(params))
    wf = make_wf(args) if args.walk_forward else None
    if args.json_out is not None and args.json_out.is_dir():
        raise ConfigError(f"--json {args.json_out} is a directory; give a file name")
    frames, source = load_markets(args, cfg, prepare=lambda frame, c, src: (c.symbol, frame))
    frames = dict(frames)
    payload: dict = {}
    if len(frames) == 1 and wf is None:
        symbol, frame = next(iter(frames.items()))
        try:
            result = run_mtf_backtest(frame, symbol, start, end, params, rules)
        except DataError as exc:
            raise DataError(f"{source}: {exc}") from None
        print_mtf_result(result, source)
        payload = result.to_dict()
    if not args.legacy:
        lo = start if start is not None else pd.Timestamp.min.tz_localize("UTC")
        hi = end + pd.Timedelta(minutes=15) if end is not None else pd.Timestamp.max.tz_localize("UTC")
        window = Window(lo, hi) if (start is not None or end is not None) else None
        account = run_mtf_account(frames, cfg, params, window=window, wf=wf)
        print("\n-- the same strategy on the account (sizing, leverage, fees, slippage, risk limits, kill switch)")
        text = (f"MTF pullback: SL {params.sl_mult:g}×ATR_1h  TP {params.tp_mult:g}×ATR_1h  ADX {params.adx_threshold:g}"
                f"  volume < {params.dry_ratio:g}×SMA{params.volume_sma}  EMA {params.trigger_ema}")  # fmt: skip
        print_account(account.result, source, account.views, wf, text)
        payload["account"] = account.result.to_dict()
    if args.json_out is not None:
        payload["data"] = {"source": source}
        write_json(args.json_out, payload)
        print(f"saved {args.json_out}")
    return 0
