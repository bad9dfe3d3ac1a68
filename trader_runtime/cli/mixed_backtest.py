"""`cointrader backtest --symbols ... --strategy weighted-signal,DOGEUSDT=mtf-pullback`: one account whose symbols
trade different strategies, as the trader does with `STRATEGY_<SYMBOL>`.

Weighted-signal symbols take the --sl/--tp/--signal-threshold/--adx/--vol-mult flags, MTF pullback symbols the
--param NAME=VALUE pairs. The account engine runs them together (shared balance, position limits, daily loss
limit; a kill switch per symbol); every symbol waits for the MTF warm-up, as the trader's history does.
"""

from __future__ import annotations

import argparse
from typing import Callable

import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.errors import ConfigError, DataError


def cmd_mixed_backtest(args: argparse.Namespace, names: dict[str, str], weighted: StrategyParams, make_config: Callable,
                       make_wf: Callable, load_markets: Callable, print_account: Callable) -> int:  # fmt: skip
    from trader_runtime.backtest.engine import Window
    from trader_runtime.backtest.serialization import write_json
    from trader_runtime.cli.mtf_backtest import parse_params, parse_time
    from trader_runtime.strategy.mtf_pullback import MTFParams
    from trader_runtime.strategy.mtf_pullback.account import run_mtf_account
    from trader_runtime.strategy.pipeline import prepare_market

    if args.legacy:
        raise ConfigError("--legacy reproduces one strategy's reference results; it cannot mix strategies")
    mtf = parse_params(args.param, MTFParams)
    start, end = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--end={args.end} is before --start={args.start}")
    if args.walk_forward and (start is not None or end is not None):
        raise ConfigError("--start/--end apply to a single run, not to --walk-forward")
    cfg = make_config(args, weighted)
    wf = make_wf(args) if args.walk_forward else None
    if args.json_out is not None and args.json_out.is_dir():
        raise ConfigError(f"--json {args.json_out} is a directory; give a file name")
    frames, source = load_markets(args, cfg, prepare=lambda frame, c, src: (c.symbol, frame, src))
    mtf_frames = {sym: f for sym, f, _ in frames if names[sym] == "mtf-pullback"}
    fixed = {}
    for sym, frame, src in frames:
        if names[sym] == "weighted-signal":
            try:
                fixed[sym] = prepare_market(frame, sym)
            except DataError as exc:
                raise DataError(f"{src}: {exc}") from None
    window = None
    if start is not None or end is not None:
        lo = start if start is not None else pd.Timestamp.min.tz_localize("UTC")
        hi = end + pd.Timedelta(minutes=15) if end is not None else pd.Timestamp.max.tz_localize("UTC")
        window = Window(lo, hi)
    run = run_mtf_account(mtf_frames, cfg, mtf, window=window, wf=wf, fixed=fixed,
                          fixed_params={s: weighted for s in fixed})  # fmt: skip
    w = weighted
    text = "; ".join(
        f"{sym} MTF pullback (SL {mtf.sl_mult:g}×ATR_1h TP {mtf.tp_mult:g}×ATR_1h ADX {mtf.adx_threshold:g} "
        f"volume < {mtf.dry_ratio:g}×SMA{mtf.volume_sma} EMA {mtf.trigger_ema})" if names[sym] == "mtf-pullback" else
        f"{sym} weighted signal (SL {w.atr_sl_mult}×ATR TP {w.atr_tp_mult}×ATR signal {w.signal_threshold} "
        f"ADX {w.adx_threshold} vol {w.volume_multiplier}×)"
        for sym in sorted(names)
    )  # fmt: skip
    print_account(run.result, source, [*run.views, *fixed.values()], wf, text)
    if args.json_out is not None:
        payload = run.result.to_dict()
        payload["strategies"] = dict(sorted(names.items()))
        payload["data"] = {"source": source}
        write_json(args.json_out, payload)
        print(f"saved {args.json_out}")
    return 0
