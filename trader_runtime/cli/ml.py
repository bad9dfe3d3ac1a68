"""`cointrader ml walk-forward`: the filter model's walk-forward validation and the ML on/off backtest from the
command line, on a Parquet file, the warehouse or the synthetic market. Parse, validate, call, print."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from trader_runtime.cli import validation as check
from trader_runtime.errors import ConfigError, DataError


def register(subparsers: argparse._SubParsersAction) -> None:
    ml = subparsers.add_parser("ml", help="research the ML entry filter", description="ML filter research.")
    actions = ml.add_subparsers(dest="ml_command", metavar="ACTION", required=True)
    wf = actions.add_parser(
        "walk-forward",
        help="per-fold AUC, precision/recall and the ML on/off backtest",
        description=(
            "Build the ML dataset of SYMBOL, run the expanding-window walk-forward validation of the filter model and "
            "print, per fold, the AUC on signal rows (what the filter sees live) and on all rows, and precision and "
            "recall at the fold's threshold; then the calendar-month walk-forward backtest with the rule strategy "
            "alone and with a filter trained per fold. Data: --data FILE (combined 15m Parquet), --warehouse PATH "
            "(the combined table stored there, with the open-interest value, long/short and taker ratios of its imported "
            "archive metrics as features), or the synthetic market (--days, --seed)."
        ),
    )
    wf.add_argument("--symbol", default="XRPUSDT", help="traded symbol (default %(default)s)")
    src = wf.add_mutually_exclusive_group()
    src.add_argument("--data", type=Path, help="combined 15m Parquet file")
    src.add_argument("--warehouse", type=Path, help="DuckDB warehouse holding the symbol's combined table")
    wf.add_argument("--days", type=int, default=365, help="synthetic market length when no data is given (default 365)")
    wf.add_argument("--seed", type=int, default=42, help="synthetic market seed (default 42)")
    wf.add_argument("--folds", type=int, default=5, help="walk-forward validation folds (default 5)")
    wf.add_argument("--min-recall", type=float, default=0.15, help="recall floor of the threshold choice (default 0.15)")
    wf.add_argument("--train-months", type=int, default=3, help="backtest train months (default 3)")
    wf.add_argument("--test-months", type=int, default=1, help="backtest test months (default 1)")
    wf.add_argument("--params", type=Path, help="LightGBM params JSON (a tuning result or a flat object)")
    wf.add_argument("--no-backtest", action="store_true", help="skip the ML on/off backtest")
    wf.add_argument("--json", type=Path, dest="json_out", help="also write the results as JSON to this file")
    wf.set_defaults(func=cmd_walk_forward)


def _load(args: argparse.Namespace, symbol: str) -> tuple[pd.DataFrame, str]:
    if args.data is not None:
        return check.market_file("--data", args.data).frame, str(args.data)
    if args.warehouse is not None:
        from trader_runtime.market.bulk.export import combined_table
        from trader_runtime.storage.warehouse import Warehouse

        frame = combined_table(Warehouse(check.warehouse("--warehouse", args.warehouse, must_exist=True)), symbol,
                               with_metrics=True)
        if frame.empty:
            raise DataError(f"no combined candles for {symbol} in {args.warehouse}")
        return frame, str(args.warehouse)
    from trader_runtime.market.synthetic import generate_market

    if not 30 <= args.days <= 3650:
        raise ConfigError(f"--days={args.days} is out of range; allowed [30, 3650]")
    return generate_market(symbol, args.days, args.seed).combined, f"synthetic market ({args.days} days, seed {args.seed})"


def _check(args: argparse.Namespace) -> None:
    if not 2 <= args.folds <= 20:
        raise ConfigError(f"--folds={args.folds} is out of range; allowed [2, 20]")
    if not 0.0 < args.min_recall < 1.0:
        raise ConfigError(f"--min-recall={args.min_recall} must lie in (0, 1)")


def _f(value: float) -> str:
    return "  n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def cmd_walk_forward(args: argparse.Namespace) -> int:
    from trader_runtime.config import BacktestConfig, WalkForwardConfig, load_runtime_settings
    from trader_runtime.ml.params import DEFAULT_PARAMS, complete_params, read_tuned_params
    from trader_runtime.ml.training import walk_forward_validate
    from trader_runtime.strategy.dataset import DatasetParams, build_dataset
    from trader_runtime.strategy.features import OPTIONAL_FEATURES
    from trader_runtime.strategy.pipeline import prepare_market

    symbol = check.symbol("--symbol", args.symbol)
    _check(args)
    if args.json_out is not None:
        check.creatable_file("--json", args.json_out, ".json")
    wf_cfg = WalkForwardConfig(args.train_months, args.test_months)
    params = complete_params(read_tuned_params(args.params) if args.params else DEFAULT_PARAMS)
    strategy = load_runtime_settings().params_for(symbol)
    frame, source = _load(args, symbol)
    started = time.perf_counter()
    market = prepare_market(frame, symbol)
    dataset_params = DatasetParams.for_symbol(strategy)
    dataset = build_dataset(market, dataset_params)
    built = time.perf_counter() - started
    signal = dataset["source"] == "signal"
    print(f"{symbol} on {source}: {len(market)} candles {market.index[0]} .. {market.index[-1]}")
    print(f"dataset: {len(dataset)} rows ({int(signal.sum())} signal rows, {int((~signal).sum())} HOLD negatives), "
          f"built in {built:.1f}s")
    coverage = {c: float(dataset.loc[signal, c].notna().mean()) for c in dataset.columns if c in OPTIONAL_FEATURES}
    if coverage:
        print("feature coverage on signal rows: " + ", ".join(f"{c} {v:.0%}" for c, v in coverage.items()))

    result = walk_forward_validate(dataset, params, args.folds, lookahead=dataset_params.lookahead,
                                   min_recall=args.min_recall)
    print(f"\nwalk-forward validation ({result.n_folds} folds, {result.elapsed_sec:.1f}s):")
    print(f"  {'fold':>4}  {'validation period':<23} {'signal':>6} {'pos':>5} {'AUC signal':>10} {'AUC all':>8} "
          f"{'threshold':>9} {'precision':>9} {'recall':>7}")
    for f in result.folds:
        auc_sig = _f(f.auc_signal) + ("" if f.auc_signal_defined else "*")
        print(f"  {f.fold:>4}  {f.val_start_time:%Y-%m-%d} .. {f.val_end_time:%Y-%m-%d} {f.n_val_signal:>6} "
              f"{f.n_pos:>5} {auc_sig:>10} {_f(f.auc_all):>8} {_f(f.threshold):>9} {_f(f.precision):>9} "
              f"{_f(f.recall):>7}")
    m = result.metrics()
    print(f"  mean  AUC signal rows {_f(m['mean_auc_signal'])} ± {_f(m['std_auc_signal'])}, all rows "
          f"{_f(m['mean_auc_all'])} ± {_f(m['std_auc_all'])}, precision {_f(m['mean_precision'])}, "
          f"recall {_f(m['mean_recall'])}")
    if m["folds_auc_undefined"]:
        print("  * a fold whose signal rows hold one class only: its AUC is the 0.5 placeholder")
    out: dict[str, Any] = {"symbol": symbol, "source": source, "walk_forward": result.to_dict(),
                           "feature_coverage": coverage}

    if not args.no_backtest:
        from trader_runtime.ml.comparison import compare_ml

        cfg = BacktestConfig(symbol=symbol, params=strategy)
        t0 = time.perf_counter()
        comparison = compare_ml(market, cfg, wf_cfg, params, dataset_params)
        print(f"\nML on/off walk-forward backtest (train {wf_cfg.train_months} / test {wf_cfg.test_months} months, "
              f"threshold {cfg.ml_threshold}, {time.perf_counter() - t0:.1f}s):")
        print(f"  {'metric':<18} {'ML off':>10} {'ML on':>10} {'delta':>10}")
        for row in comparison.rows:
            delta = "" if row["delta"] is None else f"{row['delta']:>10.2f}"
            print(f"  {row['metric']:<18} {row['ml_off']:>10.2f} {row['ml_on']:>10.2f} {delta}")
        print(f"  verdict: {comparison.verdict}; folds without a model: {comparison.folds_without_model}")
        out["ml_comparison"] = comparison.to_dict()
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(out, indent=2, default=str))
        print(f"wrote {args.json_out}")
    return 0
