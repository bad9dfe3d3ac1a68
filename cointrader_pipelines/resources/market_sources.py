"""Market-data sources behind one small interface: Binance REST, the seeded synthetic market, or Parquet files.

Why: assets ask for "closed candles of SYMBOL in [start, now)" and similar; where they come from is a deployment
choice (the embedded default is synthetic and offline). Each source also owns its clock: Binance uses the wall
clock, the synthetic market and Parquet files end at a fixed instant, so reruns are deterministic.
Window rules (30 days for statistics) are the exchange's and are applied by every source alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BAR, BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS
from trader_runtime.errors import DataError
from trader_runtime.exchange.binance import market_parsing as parsing
from trader_runtime.exchange.binance.market_data import STATS_WINDOW, BinanceMarketData
from trader_runtime.market.quality import admit_candles
from trader_runtime.market.synthetic import SyntheticMarket, generate_market


class MarketSource(Protocol):
    """What the market-data assets need; every frame is in the shapes of `market_parsing`."""

    name: str

    def now(self) -> pd.Timestamp: ...

    def klines(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame: ...

    def open_interest(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame: ...

    def funding_rates(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame: ...

    def ls_ratios(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame: ...


def _closed(frame: pd.DataFrame, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
    idx = frame.index
    return frame[(idx >= start) & (idx + BAR <= now)]


def _stats_window(frame: pd.DataFrame, column: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
    lo = max(start, now - STATS_WINDOW)
    ts = frame[column]
    return frame[(ts >= lo) & (ts <= now)].reset_index(drop=True)


@dataclass
class BinanceSource:
    """Binance USD-M REST through the core fetcher; `now` is the exchange's server time (no local clock skew)."""

    fetcher: BinanceMarketData
    name: str = "binance"

    def now(self) -> pd.Timestamp:
        return self.fetcher.server_time()

    def klines(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        return self.fetcher.klines(symbol, start, now)

    def open_interest(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        return self.fetcher.open_interest(symbol, start, now)

    def funding_rates(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        return self.fetcher.funding_rates(symbol, start, now)

    def ls_ratios(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        return self.fetcher.ls_ratios(symbol, start, now)


@lru_cache(maxsize=8)
def _synthetic(symbol: str, days: int, seed: int, end: pd.Timestamp) -> SyntheticMarket:
    return generate_market(symbol, days, seed, end=end)


@dataclass(frozen=True)
class SyntheticSource:
    """The seeded synthetic market (`trader_runtime.market.synthetic`); it ends, and `now` is, at `end`."""

    days: int
    seed: int
    end: pd.Timestamp
    name: str = "synthetic"

    def now(self) -> pd.Timestamp:
        return self.end

    def _market(self, symbol: str) -> SyntheticMarket:
        return _synthetic(symbol, self.days, self.seed, self.end)

    def klines(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        return _closed(self._market(symbol).combined[list(OHLCV_COLUMNS)], start, now)

    def open_interest(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        # the market's OI level of candle t is the open interest at its close: stamp it there, as the exchange does
        oi = self._market(symbol).open_interest
        return _stats_window(oi.assign(timestamp=oi["timestamp"] + BAR), "timestamp", start, now)

    def funding_rates(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        funding = self._market(symbol).funding
        ts = funding["funding_time"]
        return funding[(ts >= start) & (ts <= now)].reset_index(drop=True)

    def ls_ratios(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        return _stats_window(self._market(symbol).ls_ratio, "timestamp", start, now)


@lru_cache(maxsize=16)
def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"cannot read {path} as Parquet: {exc}") from exc


@lru_cache(maxsize=16)
def _gated(path: Path) -> pd.DataFrame:
    """A combined file through the data gate every entry point uses (duplicates, grid, finite positive prices)."""
    return admit_candles(_read_parquet(path), source=str(path)).frame


@dataclass(frozen=True)
class ParquetSource:
    """Files in the collector's layout: `<sym>_combined_15m.parquet` (BTC/ETH embedded), `<sym>_ls_ratio_15m.parquet`.

    BTCUSDT/ETHUSDT candles come from the `_btc`/`_eth` columns of `reference_symbol`'s file (the traded symbol:
    the reference captured BTC/ETH at slightly different moments per file, spec 10 §1.5). Legacy 0.0 OI/funding
    values mean "missing" (spec 10 §1.3). `now` is the newest instant in the folder (candle close or L/S period).
    """

    directory: Path
    reference_symbol: str = "XRPUSDT"
    name: str = "parquet"

    def _combined_files(self) -> list[Path]:
        files = sorted(self.directory.glob("*_combined_15m.parquet"))
        if not files:
            raise DataError(f"no *_combined_15m.parquet files in {self.directory}")
        return files

    def _combined(self, symbol: str) -> pd.DataFrame:
        path = self.directory / f"{symbol.lower()}_combined_15m.parquet"
        if not path.exists():
            raise DataError(f"{symbol}: {path} not found; files: {[p.name for p in self._combined_files()]}")
        return _gated(path)

    def now(self) -> pd.Timestamp:
        newest = [_gated(p).index.max() + BAR for p in self._combined_files()]
        newest += [pd.Timestamp(_read_parquet(p)["timestamp"].max()) for p in self.directory.glob("*_ls_ratio_15m.parquet")]
        return max(newest)

    def klines(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        groups = {"BTCUSDT": BTC_COLUMNS, "ETHUSDT": ETH_COLUMNS}
        path = self.directory / f"{symbol.lower()}_combined_15m.parquet"
        if symbol in groups and not path.exists():
            frame = self._combined(self.reference_symbol)
            ohlcv = frame[list(groups[symbol])].set_axis(list(OHLCV_COLUMNS), axis=1).dropna()
        else:
            ohlcv = self._combined(symbol)[list(OHLCV_COLUMNS)]
        return _closed(ohlcv, start, now)

    def open_interest(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        change = self._combined(symbol)["oi_change"].replace(0.0, np.nan).dropna()
        if change.empty:
            return parsing.empty_open_interest()
        level = (1.0 + change).cumprod()  # the level at each candle's close
        frame = pd.DataFrame({"timestamp": level.index + BAR, "sum_open_interest": level.to_numpy()})
        return _stats_window(frame, "timestamp", start, now)

    def funding_rates(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        rate = self._combined(symbol)["funding_rate"]
        idx = rate.index
        settle = rate[(idx.hour % 8 == 0) & (idx.minute == 0) & (rate != 0.0) & rate.notna()]
        frame = pd.DataFrame({"funding_time": settle.index, "funding_rate": settle.to_numpy()})
        ts = frame["funding_time"]
        return frame[(ts >= start) & (ts <= now)].reset_index(drop=True)

    def ls_ratios(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        path = self.directory / f"{symbol.lower()}_ls_ratio_15m.parquet"
        if not path.exists():
            return parsing.empty_ls_ratio()
        frame = parsing.dedupe_ls_ratio(_read_parquet(path))
        frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_convert("UTC").as_unit("ms")
        ts = frame["timestamp"]
        return frame[(ts >= start) & (ts <= now)].reset_index(drop=True)
