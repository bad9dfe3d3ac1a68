"""`cointrader demo`: the README's first command — the whole Dagster asset graph on the synthetic market.

Offered by `cointrader` through the `cointrader.commands` entry point. The work lives in
`cointrader_pipelines.demo`, imported inside the command so that `cointrader --help` does not load Dagster.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `demo` to the root parser."""
    demo = subparsers.add_parser(
        "demo",
        help="run the whole pipeline (data -> dataset -> training -> ONNX -> MLflow registry) offline",
        description=(
            "Materialise every Dagster asset for SYMBOL on the deterministic synthetic market: candles, open "
            "interest, funding, L/S ratios, the combined table, the ML dataset, Optuna tuning, walk-forward "
            "validation, the filter model, its ONNX export (parity-checked), ML on/off backtests with ablation, "
            "and a new MLflow model version (alias challenger; champion when the promotion gate passes). Prints "
            "each asset as it materialises and a summary. The run is stored in $DAGSTER_HOME (default "
            ".dagster_home/), so `make ui` shows it."
        ),
    )
    demo.add_argument("--symbol", default="XRPUSDT", help="configured symbol to run (default XRPUSDT)")
    demo.add_argument("--days", type=int, default=150, help="days of synthetic market (default 150)")
    demo.add_argument("--trials", type=int, default=6, help="Optuna trials (default 6)")
    demo.add_argument("--train-months", type=int, default=2, help="walk-forward backtest train months (default 2)")
    demo.add_argument("--test-months", type=int, default=1, help="walk-forward backtest test months (default 1)")
    demo.add_argument("--no-promote", action="store_true", help="never move the champion alias automatically")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from trader_runtime.cli import validation as check
    from trader_runtime.errors import ConfigError

    symbol = check.symbol("--symbol", args.symbol)
    if args.days < 90:
        raise ConfigError(f"--days={args.days}: need at least 90 days for the walk-forward folds")
    check.int_range("--days", args.days, 90, 3650)
    check.int_range("--trials", args.trials, 1, 1000)
    check.int_range("--train-months", args.train_months, 1, 36)
    check.int_range("--test-months", args.test_months, 1, 12)
    from cointrader_pipelines.settings import get_settings

    settings = get_settings()  # a bad environment value is refused here, before any store is opened
    need = _days_for_one_fold(settings.synthetic_end, args.train_months, args.test_months)
    if args.days < need:
        raise ConfigError(f"--train-months {args.train_months} + --test-months {args.test_months} do not fit in "
                          f"--days {args.days}: one walk-forward fold of the market ending {settings.synthetic_end[:10]} "
                          f"needs --days {need} or more")  # fmt: skip
    if symbol not in settings.symbol_list:
        raise ConfigError(f"--symbol {symbol} is not a configured symbol (SYMBOLS={settings.symbols})")
    check.warehouse("COINTRADER_WAREHOUSE", Path(settings.warehouse_path), must_exist=False)
    check.tracking_uri("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri, must_exist=False)
    check.creatable_dir("DAGSTER_HOME", Path(os.environ.get("DAGSTER_HOME") or ".dagster_home"))
    check.creatable_dir("COINTRADER_REPORT_DIR", Path(settings.report_dir))
    from cointrader_pipelines.demo import DemoOptions, run_demo

    return run_demo(DemoOptions(symbol=symbol, days=args.days, trials=args.trials,
                                train_months=args.train_months, test_months=args.test_months,
                                auto_promote=not args.no_promote))


def _days_for_one_fold(end: str, train_months: int, test_months: int) -> int:
    """The fewest days of synthetic market holding one walk-forward fold, decided by the backtest's own fold
    calendar (calendar months from the first candle), so the check and the run cannot disagree."""
    import pandas as pd

    from trader_runtime.backtest.portfolio import walk_forward_windows
    from trader_runtime.config import WalkForwardConfig

    last = pd.Timestamp(end) - pd.Timedelta(minutes=15)
    wf = WalkForwardConfig(train_months=train_months, test_months=test_months)
    days = 28 * (train_months + test_months)
    while not walk_forward_windows(pd.Timestamp(end) - pd.Timedelta(days=days), last, wf):
        days += 1
    return days
