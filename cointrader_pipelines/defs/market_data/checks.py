"""Candle checks (W-01, D14): no duplicate or missing 15m timestamps (gaps listed), UTC, no forming candle, sane
OHLC. A forming candle or broken OHLC blocks the run's downstream assets; gaps are reported as a warning
(exchanges have outages).

The checks are evaluated inside the asset that writes the candles (`check_specs` on the asset), on the rows it
just stored: one step instead of one per check, each of which had to wait for the warehouse pool and re-read the
table. The specs and the result builders live here; `assets.py` attaches and yields them."""

from typing import Iterable

import dagster as dg
import pandas as pd

from trader_runtime.market.quality import QualityReport, quality_report

from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.resources.warehouse import WarehouseResource

MAX_LISTED = 20
GAPS = "No duplicate or missing 15-minute candles (a warning: exchanges have outages); the first gaps are listed."
UTC_CLOSED = "Every timestamp is UTC on the 15-minute grid and the newest candle has closed (blocks downstream)."
OHLC = "High >= max(open, close), low <= min(open, close), prices > 0 and volume >= 0 everywhere (blocks downstream)."

KLINES_CHECKS = (
    dg.AssetCheckSpec("klines_no_gaps", asset="klines", description=GAPS, partitions_def=symbol_partitions),
    dg.AssetCheckSpec("klines_utc_closed", asset="klines", description=UTC_CLOSED, blocking=True,
                      partitions_def=symbol_partitions),
    dg.AssetCheckSpec("klines_ohlc_sane", asset="klines", description=OHLC, blocking=True,
                      partitions_def=symbol_partitions),
)
CORRELATION_CHECKS = (
    dg.AssetCheckSpec("correlation_no_gaps", asset="correlation_klines", description=GAPS),
    dg.AssetCheckSpec("correlation_utc_closed_sane", asset="correlation_klines", blocking=True, description=(
        "BTC/ETH timestamps are UTC on the 15-minute grid, the newest candle has closed, and every candle's OHLC is "
        "sane (blocks downstream).")),
)
COMBINED_CHECKS = (
    dg.AssetCheckSpec("combined_no_gaps", asset="combined_15m", partitions_def=symbol_partitions,
                      description="The inner join with BTC/ETH keeps only shared timestamps: lists what it lost."),
)


def _gap_rows(report: QualityReport) -> list[str]:
    return [f"{a.isoformat()} .. {b.isoformat()} ({n} missing)" for a, b, n in report.gaps[:MAX_LISTED]]


def _gaps(reports: dict[str, QualityReport]) -> tuple[bool, dict]:
    """Passes when no symbol has duplicate or missing candles; lists the first gaps otherwise."""
    bad = {s: r for s, r in reports.items() if r.duplicates or r.gaps or r.rows == 0}
    meta = {f"{s}.missing_candles": r.missing_candles for s, r in reports.items()}
    meta |= {f"{s}.duplicates": len(r.duplicates) for s, r in reports.items()}
    meta |= {f"{s}.gaps": dg.MetadataValue.json(_gap_rows(r)) for s, r in bad.items()}
    return not bad, meta


def _utc_closed(reports: dict[str, QualityReport]) -> tuple[bool, dict]:
    """Passes when every timestamp is tz-aware UTC on the 15m grid and the newest candle has closed."""
    bad = {s: r for s, r in reports.items() if r.non_utc or r.forming_candle or r.misaligned}
    meta = {f"{s}.last_candle": str(r.end) for s, r in reports.items()}
    meta |= {f"{s}.issues": dg.MetadataValue.json(r.issues()) for s, r in bad.items()}
    return not bad, meta


def _ohlc(reports: dict[str, QualityReport]) -> tuple[bool, dict]:
    """Passes when high >= max(open, close), low <= min(open, close), prices > 0 and volume >= 0 everywhere."""
    meta = {f"{s}.violations": len(r.ohlc_violations) for s, r in reports.items()}
    meta |= {f"{s}.first": str(r.ohlc_violations[0]) for s, r in reports.items() if r.ohlc_violations}
    meta |= {f"{s}.partial_candles": len(r.partial_candles) for s, r in reports.items()}
    return not any(r.ohlc_violations for r in reports.values()), meta


def gaps_result(name: str, reports: dict[str, QualityReport]) -> dg.AssetCheckResult:
    passed, meta = _gaps(reports)
    return dg.AssetCheckResult(check_name=name, passed=passed, severity=dg.AssetCheckSeverity.WARN, metadata=meta)


def stored_reports(warehouse: WarehouseResource, symbols: Iterable[str], now: pd.Timestamp) -> dict[str, QualityReport]:
    """The quality of the candles as stored in the warehouse (read by the writing step, inside its pool slot)."""
    wh = warehouse.open()
    return {s: quality_report(wh.read_candles(s), now=now) for s in symbols}


def klines_results(reports: dict[str, QualityReport]) -> list[dg.AssetCheckResult]:
    (utc, utc_meta), (ohlc, ohlc_meta) = _utc_closed(reports), _ohlc(reports)
    return [gaps_result("klines_no_gaps", reports),
            dg.AssetCheckResult(check_name="klines_utc_closed", passed=utc, metadata=utc_meta),
            dg.AssetCheckResult(check_name="klines_ohlc_sane", passed=ohlc, metadata=ohlc_meta)]


def correlation_results(reports: dict[str, QualityReport]) -> list[dg.AssetCheckResult]:
    (utc, utc_meta), (ohlc, ohlc_meta) = _utc_closed(reports), _ohlc(reports)
    return [gaps_result("correlation_no_gaps", reports),
            dg.AssetCheckResult(check_name="correlation_utc_closed_sane", passed=utc and ohlc,
                                metadata={**utc_meta, **ohlc_meta})]


def combined_results(symbol: str, combined: pd.DataFrame) -> list[dg.AssetCheckResult]:
    return [gaps_result("combined_no_gaps", {symbol: quality_report(combined)})]
