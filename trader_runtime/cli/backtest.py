"""`cointrader backtest` and `cointrader sweep`: load data (a parquet file or the synthetic market), run, print, save.

Bad parameters or data raise ConfigError/DataError before anything is written; `cli/main.py` turns them into a
one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from trader_runtime.cli import validation as check
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.errors import ConfigError, DataError

DEFAULT_PARAMS = StrategyParams()


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--symbol", default="XRPUSDT", help="traded symbol, e.g. XRPUSDT (default %(default)s)")
    p.add_argument("--data", type=Path, help="combined 15m parquet file; omitted = the seeded synthetic market")
    p.add_argument("--days", type=int, default=365, help="synthetic market length in days (default %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="synthetic market seed (default %(default)s)")
    p.add_argument("--train-months", type=int, default=3, help="walk-forward train length (default %(default)s)")
    p.add_argument("--test-months", type=int, default=1, help="walk-forward test length (default %(default)s)")
    p.add_argument("--step-months", type=int, default=None, help="walk-forward step in months (default: the test length, so every month is tested)")
    p.add_argument("--balance", type=float, default=1000.0, help="initial balance in USDT (default %(default)s)")
    p.add_argument("--leverage", type=int, default=10, help="leverage (default %(default)s)")
    p.add_argument("--fee", type=float, default=0.04, help="taker fee in percent (default %(default)s)")
    p.add_argument("--slippage", type=float, default=0.01, help="market slippage in percent (default %(default)s)")
    p.add_argument("--qty-step", type=float, default=None,
                   help="quantity step of every symbol (default: each symbol's exchange lot step, e.g. XRPUSDT 0.1, "
                   "DOGEUSDT 1; 0.1 for a symbol not in the table)")
    p.add_argument(
        "--legacy", action="store_true", help="the original engine's rules, known bugs included; only to reproduce its published results"
    )
    p.add_argument("--json", type=Path, dest="json_out", help="write the full result as strict JSON to this file")
    p.add_argument(
        "--symbols",
        help="several symbols on one shared account, comma-separated (e.g. XRPUSDT,DOGEUSDT,TRXUSDT); replaces --symbol",
    )
    p.add_argument(
        "--data-dir", type=Path, help="folder with one <symbol>_combined_15m.parquet per symbol (lower-case name); with --symbols"
    )
    p.add_argument(
        "--kill-reset",
        default="never",
        help="when a tripped kill switch is reset in the backtest: never (default; an operator decides) or after:<days>",
    )
    p.add_argument("--tp-fee", type=float, default=None, help="take-profit fee in percent (default: the taker --fee)")


def register(subparsers: argparse._SubParsersAction) -> None:
    bt = subparsers.add_parser(
        "backtest",
        help="backtest the rule strategy (single run or walk-forward)",
        description="Backtest the rule strategy on a combined 15m parquet file or on the synthetic market.",
    )
    _add_data_args(bt)
    bt.add_argument("--walk-forward", action="store_true", help="calendar-month walk-forward instead of one run")
    bt.add_argument(
        "--strategy",
        metavar="NAME[,SYMBOL=NAME...]",
        help="strategy of every symbol (weighted-signal or mtf-pullback), and per symbol with SYMBOL=NAME, e.g. "
        "weighted-signal,DOGEUSDT=mtf-pullback (default: STRATEGY, per symbol STRATEGY_<SYMBOL>, else weighted-signal)",
    )
    bt.add_argument("--start", help="first candle of the window (UTC date or time; single run only)")
    bt.add_argument("--end", help="last candle of the window (UTC date or time, inclusive; single run only)")
    bt.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="a parameter of the chosen strategy (repeatable; mtf-pullback: sl_mult, tp_mult, adx_threshold, …)",
    )
    d = DEFAULT_PARAMS
    bt.add_argument("--sl", type=float, default=d.atr_sl_mult, help="SL ATR multiple (default %(default)s)")
    bt.add_argument("--tp", type=float, default=d.atr_tp_mult, help="TP ATR multiple (default %(default)s)")
    bt.add_argument("--signal-threshold", type=int, default=d.signal_threshold, help="score threshold (default %(default)s)")
    bt.add_argument("--adx", type=float, default=d.adx_threshold, help="ADX gate, 0 = off (default %(default)s)")
    bt.add_argument("--vol-mult", type=float, default=d.volume_multiplier, help="volume surge multiple (default %(default)s)")
    bt.set_defaults(func=cmd_backtest)

    sw = subparsers.add_parser(
        "sweep",
        help="sweep a strategy's parameter grid (weighted signal: 324 combinations walk-forward; MTF pullback: 162)",
        description=(
            "Run every combination of a strategy's grid and rank them by profit factor; combinations with fewer than "
            "the minimum number of trades rank last. The weighted-signal sweep runs walk-forward on the account with "
            "ML off; the MTF pullback sweep runs one period (--start/--end) of one symbol in basis points per unit."
        ),
    )
    _add_data_args(sw)
    sw.add_argument("--strategy", choices=("weighted-signal", "mtf-pullback"), default=None,
                    help="strategy whose grid is swept (default: the symbol's configured strategy, STRATEGY_<SYMBOL> "
                         "then STRATEGY, else weighted-signal; this flag wins over both)")  # fmt: skip
    sw.add_argument("--start", help="mtf-pullback: first candle of the period (UTC date or time)")
    sw.add_argument("--end", help="mtf-pullback: last candle of the period (UTC date or time, inclusive)")
    sw.add_argument("--workers", type=int, default=None,
                    help="weighted-signal: worker processes (default: 1, more only when the sweep is long enough to "
                         "pay for starting them; 1 = in-process)")  # fmt: skip
    sw.add_argument("--min-trades", type=int, default=20, help="rank combos with fewer trades last (default %(default)s)")
    sw.add_argument("--top", type=int, default=10, help="rows to print (default %(default)s)")
    sw.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sw.set_defaults(func=cmd_sweep)


# ------------------------------------------------------------------------------------------------- shared steps


def _symbols(args: argparse.Namespace) -> list[str]:
    from trader_runtime.market.symbols import normalize_symbol

    raw = [x.strip() for x in args.symbols.split(",") if x.strip()] if getattr(args, "symbols", None) else [args.symbol]
    if not raw:
        raise ConfigError("--symbols lists no symbol; give e.g. XRPUSDT,DOGEUSDT")
    try:
        out = [normalize_symbol(x) for x in raw]
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    if len(set(out)) != len(out):
        raise ConfigError(f"--symbols={args.symbols} lists a symbol twice")
    return out


def strategy_names(spec: str | None, symbols: list[str], env: dict[str, str] | None = None) -> dict[str, str]:
    """Each symbol's strategy: `--strategy NAME[,SYMBOL=NAME...]` when given, else the trader's configuration
    (`STRATEGY_<SYMBOL>` > `STRATEGY` > weighted-signal, from the environment and ./.env)."""
    from trader_runtime.config import _read_dotenv
    from trader_runtime.strategy.registry import DEFAULT_STRATEGY, get_strategy

    def name_of(raw: str, where: str) -> str:
        try:
            return get_strategy(raw).name
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    if spec is None:
        merged = {**_read_dotenv(), **os.environ} if env is None else env
        default = name_of(merged.get("STRATEGY") or DEFAULT_STRATEGY, "STRATEGY")
        return {s: name_of(merged[f"STRATEGY_{s}"], f"STRATEGY_{s}") if merged.get(f"STRATEGY_{s}") else default
                for s in symbols}  # fmt: skip
    default, per_symbol = DEFAULT_STRATEGY, {}
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        sym, sep, name = item.rpartition("=")
        if not sep:
            default = name_of(name, f"--strategy {item}")
            continue
        sym = sym.strip().upper()
        if sym not in symbols:
            raise ConfigError(f"--strategy {item}: {sym} is not backtested here; symbols: {', '.join(symbols)}")
        per_symbol[sym] = name_of(name.strip(), f"--strategy {item}")
    return {s: per_symbol.get(s, default) for s in symbols}


def _kill_reset(value: str) -> int | None:
    if value == "never":
        return None
    head, _, days = value.partition(":")
    if head == "after" and days.isdigit() and 0 <= int(days) <= 100_000:
        return int(days)
    raise ConfigError(f"--kill-reset={value!r}; allowed: never, or after:<days> (e.g. after:7)")


def _config(args: argparse.Namespace, params: StrategyParams) -> BacktestConfig:
    from trader_runtime.backtest.rules import EngineRules
    from trader_runtime.market.symbols import exchange_lot_steps

    symbols = _symbols(args)
    if getattr(args, "data_dir", None) is not None and args.data is not None:
        raise ConfigError("give either --data (one file) or --data-dir (one file per symbol), not both")
    if len(symbols) > 1 and args.data is not None:
        raise ConfigError("several --symbols need --data-dir (one parquet per symbol), not --data")
    return BacktestConfig(
        symbol=symbols[0],
        symbols=tuple(symbols) if len(symbols) > 1 else (),
        kill_reset_days=_kill_reset(getattr(args, "kill_reset", "never")),
        tp_fee_pct=getattr(args, "tp_fee", None),
        params=params,
        initial_balance=args.balance,
        leverage=args.leverage,
        fee_pct=args.fee,
        slippage_pct=args.slippage,
        quantity_step=0.1 if args.qty_step is None else args.qty_step,
        quantity_steps=() if args.qty_step is not None else exchange_lot_steps(symbols),
        rules=EngineRules.legacy() if args.legacy else EngineRules(),
    )


def _wf_config(args: argparse.Namespace) -> WalkForwardConfig:
    return WalkForwardConfig(args.train_months, args.test_months, args.step_months)


#: StrategyParams field -> the backtest flag that sets it (for error messages)
PARAM_FLAGS = {"atr_sl_mult": "--sl", "atr_tp_mult": "--tp", "signal_threshold": "--signal-threshold",
               "adx_threshold": "--adx", "volume_multiplier": "--vol-mult"}  # fmt: skip


def _strategy_params(args: argparse.Namespace) -> StrategyParams:
    try:
        return StrategyParams(atr_sl_mult=args.sl, atr_tp_mult=args.tp, signal_threshold=args.signal_threshold,
                              adx_threshold=args.adx, volume_multiplier=args.vol_mult)  # fmt: skip
    except ConfigError as exc:
        name, _, rest = str(exc).partition("=")
        raise ConfigError(f"{PARAM_FLAGS.get(name, name)}={rest}") from None


def _validate(args: argparse.Namespace) -> None:
    """Every flag shared by backtest and sweep, before anything is read or written."""
    check.int_range("--days", args.days, 1, 3650)
    for flag, value in (("--train-months", args.train_months), ("--test-months", args.test_months)):
        check.int_range(flag, value, 1, 120)
    if args.step_months is not None:
        check.int_range("--step-months", args.step_months, 1, 120)
    check.float_range("--balance", args.balance, 0, 1e12, lo_open=True)
    check.int_range("--leverage", args.leverage, 1, 125)
    check.float_range("--fee", args.fee, 0, 5)
    check.float_range("--slippage", args.slippage, 0, 5)
    if args.qty_step is not None:
        check.float_range("--qty-step", args.qty_step, 0, 1e9, lo_open=True)
    if args.json_out is not None:
        check.creatable_file("--json", args.json_out)


def _load_market(args: argparse.Namespace, symbol: str) -> tuple[pd.DataFrame, str]:
    """The gated combined frame and a description of its source."""
    if args.data is None:
        from trader_runtime.market.synthetic import generate_market

        if not 1 <= args.days <= 3650:
            raise ConfigError(f"--days={args.days} is out of range; allowed [1, 3650]")
        return generate_market(symbol, args.days, args.seed).combined, f"synthetic(days={args.days}, seed={args.seed})"
    admitted = check.market_file("--data", args.data)
    for note in admitted.notes():
        print(f"data: {note}")
    return admitted.frame, str(args.data)


def _load_markets(args: argparse.Namespace, cfg: BacktestConfig, prepare=None) -> tuple[list, str]:
    """Every symbol's prepared market (from --data-dir, --data or the synthetic market) and a source description.
    All files are checked before any is read, so a bad path fails fast with nothing written. `prepare(frame, cfg,
    source)` defaults to the weighted strategy's preparation."""
    _prepare = prepare or _prepare_weighted
    symbols = cfg.symbol_list
    if args.data_dir is None:
        if len(symbols) == 1:
            frame, source = _load_market(args, symbols[0])
            return [_prepare(frame, cfg, source)], source
        from trader_runtime.market.synthetic import generate_market

        if not 1 <= args.days <= 3650:
            raise ConfigError(f"--days={args.days} is out of range; allowed [1, 3650]")
        ms = [_prepare(generate_market(sym, args.days, args.seed + k).combined, replace(cfg, symbol=sym), sym)
              for k, sym in enumerate(symbols)]  # fmt: skip
        return ms, f"synthetic(days={args.days}, seed={args.seed}+k)"
    if not args.data_dir.is_dir():
        raise DataError(f"--data-dir {args.data_dir} is not a folder")
    paths = {sym: args.data_dir / f"{sym.lower()}_combined_15m.parquet" for sym in symbols}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise DataError(f"data file(s) not found: {', '.join(missing)}")
    out = []
    for sym, path in paths.items():
        frame = check.market_file("--data-dir", path).frame  # the data gate every entry point uses
        out.append(_prepare(frame, replace(cfg, symbol=sym), str(path)))
    return out, str(args.data_dir)


def _prepare_weighted(frame: pd.DataFrame, cfg: BacktestConfig, source: str):
    from trader_runtime.strategy.pipeline import prepare_market

    try:
        return prepare_market(frame, cfg.symbol)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None


def _fmt(value: Any, nd: int = 2) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:,.{nd}f}"
    return str(value)


# ------------------------------------------------------------------------------------------------------ backtest


def cmd_backtest(args: argparse.Namespace) -> int:
    from trader_runtime.backtest.engine import run_backtest
    from trader_runtime.backtest.serialization import write_json
    from trader_runtime.backtest.walk_forward import run_walk_forward

    _validate(args)
    names = strategy_names(args.strategy, _symbols(args))
    if set(names.values()) == {"mtf-pullback"}:
        from trader_runtime.cli.mtf_backtest import cmd_mtf_backtest

        return cmd_mtf_backtest(args, _config, _wf_config, _load_markets, print_backtest)
    if len(set(names.values())) > 1:
        from trader_runtime.cli.mixed_backtest import cmd_mixed_backtest

        return cmd_mixed_backtest(args, names, _strategy_params(args), _config, _wf_config, _load_markets, print_backtest)
    if args.param:
        raise ConfigError("--param applies to --strategy mtf-pullback; use --sl/--tp/--signal-threshold/--adx/--vol-mult")
    params = _strategy_params(args)
    cfg = _config(args, params)
    wf = _wf_config(args) if args.walk_forward else None
    window = _window(args, wf)
    markets, source = _load_markets(args, cfg)
    if len(markets) > 1:
        from trader_runtime.backtest.portfolio import run_portfolio, run_portfolio_walk_forward

        result = run_portfolio_walk_forward(markets, cfg, wf) if wf is not None else run_portfolio(markets, cfg, window=window)
    else:
        prepared = markets[0]
        result = run_walk_forward(prepared, cfg, wf) if wf is not None else run_backtest(prepared, cfg, window=window)
    first, last = min(m.index[0] for m in markets), max(m.index[-1] for m in markets)
    print_backtest(result, source, markets, wf)
    if args.json_out is not None:
        payload = result.to_dict()
        payload["data"] = {"source": source, "first": first, "last": last}
        payload["figures"] = _risk_figures(result)
        if wf is not None:
            payload["walk_forward"] = {"train_months": wf.train_months, "test_months": wf.test_months, "step_months": wf.step}
        write_json(args.json_out, payload)
        print(f"saved {args.json_out}")
    return 0


def _window(args: argparse.Namespace, wf: WalkForwardConfig | None):
    """--start/--end as a tradable window [start, end + 15 min) of a single run (indicators use all history)."""
    from trader_runtime.backtest.engine import Window
    from trader_runtime.cli.mtf_backtest import parse_time

    start, end = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    if start is None and end is None:
        return None
    if wf is not None:
        raise ConfigError("--start/--end apply to a single run, not to --walk-forward")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--end={args.end} is before --start={args.start}")
    lo = start if start is not None else pd.Timestamp.min.tz_localize("UTC")
    hi = end + pd.Timedelta(minutes=15) if end is not None else pd.Timestamp.max.tz_localize("UTC")
    return Window(lo, hi)


def _risk_figures(result) -> dict:
    """Sortino, Calmar, SQN, longest drawdown and breakdowns of this result (same code as the weekly report)."""
    from trader_runtime.backtest.figures import risk_figures

    data = result.to_dict()
    trades = pd.DataFrame(data["trades"]) if data["trades"] else pd.DataFrame({"net_pnl": [], "close_reason": [], "symbol": []})
    return risk_figures(trades, data["equity_daily"], float(result.config.initial_balance))


def print_backtest(result, source: str, markets: list, wf: WalkForwardConfig | None, strategy_text: str | None = None) -> None:
    """The account report; `strategy_text` replaces the weighted strategy's parameter list (other strategies)."""
    cfg = result.config
    s = result.summary
    p = cfg.params
    out = sys.stdout
    rules = "legacy (reference bugs on)" if cfg.rules.is_legacy else "platform default"
    names = ",".join(cfg.symbol_list)
    print(f"== backtest {names} ({'walk-forward' if wf else 'single run'}, rules: {rules})", file=out)
    for m in markets:
        print(f"data      {m.symbol} {source}  {m.index[0]} → {m.index[-1]}  ({len(m)} candles)", file=out)
    if wf is not None:
        print(f"windows   train {wf.train_months} / test {wf.test_months} / step {wf.step} months, {len(result.folds)} folds", file=out)
    strategy = strategy_text or (
        f"SL {p.atr_sl_mult}×ATR  TP {p.atr_tp_mult}×ATR  signal {p.signal_threshold}  ADX {p.adx_threshold}"
        f"  vol {p.volume_multiplier}×"
    )
    print(
        f"params    {strategy}  | balance {cfg.initial_balance:g}  {cfg.leverage}×  fee {cfg.fee_pct}%"
        f"  slip {cfg.slippage_pct}%",
        file=out,
    )
    legacy = s["legacy_metrics"]
    rows = [
        ("trades", s["total_trades"]),
        ("profit factor", s["profit_factor"]),
        ("win rate %", s["win_rate"]),
        ("net PnL USDT", s["total_pnl"]),
        ("return %", s["return_pct"]),
        ("max drawdown % (mark-to-market equity)", s["max_drawdown_pct"]),
        ("sharpe (daily equity returns, √365)", s["sharpe"]),
        ("max drawdown % (per trade, ref.)", legacy["max_drawdown_pct"]),
        ("sharpe (per trade ×√35040, ref.)", legacy["sharpe_ratio"]),
        ("payoff ratio", s["payoff_ratio"]),
        ("max consecutive losses", s["max_consecutive_losses"]),
        ("fees USDT", s["total_fees"]),
        ("funding USDT (+ received, − paid)", s.get("total_funding", 0.0)),
        ("liquidations", s.get("liquidations", 0)),
        ("final equity USDT", s.get("final_equity")),
        ("lowest equity USDT", s.get("min_equity")),
    ]
    for name, value in rows:
        print(f"  {name:<40}{_fmt(value)}", file=out)
    n = max(int(s["total_trades"]), 1)
    reasons = ", ".join(f"{k} {v} ({v / n * 100:.0f}%)" for k, v in s["close_reasons"].items()) or "-"
    print(f"  {'close reasons':<40}{reasons}", file=out)
    figures = _risk_figures(result)
    from trader_runtime.backtest.figures import figure_lines

    for name, text in figure_lines(figures):
        print(f"  {name:<40}{text}", file=out)
    for title, key in (("by exit reason", "by_exit_reason"), ("by symbol", "by_symbol")):
        groups = figures[key]
        if groups:
            print(f"\n  {title:<14}{'trades':>7}{'win %':>8}{'net PnL':>11}{'PF':>7}", file=out)
            for name, g in groups.items():
                print(f"  {name:<14}{g['trades']:>7}{_fmt(g['win_rate'], 1):>8}{_fmt(g['net_pnl']):>11}"
                      f"{_fmt(g['profit_factor']):>7}", file=out)
    if result.folds:
        print(f"\n  {'fold':>4}  {'test period':<25}{'trades':>7}{'PnL':>10}{'WR %':>7}{'PF':>7}{'MDD %':>7}  halt", file=out)
        for f in result.folds:
            fs = f.summary
            halt = f.halts["kill_switch"] or ("daily limit" if f.halts["daily_limit_days"] else "")
            if f.model_used is False:
                halt = (halt + " no-model").strip()
            period = f"{f.test_start:%Y-%m-%d %H:%M} → {f.test_end:%m-%d}"
            print(
                f"  {f.fold:>4}  {period:<25}{fs['total_trades']:>7}{_fmt(fs['total_pnl']):>10}"
                f"{_fmt(fs['win_rate'], 1):>7}{_fmt(fs['profit_factor']):>7}{_fmt(fs['max_drawdown_pct']):>7}  {halt}",
                file=out,
            )
    if len(result.per_symbol) > 1:
        print(f"\n  {'symbol':<10}{'trades':>7}{'WR %':>7}{'PF':>7}{'PnL':>10}{'fees':>9}{'funding':>9}  close reasons", file=out)
        for sym, ps in result.per_symbol.items():
            rs = ", ".join(f"{k} {v}" for k, v in ps["close_reasons"].items()) or "-"
            print(
                f"  {sym:<10}{ps['total_trades']:>7}{_fmt(ps['win_rate'], 1):>7}{_fmt(ps['profit_factor']):>7}"
                f"{_fmt(ps['total_pnl']):>10}{_fmt(ps['total_fees']):>9}{_fmt(ps['total_funding']):>9}  {rs}",
                file=out,
            )
    if result.halted_periods:
        print("\n  halted periods (no new entries; open positions keep their exits)" if not cfg.rules.is_legacy
              else "\n  halted periods", file=out)  # fmt: skip
        for h in result.halted_periods:
            print(f"  {h['scope']:<10}{h['kind']:<20}{h['start']:%Y-%m-%d %H:%M} → {h['end']:%Y-%m-%d %H:%M}  ({h['days']} days)", file=out)
    v = result.validation
    failed = [c["name"] for c in v["checks"] if not c["passed"]]
    print(f"\nvalidation {v['overall']}" + (f" (failed: {', '.join(failed)})" if failed else ""), file=out)
    print("  (PASS: every required check holds; WARN: only advisory checks fail; FAIL: a required check fails)", file=out)


# --------------------------------------------------------------------------------------------------------- sweep


def _sweep_strategy(args: argparse.Namespace) -> str:
    """`--strategy` when given, else the strategy the trader would run the swept symbols with (one grid per sweep)."""
    if args.strategy is not None:
        return args.strategy
    names = strategy_names(None, _symbols(args))
    if len(set(names.values())) > 1:
        listed = ", ".join(f"{s}={n}" for s, n in sorted(names.items()))
        raise ConfigError(f"the swept symbols are configured with different strategies ({listed}); choose one with --strategy")
    return next(iter(names.values()))


def cmd_sweep(args: argparse.Namespace) -> int:
    from trader_runtime.backtest.serialization import write_json
    from trader_runtime.backtest.sweep import run_sweep

    _validate(args)
    if args.min_trades < 0:
        raise ConfigError(f"--min-trades={args.min_trades} must be >= 0")
    check.int_range("--top", args.top, 0, 100_000)
    if _sweep_strategy(args) == "mtf-pullback":
        from trader_runtime.cli.mtf_sweep import cmd_mtf_sweep

        return cmd_mtf_sweep(args, _load_market)
    if args.start is not None or args.end is not None:
        raise ConfigError("--start/--end apply to --strategy mtf-pullback; the weighted-signal sweep is walk-forward over all data")
    cfg = _config(args, DEFAULT_PARAMS)
    wf = _wf_config(args)
    if args.workers is not None and (args.workers < 1 or args.workers > 64):
        raise ConfigError(f"--workers={args.workers} is out of range; allowed [1, 64]")
    markets, source = _load_markets(args, cfg)
    prepared = markets[0] if len(markets) == 1 else markets
    result = run_sweep(prepared, cfg, wf, workers=args.workers, min_trades=args.min_trades, progress=not args.no_progress)
    rules = "legacy" if cfg.rules.is_legacy else "platform default"
    first, last = min(m.index[0] for m in markets), max(m.index[-1] for m in markets)
    print(
        f"== sweep {','.join(cfg.symbol_list)} (one account): {len(result.rows)} combos, walk-forward {wf.train_months}/{wf.test_months} step "
        f"{wf.step} ({result.folds} folds), rules {rules}, ranked with >= {result.min_trades} trades first"
    )
    print(f"data {source}  {first} → {last}")
    header = f"{'rank':>4} {'SL':>4} {'TP':>4} {'sig':>3} {'ADX':>4} {'vol':>4} {'trades':>6} {'WR %':>6} {'PF':>6} {'MDD %':>6} {'PnL':>9} {'sharpe':>7}"
    print(header)
    for row in result.top(args.top):
        pr, s = row["params"], row["summary"]
        mark = "  CURRENT" if row["current"] else ""
        low = "" if row["meets_min_trades"] else "  (<min trades)"
        print(
            f"{row['rank']:>4} {pr['atr_sl_mult']:>4} {pr['atr_tp_mult']:>4} {pr['signal_threshold']:>3} "
            f"{pr['adx_threshold']:>4g} {pr['volume_multiplier']:>4} {s['total_trades']:>6} {_fmt(s['win_rate'], 1):>6} "
            f"{_fmt(s['profit_factor']):>6} {_fmt(s['max_drawdown_pct']):>6} {_fmt(s['total_pnl']):>9} "
            f"{_fmt(s['sharpe']):>7}{mark}{low}"
        )
    if args.json_out is not None:
        write_json(
            args.json_out,
            {
                "symbol": cfg.symbol,
                "symbols": cfg.symbol_list,
                "data": {"source": source, "first": first, "last": last},
                "walk_forward": {"train_months": wf.train_months, "test_months": wf.test_months, "step_months": wf.step},
                "rules": cfg.rules.as_dict(),
                "min_trades": result.min_trades,
                "folds": result.windows,
                "rows": result.rows,
            },
        )
        print(f"saved {args.json_out} ({len(result.rows)} rows)")
    return 0
