"""Market-data ingestion steps behind the Dagster assets: choose the fetch window, fetch, then write — in that order.

Why a module: the assets stay thin (STYLE 2.3) and these rules are testable without Dagster. A fetch either
returns everything asked for or raises, and nothing is written before it returned, so a failed run leaves the
warehouse exactly as it was. Windows: the first run backfills `backfill_days`; later runs start a few candles
before the newest stored one (the overlap rewrites any candle an older tool stored while it was forming, W-01).
Open interest and L/S statistics exist for 30 days only on REST; their values accumulate in the warehouse run after
run (a new NULL never replaces a stored value). A source without that window (`stats_window = None`, the public
archive) backfills them over every stored candle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import pandas as pd

from trader_runtime.domain.provenance import DataSource, new_batch_id
from trader_runtime.domain.schema import BAR, BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS, validate_combined_frame
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.exchange.binance.market_data import STATS_WINDOW
from trader_runtime.exchange.binance.market_parsing import funding_for_candles, oi_change_for_candles
from trader_runtime.storage.warehouse import Warehouse

from cointrader_pipelines.resources.market_sources import MarketSource

OVERLAP_BARS = 4
FUNDING_LOOKBACK = pd.Timedelta(days=1)
CORRELATION_GROUPS = {"BTCUSDT": BTC_COLUMNS, "ETHUSDT": ETH_COLUMNS}


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion step fetched and wrote."""

    symbol: str
    source: str
    now: pd.Timestamp
    fetch_start: pd.Timestamp
    fetched: int
    inserted: int
    updated: int

    def metadata(self) -> dict[str, Any]:
        out = asdict(self)
        out["now"] = self.now.isoformat()
        out["fetch_start"] = self.fetch_start.isoformat()
        return out


#: which provenance tag each market source writes (every warehouse row records its source)
SOURCE_TAGS = {"synthetic": DataSource.SYNTHETIC, "binance": DataSource.REST, "parquet": DataSource.PARQUET,
               "bulk": DataSource.BULK}


def source_tag(source: MarketSource) -> DataSource:
    try:
        return SOURCE_TAGS[source.name]
    except KeyError:
        raise ConfigError(f"market source {source.name!r} has no provenance tag; known: {sorted(SOURCE_TAGS)}") from None


def _tags(source: MarketSource) -> dict[str, str]:
    tag = source_tag(source)
    return {"source": tag.value, "batch": new_batch_id(tag)}


def fetch_start(last_stored: pd.Timestamp | None, now: pd.Timestamp, backfill_days: int) -> pd.Timestamp:
    """First run: `backfill_days` back; afterwards a few candles before the newest stored one."""
    if last_stored is None:
        return (now - pd.Timedelta(days=backfill_days)).floor(BAR)
    return min(last_stored - OVERLAP_BARS * BAR, now)


def ingest_klines(source: MarketSource, warehouse: Warehouse, symbol: str, backfill_days: int) -> IngestResult:
    """Closed 15m candles of `symbol` into the warehouse (OHLCV only; other columns untouched)."""
    now = source.now()
    start = fetch_start(warehouse.coverage(symbol).end, now, backfill_days)
    candles = source.klines(symbol, start, now)
    if candles.empty:
        return IngestResult(symbol, source.name, now, start, 0, 0, 0)
    result = warehouse.upsert_candles(symbol, candles, now=now, **_tags(source))
    return IngestResult(symbol, source.name, now, start, len(candles), result.inserted, result.updated)


def _stored_ohlcv(warehouse: Warehouse, symbol: str, start: pd.Timestamp | None = None) -> pd.DataFrame:
    candles = warehouse.read_candles(symbol, start=start)
    if candles.empty and warehouse.coverage(symbol).rows == 0:
        raise DataError(f"{symbol}: no candles in {warehouse.path}; materialise `klines` first")
    return candles


def _write_column(warehouse: Warehouse, symbol: str, candles: pd.DataFrame, column: str, values: pd.Series,
                  now: pd.Timestamp, source: MarketSource) -> int:
    """Set `column` on stored candles where `values` is known (OHLCV rewritten unchanged, the row's recorded
    source kept: it names where the candle came from); rows written."""
    known = values.notna()
    if not known.any():
        return 0
    frame = candles.loc[known, list(OHLCV_COLUMNS)].copy()
    frame[column] = values[known]
    source_tag(source)  # a source without a provenance tag is refused before anything is written
    warehouse.upsert_candles(symbol, frame, now=now)  # untagged: the row keeps the source of its candle
    return int(known.sum())


def ingest_open_interest(source: MarketSource, warehouse: Warehouse, symbol: str) -> IngestResult:
    """`oi_change` of the last 30 days attached to the stored candles; older values stay as stored."""
    now = source.now()
    window = getattr(source, "stats_window", STATS_WINDOW)  # None: the source has full history (the archive)
    first = warehouse.coverage(symbol).start
    start = (now - window).floor(BAR) if window is not None or first is None else first
    candles = _stored_ohlcv(warehouse, symbol, start)
    oi = source.open_interest(symbol, start, now)
    change = oi_change_for_candles(pd.DatetimeIndex(candles.index), oi)
    written = _write_column(warehouse, symbol, candles, "oi_change", change, now, source)
    return IngestResult(symbol, source.name, now, start, len(oi), 0, written)


def ingest_funding(source: MarketSource, warehouse: Warehouse, symbol: str) -> IngestResult:
    """Settled funding rates attached to the stored candles from the newest candle that already has one."""
    now = source.now()
    stored = _stored_ohlcv(warehouse, symbol)
    known = stored["funding_rate"].dropna() if "funding_rate" in stored.columns else pd.Series(dtype="float64")
    start = (known.index[-1] - FUNDING_LOOKBACK) if len(known) else stored.index[0] - pd.Timedelta(hours=8)
    funding = source.funding_rates(symbol, start, now)
    candles = stored[stored.index >= start]
    rate = funding_for_candles(pd.DatetimeIndex(candles.index), funding)
    written = _write_column(warehouse, symbol, candles, "funding_rate", rate, now, source)
    return IngestResult(symbol, source.name, now, start, len(funding), 0, written)


def ingest_ls_ratio(source: MarketSource, warehouse: Warehouse, symbol: str) -> IngestResult:
    """Long/short ratios: backfill up to 30 days on the first run, then from the newest stored period (BT-20)."""
    now = source.now()
    stored = warehouse.read_ls_ratio(symbol)
    last = pd.Timestamp(stored["timestamp"].iloc[-1]) if len(stored) else None
    start = fetch_start(last, now, backfill_days=30)
    first = warehouse.coverage(symbol).start
    if last is None and getattr(source, "stats_window", STATS_WINDOW) is None and first is not None:
        start = first  # full history available: back to the first stored candle
    ratios = source.ls_ratios(symbol, start, now)
    if ratios.empty:
        return IngestResult(symbol, source.name, now, start, 0, 0, 0)
    result = warehouse.upsert_ls_ratio(symbol, ratios, **_tags(source))
    return IngestResult(symbol, source.name, now, start, len(ratios), result.inserted, 0)


def check_correlation_symbols(symbols: Sequence[str]) -> list[str]:
    unknown = [s for s in symbols if s not in CORRELATION_GROUPS]
    if unknown:
        raise ConfigError(
            f"CORRELATION_SYMBOLS contains {unknown}; the combined schema embeds only {sorted(CORRELATION_GROUPS)}"
        )
    return list(symbols)


def build_combined(warehouse: Warehouse, symbol: str, correlation_symbols: Sequence[str], now: pd.Timestamp) -> pd.DataFrame:
    """The combined 15m table (spec 10 §1.1): primary candles inner-joined with BTC/ETH; stored back for the symbol."""
    primary = _stored_ohlcv(warehouse, symbol)
    keep = [c for c in primary.columns if c not in BTC_COLUMNS + ETH_COLUMNS]
    combined = primary[keep]
    for corr in check_correlation_symbols(correlation_symbols):
        other = _stored_ohlcv(warehouse, corr)[list(OHLCV_COLUMNS)]
        combined = combined.join(other.set_axis(list(CORRELATION_GROUPS[corr]), axis=1), how="inner")
    if combined.empty:
        raise DataError(f"{symbol}: no timestamps shared with {list(correlation_symbols)}; check the stored candles")
    combined = validate_combined_frame(combined, source=f"{symbol} combined")
    corr_cols = [c for c in combined.columns if c in BTC_COLUMNS + ETH_COLUMNS]
    # rewrites stored values only, so the rows keep the source that wrote them (an untagged write)
    warehouse.upsert_candles(symbol, combined[list(OHLCV_COLUMNS) + corr_cols], now=now)
    return combined
