"""Candle checks (W-01, D14): no duplicate or missing 15m timestamps (gaps listed), UTC, no forming candle, sane
OHLC. They read the warehouse (pool `duckdb_warehouse`) through `market.quality.quality_report`. A forming candle
or broken OHLC blocks the run's downstream assets; gaps are reported as a warning (exchanges have outages)."""

from typing import Iterable

import dagster as dg
import pandas as pd

from trader_runtime.market.quality import QualityReport, quality_report

from cointrader_pipelines.defs.market_data.assets import combined_15m, correlation_klines, klines
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.warehouse import WAREHOUSE_POOL, WarehouseResource

MAX_LISTED = 20


def _gap_rows(report: QualityReport) -> list[str]:
    return [f"{a.isoformat()} .. {b.isoformat()} ({n} missing)" for a, b, n in report.gaps[:MAX_LISTED]]


def gaps_result(reports: dict[str, QualityReport]) -> dg.AssetCheckResult:
    """Passes when no symbol has duplicate or missing candles; lists the first gaps otherwise."""
    bad = {s: r for s, r in reports.items() if r.duplicates or r.gaps or r.rows == 0}
    meta = {f"{s}.missing_candles": r.missing_candles for s, r in reports.items()}
    meta |= {f"{s}.duplicates": len(r.duplicates) for s, r in reports.items()}
    meta |= {f"{s}.gaps": dg.MetadataValue.json(_gap_rows(r)) for s, r in bad.items()}
    return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.WARN, metadata=meta)


def utc_closed_result(reports: dict[str, QualityReport]) -> dg.AssetCheckResult:
    """Passes when every timestamp is tz-aware UTC on the 15m grid and the newest candle has closed."""
    bad = {s: r for s, r in reports.items() if r.non_utc or r.forming_candle or r.misaligned}
    meta = {f"{s}.last_candle": str(r.end) for s, r in reports.items()}
    meta |= {f"{s}.issues": dg.MetadataValue.json(r.issues()) for s, r in bad.items()}
    return dg.AssetCheckResult(passed=not bad, metadata=meta)


def ohlc_result(reports: dict[str, QualityReport]) -> dg.AssetCheckResult:
    """Passes when high >= max(open, close), low <= min(open, close), prices > 0 and volume >= 0 everywhere."""
    meta = {f"{s}.violations": len(r.ohlc_violations) for s, r in reports.items()}
    meta |= {f"{s}.first": str(r.ohlc_violations[0]) for s, r in reports.items() if r.ohlc_violations}
    meta |= {f"{s}.partial_candles": len(r.partial_candles) for s, r in reports.items()}
    return dg.AssetCheckResult(passed=not any(r.ohlc_violations for r in reports.values()), metadata=meta)


def _reports(warehouse: WarehouseResource, symbols: Iterable[str], now: pd.Timestamp) -> dict[str, QualityReport]:
    wh = warehouse.open()
    return {s: quality_report(wh.read_candles(s), now=now) for s in symbols}


_KW = dict(partitions_def=symbol_partitions, pool=WAREHOUSE_POOL)


@dg.asset_check(asset=klines, **_KW)
def klines_no_gaps(context: dg.AssetCheckExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return gaps_result(_reports(warehouse, [context.partition_key], market.open().now()))


@dg.asset_check(asset=klines, blocking=True, **_KW)
def klines_utc_closed(context: dg.AssetCheckExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return utc_closed_result(_reports(warehouse, [context.partition_key], market.open().now()))


@dg.asset_check(asset=klines, blocking=True, **_KW)
def klines_ohlc_sane(context: dg.AssetCheckExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return ohlc_result(_reports(warehouse, [context.partition_key], market.open().now()))


@dg.asset_check(asset=correlation_klines, pool=WAREHOUSE_POOL)
def correlation_no_gaps(market: MarketDataResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    return gaps_result(_reports(warehouse, market.correlation_symbols, market.open().now()))


@dg.asset_check(asset=correlation_klines, blocking=True, pool=WAREHOUSE_POOL)
def correlation_utc_closed_sane(market: MarketDataResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    reports = _reports(warehouse, market.correlation_symbols, market.open().now())
    utc, ohlc = utc_closed_result(reports), ohlc_result(reports)
    return dg.AssetCheckResult(passed=utc.passed and ohlc.passed, metadata={**utc.metadata, **ohlc.metadata})


@dg.asset_check(asset=combined_15m, partitions_def=symbol_partitions)
def combined_no_gaps(context: dg.AssetCheckExecutionContext, combined_15m: pd.DataFrame) -> dg.AssetCheckResult:
    """The inner join with BTC/ETH keeps only shared timestamps: list what it lost."""
    return gaps_result({context.partition_key: quality_report(combined_15m)})
