"""`cointrader report weekly`: build the weekly strategy report (JSON + HTML + Discord text) from the command line.

Offered by `cointrader` through the `cointrader.commands` entry point; the module imports only argparse so the
root help stays fast, the report code (`cointrader_pipelines.reporting`) is imported inside the command.
Market data: a combined 15m parquet file (`--data`, one symbol), a warehouse (`--warehouse`), or by default the
same market the `weekly_report` asset reads: the pipelines' warehouse (COINTRADER_WAREHOUSE) when it exists, else
the synthetic market the pipelines generate (COINTRADER_SYNTHETIC_DAYS / _SEED). The week is decided by
`reporting.weekly.resolve_report_window`, as in the asset, so both give the same report for the same date. The journal is only read (SQLite `mode=ro`); a missing journal gives a partial report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

LS_FILE = "{symbol}_ls_ratio_15m.parquet"


def register(subparsers: argparse._SubParsersAction) -> None:
    rep = subparsers.add_parser("report", help="weekly strategy report", description="Reports built from the core.")
    sub = rep.add_subparsers(dest="report_command", metavar="REPORT")
    wk = sub.add_parser(
        "weekly",
        help="the weekly strategy report (walk-forward, live statistics, trend, kill switch, ML checklist)",
        description=(
            "Build the weekly strategy report for the week ending on --date (Sunday 03:00 in --timezone): "
            "walk-forward backtest per symbol, live statistics from the runtime journal (read-only), trend, "
            "kill-switch monitoring, ML retraining checklist and, when PF < 1, suggested parameter alternatives. "
            "Writes report_DATE.json and report_DATE.html to --out and prints the Discord summary."
        ),
    )
    wk.add_argument("--date", type=dt.date.fromisoformat, help="report date YYYY-MM-DD (default: the latest "
                    "scheduled report date covered by the data and the clock)")  # fmt: skip
    wk.add_argument("--symbol", action="append", help="traded symbol; repeat for several (default: SYMBOLS)")
    wk.add_argument("--data", type=Path, help="combined 15m parquet file of the (single) symbol")
    wk.add_argument("--ls-dir", type=Path, help="folder with {xrp,btc,eth}usdt_ls_ratio_15m.parquet files")
    wk.add_argument("--warehouse", type=Path, help="read candles and L/S ratios from this DuckDB warehouse (default: "
                    "COINTRADER_WAREHOUSE when it exists, as the Dagster weekly_report asset does)")  # fmt: skip
    wk.add_argument("--days", type=int, help="use a synthetic market of this many days (default, when there is "
                    "no warehouse: COINTRADER_SYNTHETIC_DAYS, 150)")  # fmt: skip
    wk.add_argument("--seed", type=int, help="synthetic market seed (default COINTRADER_SYNTHETIC_SEED, 42)")
    wk.add_argument("--journal", type=Path,
                    help="runtime journal (default: COINTRADER_JOURNAL or journal/trader-<COINTRADER_MODE>.sqlite)")
    wk.add_argument("--out", type=Path, help="report folder (default: COINTRADER_REPORT_DIR or results/weekly)")
    wk.add_argument("--timezone", help="report timezone (default: WEEKLY_REPORT_TIMEZONE or Asia/Seoul)")
    wk.add_argument("--production-params", action="store_true",
                    help="use the documented production parameters 1.5/4.0/3/25/2.5 instead of the environment's")  # fmt: skip
    wk.add_argument("--no-sweep", action="store_true", help="never run the PF < 1 parameter sweep")
    wk.add_argument("--notify", action="store_true", help="also post the summary to DISCORD_WEBHOOK_URL")
    wk.set_defaults(func=cmd_weekly)
    rep.set_defaults(func=lambda args: rep.print_help() or 2)


def _markets(args: argparse.Namespace, symbols: list[str], pipeline: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(combined frames, L/S frames keyed xrp/btc/eth) from the chosen source; `pipeline` = the pipelines'
    settings, whose warehouse and synthetic market are the defaults (what the weekly_report asset reads)."""
    import pandas as pd

    from trader_runtime.cli import validation as check
    from trader_runtime.errors import ConfigError

    ls_keys = {"XRPUSDT": "xrp", "BTCUSDT": "btc", "ETHUSDT": "eth"}
    if sum(x is not None for x in (args.data, args.warehouse)) > 1:
        raise ConfigError("--data and --warehouse are alternatives; pass one of them")
    synthetic = args.days is not None or args.seed is not None
    if args.days is not None:
        check.int_range("--days", args.days, 1, 3650)
    warehouse = args.warehouse
    if warehouse is None and args.data is None and not synthetic and Path(pipeline.warehouse_path).is_file():
        warehouse = Path(pipeline.warehouse_path)
    if warehouse is not None:
        from trader_runtime.storage.warehouse import Warehouse

        flag = "--warehouse" if args.warehouse is not None else "COINTRADER_WAREHOUSE"
        wh = Warehouse(check.warehouse(flag, warehouse, must_exist=True))
        return {s: wh.read_candles(s) for s in symbols}, {k: wh.read_ls_ratio(s) for s, k in ls_keys.items()}
    ls: dict[str, Any] = {}
    if args.ls_dir is not None:
        check.existing_dir("--ls-dir", args.ls_dir)
        for sym, key in ls_keys.items():
            path = args.ls_dir / LS_FILE.format(symbol=sym.lower())
            if path.exists():
                ls[key] = pd.read_parquet(path)
    if args.data is not None:
        if len(symbols) != 1:
            raise ConfigError(f"--data holds one symbol; got --symbol {symbols}")
        return {symbols[0]: check.market_file("--data", args.data).frame}, ls
    from trader_runtime.market.synthetic import generate_market

    days = args.days if args.days is not None else pipeline.synthetic_days
    seed = args.seed if args.seed is not None else pipeline.synthetic_seed
    end = pd.Timestamp(pipeline.synthetic_end)
    generated = {s: generate_market(s, days, seed, end=end if end.tzinfo else end.tz_localize("UTC")) for s in symbols}
    for sym, market in generated.items():
        if sym in ls_keys and ls_keys[sym] not in ls:
            ls[ls_keys[sym]] = market.ls_ratio
    return {s: m.combined for s, m in generated.items()}, ls


def cmd_weekly(args: argparse.Namespace) -> int:
    import pandas as pd

    from cointrader_pipelines.reporting.weekly import build_weekly_report, resolve_report_window
    from cointrader_pipelines.reporting.weekly_run import (
        configured_strategies,
        default_journal_path,
        prepare_weekly_inputs,
        publish_weekly_report,
    )
    from cointrader_pipelines.settings import get_settings
    from trader_runtime.cli import validation as check
    from trader_runtime.config import PRODUCTION_PARAMS, load_runtime_settings

    runtime = load_runtime_settings()
    pipeline = get_settings()
    symbols = [check.symbol("--symbol", s) for s in (args.symbol or runtime.symbol_list)]
    timezone = check.timezone("--timezone" if args.timezone else "WEEKLY_REPORT_TIMEZONE",
                              args.timezone or pipeline.weekly_timezone)  # fmt: skip
    out = check.creatable_dir("--out" if args.out else "COINTRADER_REPORT_DIR", args.out or pipeline.report_dir)
    journal = check.journal("--journal", args.journal or default_journal_path(runtime), must_exist=False)
    params = {s: PRODUCTION_PARAMS if args.production_params else runtime.params_for(s) for s in symbols}
    frames, ls = _markets(args, symbols, pipeline)
    window = resolve_report_window(frames, timezone, args.date)
    started = time.perf_counter()
    strategies, mtf_params = configured_strategies(runtime, symbols)
    inputs = prepare_weekly_inputs(window, frames, params, out, journal, ls_ratios=ls, sweep=not args.no_sweep,
                                   strategies=strategies, mtf_params=mtf_params)  # fmt: skip
    report = build_weekly_report(inputs, pd.Timestamp.now(tz="UTC"))
    outputs = publish_weekly_report(report, out)
    print(outputs.summary_text)
    print(f"\nreport {report.report_date} ({report.status}) in {time.perf_counter() - started:.1f} s")
    print(f"  json: {outputs.json_path}\n  html: {outputs.html_path}")
    if args.notify:
        from trader_runtime.service.notifier import Notifier

        notifier = Notifier(runtime.discord_webhook_url.get_secret_value() or None, tag="REPORT")
        notifier.send(outputs.summary_text)
        notifier.close()
        print("  discord: sent" if notifier.enabled else "  discord: DISCORD_WEBHOOK_URL is not set, nothing sent")
    return 0
