"""`cointrader data bulk|export|purge`: deep history from Binance's public archive, taking data out, removing a
source's rows. Parse, validate everything, then call the importer; nothing is written before validation."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from trader_runtime.cli import validation as check
from trader_runtime.cli.warehouse_option import add_warehouse_option, warehouse_path
from trader_runtime.errors import ConfigError, TemporaryExchangeError

def register_actions(actions: argparse._SubParsersAction) -> None:
    """Add `bulk`, `export` and `purge` to the `data` command group."""
    bulk = actions.add_parser(
        "bulk",
        help="import years of klines, funding and 5-minute metrics from Binance's public archive",
        description=(
            "Import Binance USD-M public archive files (15m klines, monthly funding rates, daily 5-minute metrics: "
            "open interest and long/short ratios) for the named symbols; BTCUSDT and ETHUSDT klines come along for "
            "the combined table. SOURCE is a local mirror folder (holding monthly/ and daily/, or data/futures/um/) "
            "or a base URL such as https://data.binance.vision/data/futures/um/. Every zip is checked against its "
            ".CHECKSUM before use; a refused file writes nothing, is reported, and makes the exit code 2 while the "
            "verified files are kept. Files imported before are not read again; a run picks up late files. "
            "Prints the coverage per symbol, month and data type."
        ),
    )
    bulk.add_argument("--source", required=True, help="mirror folder or base URL of the archive")
    bulk.add_argument("--symbols", required=True, help="comma-separated traded symbols, e.g. XRPUSDT,DOGEUSDT")
    bulk.add_argument("--from", dest="first", default="2022-01", help="first month YYYY-MM (default 2022-01)")
    bulk.add_argument("--to", dest="last", help="last month YYYY-MM (default: the current month)")
    add_warehouse_option(bulk)
    bulk.set_defaults(func=cmd_bulk)

    export = actions.add_parser(
        "export",
        help="write a symbol's combined 15m table to a Parquet file",
        description=(
            "Write the combined 15m table of SYMBOL (timestamp index in UTC, open..volume, *_btc, *_eth, oi_change, "
            "funding_rate; missing OI/funding as NaN) to a Parquet file in the schema of the collector's files. "
            "Only candles that have their BTC/ETH candles are written (as in the combined table). --start/--end "
            "bound the open times (UTC, end exclusive)."
        ),
    )
    export.add_argument("--symbol", required=True, help="stored symbol, e.g. XRPUSDT")
    export.add_argument("--out", required=True, type=Path, help="target .parquet file")
    export.add_argument("--start", help="first open time, e.g. 2024-01-01")
    export.add_argument("--end", help="open times before this instant, e.g. 2025-01-01")
    add_warehouse_option(export)
    export.add_argument("--metrics", action="store_true",
                        help="also write oi_value, top_acct_ls_ratio, global_ls_ratio and taker_ls_vol_ratio: the "
                             "imported 5-minute metrics at each candle's close (inputs of the ML features)")
    export.set_defaults(func=cmd_export)

    purge = actions.add_parser(
        "purge",
        help="delete every stored row of a symbol that came from one source",
        description=(
            "Delete the candles, L/S ratios, funding settlements and metrics of SYMBOL written by SOURCE "
            "(bulk, rest, parquet, synthetic, or unknown for rows stored before sources were recorded), e.g. "
            "synthetic rows before importing real data."
        ),
    )
    purge.add_argument("--symbol", required=True, help="stored symbol, e.g. XRPUSDT")
    purge.add_argument("--source", required=True, choices=["bulk", "rest", "parquet", "synthetic", "unknown"])
    add_warehouse_option(purge)
    purge.set_defaults(func=cmd_purge)


def cmd_bulk(args: argparse.Namespace) -> int:
    from trader_runtime.market.bulk.importer import BulkImporter, BulkRequest
    from trader_runtime.market.bulk.layout import Month
    from trader_runtime.market.bulk.store import open_store
    from trader_runtime.storage.warehouse import Warehouse

    now = pd.Timestamp.now(tz="UTC")
    symbols = tuple(check.symbol_list("--symbols", args.symbols))
    first = Month.parse(args.first)
    last = Month.parse(args.last) if args.last else Month.of(now)
    if last > Month.of(now):
        raise ConfigError(f"--to {last} is in the future; the archive ends with yesterday")
    request = BulkRequest(symbols, first, last)
    store = open_store(args.source)
    warehouse = Warehouse(warehouse_path(args, must_exist=False))
    importer = BulkImporter(store, warehouse, now, progress=lambda line: print(line, flush=True))
    print(f"importing {', '.join(request.kline_symbols)} klines and {', '.join(symbols)} funding + metrics, "
          f"{first} .. {last}, from {args.source} into {warehouse.path}")
    try:
        with warehouse:
            report = importer.run(request)
    except TemporaryExchangeError as exc:
        print(f"error: {exc}; the files verified so far are kept, run again to continue")
        return 1
    print("\n".join(report.lines()))
    if report.rejected:
        print(f"{len(report.rejected)} file(s) refused; nothing from them was written")
    return report.exit_code


def cmd_export(args: argparse.Namespace) -> int:
    from trader_runtime.market.bulk.export import combined_table
    from trader_runtime.storage.warehouse import Warehouse

    symbol = check.symbol("--symbol", args.symbol)
    check.creatable_file("--out", args.out, ".parquet")
    start, end = check.utc_time("--start", args.start), check.utc_time("--end", args.end)
    check.time_window(start, end)
    warehouse = Warehouse(warehouse_path(args, must_exist=True))
    frame = combined_table(warehouse, symbol, start, end, with_metrics=args.metrics)
    if frame.empty:
        from trader_runtime.errors import DataError

        raise DataError(f"no combined candles for {symbol} in {warehouse.path}; stored symbols: {warehouse.symbols()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(args.out)
    oi = frame["oi_change"].notna().mean() if "oi_change" in frame else 0.0
    funding = frame["funding_rate"].notna().mean() if "funding_rate" in frame else 0.0
    print(f"wrote {args.out} [{symbol}]: {len(frame)} candles {frame.index[0]} .. {frame.index[-1]}, "
          f"oi_change {oi:.1%}, funding_rate {funding:.1%}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from trader_runtime.storage.warehouse import Warehouse

    symbol = check.symbol("--symbol", args.symbol)
    warehouse = Warehouse(warehouse_path(args, must_exist=True))
    removed = warehouse.purge_source(symbol, args.source)
    print(f"removed {args.source} rows of {symbol} from {warehouse.path}: "
          + ", ".join(f"{table} {n}" for table, n in removed.items()))
    return 0
