"""`cointrader data ...`: import Parquet files, synthesise a market, check the stored data. Parse, call, print."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from trader_runtime.cli import validation as check
from trader_runtime.cli.warehouse_option import add_warehouse_option, warehouse_path
from trader_runtime.domain.provenance import DataSource, new_batch_id
from trader_runtime.domain.schema import BAR
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.market.quality import QualityReport, admit_candles, quality_report
from trader_runtime.market.synthetic import DEFAULT_END, generate_market
from trader_runtime.storage.warehouse import Warehouse

logger = logging.getLogger(__name__)

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `data` command group to the root parser."""
    data = subparsers.add_parser(
        "data",
        help="import, synthesise and check 15m market data",
        description="Market data in the embedded DuckDB warehouse: the combined 15m table and L/S ratios per symbol.",
    )
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    imp = actions.add_parser(
        "import",
        help="load a Parquet file into the warehouse",
        description=(
            "Upsert a Parquet file into the warehouse. A combined 15m file (timestamp index or column, UTC, the "
            "17 columns open..volume, *_btc, *_eth, oi_change, funding_rate) goes to candles_15m; a file with "
            "timestamp, top_acct_ls_ratio, global_ls_ratio goes to ls_ratio_15m. Still-forming candles are dropped, "
            "legacy 0.0 OI/funding values are stored as missing, stored OHLCV is overwritten. A file that does not "
            "match the schema is refused and nothing is written."
        ),
    )
    imp.add_argument("path", metavar="PATH", type=Path, help="Parquet file to import")
    imp.add_argument("--symbol", required=True, help="traded symbol the file belongs to, e.g. XRPUSDT")
    add_warehouse_option(imp)
    imp.set_defaults(func=cmd_import)

    syn = actions.add_parser(
        "synth",
        help="generate a deterministic synthetic market",
        description=(
            "Generate DAYS x 96 closed 15m candles for SYMBOL with BTC/ETH columns, OI change, funding and L/S "
            "ratios (model: trader_runtime/market/synthetic.py). The same --seed gives the same data. Without "
            "--out the candles and L/S ratios are upserted into the warehouse."
        ),
    )
    syn.add_argument("--symbol", required=True, help="symbol to synthesise, e.g. XRPUSDT (unknown names work too)")
    syn.add_argument("--days", type=int, default=365, help="number of days of candles (default 365)")
    syn.add_argument("--seed", type=int, default=42, help="random seed; same seed -> same market (default 42)")
    syn.add_argument(
        "--end",
        default=DEFAULT_END.isoformat(),
        help=f"UTC time the last candle closes at, on a 15-minute boundary (default {DEFAULT_END.isoformat()})",
    )
    syn.add_argument("--out", type=Path, help="write the combined table to this .parquet file instead of the warehouse")
    add_warehouse_option(syn)
    syn.set_defaults(func=cmd_synth)

    qual = actions.add_parser(
        "quality",
        help="print the data-quality report of a stored symbol",
        description=(
            "Report duplicates, gaps, off-grid or non-UTC timestamps, a still-forming last candle, OHLC sanity "
            "violations, suspected partial candles (volume < 5% of the 96-candle median) and OI/funding coverage. "
            "Exit code 0 when clean, 1 when issues were found."
        ),
    )
    qual.add_argument("--symbol", required=True, help="stored symbol to check, e.g. XRPUSDT")
    add_warehouse_option(qual)
    qual.set_defaults(func=cmd_quality)

    from trader_runtime.cli import bulk

    bulk.register_actions(actions)


def cmd_import(args: argparse.Namespace) -> int:
    symbol = check.symbol("--symbol", args.symbol)
    path = warehouse_path(args, must_exist=False)
    frame = check.parquet_frame("PATH", args.path)
    now = pd.Timestamp.now(tz="UTC")
    ls_file = "top_acct_ls_ratio" in frame.columns or "global_ls_ratio" in frame.columns
    if ls_file and "open" not in frame.columns:  # a combined file may carry the ratios as feature inputs
        if len(frame) == 0:
            raise DataError(f"{args.path}: no rows")
        warehouse = Warehouse(path)
        batch = new_batch_id(DataSource.PARQUET, now)
        ls_result = warehouse.upsert_ls_ratio(symbol, frame, source=DataSource.PARQUET, batch=batch)
        print(f"imported {args.path} -> {warehouse.path} [{symbol} L/S ratios]: {_fmt(ls_result.as_dict())}")
        return 0
    admitted = admit_candles(frame, source=str(args.path), now=now)  # refuse before the warehouse is created
    warehouse = Warehouse(path)
    batch = new_batch_id(DataSource.PARQUET, now)
    result = warehouse.upsert_candles(symbol, admitted.frame, now=now, source=DataSource.PARQUET, batch=batch)
    print(f"imported {args.path} -> {warehouse.path} [{symbol}]: {_fmt(result.as_dict())}")
    for note in admitted.notes()[:1]:  # the gaps are in the report below
        print(f"  {note}")
    _print_report(admitted.report)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    symbol = check.symbol("--symbol", args.symbol)
    check.int_range("--days", args.days, 1, 3650)
    end = check.utc_time("--end", args.end)
    if end is not None and end.value % BAR.value:
        raise ConfigError(f"--end={args.end!r} is not on the 15-minute grid")
    path = None
    if args.out is not None:
        check.creatable_file("--out", args.out, ".parquet")
    else:
        path = warehouse_path(args, must_exist=False)
    market = generate_market(symbol, args.days, args.seed, end=end)
    frame = market.combined
    span = f"{len(frame)} candles {frame.index[0]} .. {frame.index[-1]}"
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(args.out)
        print(f"wrote {args.out} [{symbol}, seed {args.seed}]: {span}")
        return 0
    now = pd.Timestamp.now(tz="UTC")
    batch = new_batch_id(DataSource.SYNTHETIC, now)
    with Warehouse(path) as warehouse:
        result = warehouse.upsert_candles(symbol, frame, now=now, source=DataSource.SYNTHETIC, batch=batch)
        ls_result = warehouse.upsert_ls_ratio(symbol, market.ls_ratio, source=DataSource.SYNTHETIC, batch=batch)
    print(f"synthesised {symbol} (seed {args.seed}) -> {warehouse.path}: {span}")
    print(f"  candles: {_fmt(result.as_dict())}")
    print(f"  L/S ratios: {_fmt(ls_result.as_dict())}")
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    symbol = check.symbol("--symbol", args.symbol)
    warehouse = Warehouse(warehouse_path(args, must_exist=True))
    frame = warehouse.read_candles(symbol)
    if frame.empty:
        raise DataError(f"no candles for {symbol} in {warehouse.path}; stored symbols: {warehouse.symbols()}")
    report = quality_report(frame, now=pd.Timestamp.now(tz="UTC"))
    coverage = warehouse.coverage(symbol)
    print(f"{symbol} in {warehouse.path}: {report.rows} candles {report.start} .. {report.end}")
    print(
        f"  coverage: oi_change {coverage.oi_change:.1%}, funding_rate {coverage.funding_rate:.1%}, "
        f"L/S ratio rows {coverage.ls_ratio_rows}"
    )
    _print_sources(warehouse, symbol)
    _print_report(report)
    return 0 if report.ok else 1


def _print_sources(warehouse: Warehouse, symbol: str) -> None:
    """Coverage by source: which rows came from the archive, REST, a Parquet import or the synthetic market."""
    table = warehouse.coverage_by_source(symbol)
    if table.empty:
        return
    print("  by source:")
    for row in table.itertuples(index=False):
        span = f"{pd.Timestamp(row.first).tz_convert('UTC')} .. {pd.Timestamp(row.last).tz_convert('UTC')}"
        if row.kind == "candles":
            n = max(int(row.rows), 1)
            print(f"    {row.source:<9} candles {int(row.rows):>7}  {span}  oi_change {int(row.oi_change) / n:.1%}, "
                  f"funding_rate {int(row.funding_rate) / n:.1%}, {int(row.batches)} import batch(es)")
        else:
            print(f"    {row.source:<9} L/S rows {int(row.rows):>6}  {span}, {int(row.batches)} import batch(es)")


def _print_report(report: QualityReport) -> None:
    issues = report.issues()
    if not issues:
        print("  quality: ok")
        return
    print(f"  quality: {len(issues)} issue(s)")
    for line in issues:
        print(f"    - {line}")


def _fmt(values: dict[str, int]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in values.items())
