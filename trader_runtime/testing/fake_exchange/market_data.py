"""Public market-data answers of the fake: exchange info, klines, prices, open interest, funding, long/short ratios.

Everything is derived from the replayed candles and never reaches past the replay cursor. Statistics rows (open
interest, long/short ratios) are stamped at candle close, like Binance's period-aligned `timestamp`. Where the
candle frame has no source column the values are deterministic stand-ins:
    open interest   `open_interest_base × Π(1 + oi_change)` (constant base when `oi_change` is absent)
    funding         the frame's `funding_rate` at each 8-hour settlement, else `funding_rate_default`
    long/short      given frames (`timestamp, top_acct_ls_ratio, global_ls_ratio`), else 1.5 ± the candle's return
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import LS_RATIO_COLUMNS
from trader_runtime.errors import DataError
from trader_runtime.testing.fake_exchange import payloads as P
from trader_runtime.testing.fake_exchange.api_errors import ApiError
from trader_runtime.testing.fake_exchange.config import FakeExchangeConfig
from trader_runtime.testing.fake_exchange.market import INTERVAL_MS, ReplayMarket
from trader_runtime.testing.fake_exchange.params import limit, optional_int, required
from trader_runtime.testing.fake_exchange.symbols import SymbolSpec

FUNDING_PERIOD_MS = 8 * 3_600_000
_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]


class MarketDataService:
    """Answers of the public (unsigned) endpoints."""

    def __init__(self, market: ReplayMarket, specs: Mapping[str, SymbolSpec], config: FakeExchangeConfig,
                 ls_ratios: Mapping[str, pd.DataFrame] | None = None) -> None:
        self.market = market
        self.specs = specs
        self.config = config
        closes = {s: market.series[s][:, 3] for s in market.symbols()}
        self.stat_times = market.open_times + market.bar_ms
        self.open_interest = {s: self._oi_series(s) for s in market.symbols()}
        self.ls: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for sym in market.symbols():
            frame = (ls_ratios or {}).get(sym)
            self.ls[sym] = self._ls_from_frame(sym, frame) if frame is not None else self._ls_synthetic(sym, closes[sym])

    def spec(self, symbol: str) -> SymbolSpec:
        if not self.market.has(symbol.upper()):
            raise ApiError.of(-1121)
        return self.specs[symbol.upper()]

    # ------------------------------------------------------------------------------------------ prices
    def exchange_info(self, now: int) -> dict[str, Any]:
        return {"timezone": "UTC", "serverTime": now, "futuresType": "U_MARGINED", "rateLimits": _RATE_LIMITS,
                "exchangeFilters": [], "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
                "symbols": [self.specs[s].exchange_info_entry() for s in self.market.symbols()]}

    def klines(self, p: Mapping[str, str]) -> list[list[Any]]:
        spec = self.spec(required(p, "symbol"))
        if required(p, "interval") != self.market.interval:
            raise ApiError(400, -1120, f"Invalid interval. (the fake exchange replays {self.market.interval} candles only)")
        candles = self.market.klines(spec.symbol, start_ms=optional_int(p, "startTime"), end_ms=optional_int(p, "endTime"),
                                     limit=limit(p, default=500, maximum=1500))
        return [P.kline_row(c, spec) for c in candles]

    def ticker_price(self, symbol: str | None, now: int) -> Any:
        rows = [{"symbol": s, "price": P.fmt(self.market.last_price(s), self.specs[s].price_precision), "time": now}
                for s in ([self.spec(symbol).symbol] if symbol else self.market.symbols())]
        return rows[0] if symbol else rows

    def premium_index(self, symbol: str | None, now: int) -> Any:
        rows = [self._premium_row(s, now) for s in ([self.spec(symbol).symbol] if symbol else self.market.symbols())]
        return rows[0] if symbol else rows

    def _premium_row(self, sym: str, now: int) -> dict[str, Any]:
        mark = P.fmt(self.market.last_price(sym), self.specs[sym].price_precision + 4)
        next_funding = (now // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
        return {"symbol": sym, "markPrice": mark, "indexPrice": mark, "estimatedSettlePrice": mark,
                "lastFundingRate": P.fmt(self._funding_at(sym, self.market.cursor - 1), 8), "interestRate": "0.00010000",
                "nextFundingTime": next_funding, "time": now}

    # ------------------------------------------------------------------------------------------ funding
    def _funding_at(self, sym: str, index: int) -> float:
        value = self.market.extra_value(sym, "funding_rate", index)
        return self.config.funding_rate_default if value is None else value

    def funding_history(self, p: Mapping[str, str]) -> list[dict[str, Any]]:
        """`GET /fapi/v1/fundingRate`: settlements every 8 h up to the replay time."""
        symbols = [self.spec(p["symbol"]).symbol] if p.get("symbol") else self.market.symbols()
        start, end = optional_int(p, "startTime"), optional_int(p, "endTime")
        n = limit(p, default=100, maximum=1000)
        first = -(-int(self.market.open_times[0]) // FUNDING_PERIOD_MS) * FUNDING_PERIOD_MS
        times: np.ndarray = np.arange(first, self.market.now_ms + 1, FUNDING_PERIOD_MS, dtype="int64")
        if start is not None:
            times = times[times >= start]
        if end is not None:
            times = times[times <= end]
        times = times[:n] if start is not None else times[-n:]
        rows = []
        for t in times:
            index = min(int(np.searchsorted(self.market.open_times, t, side="left")), self.market.cursor - 1)
            for sym in symbols:
                rows.append({"symbol": sym, "fundingTime": int(t), "fundingRate": P.fmt(self._funding_at(sym, index), 8),
                             "markPrice": P.fmt(self.market.row(sym, index)[0], self.specs[sym].price_precision + 4)})
        return rows

    # ------------------------------------------------------------------------------------------ open interest
    def _oi_series(self, sym: str) -> np.ndarray:
        change = self.market.extra.get((sym, "oi_change"))
        growth = np.ones(self.market.size) if change is None else np.cumprod(1.0 + change)
        return self.config.open_interest_base * growth

    def open_interest_now(self, symbol: str, now: int) -> dict[str, Any]:
        sym = self.spec(symbol).symbol
        return {"openInterest": P.fmt(self.open_interest[sym][self.market.cursor - 1], 3), "symbol": sym, "time": now}

    def open_interest_hist(self, p: Mapping[str, str]) -> list[dict[str, Any]]:
        sym = self.spec(required(p, "symbol")).symbol
        oi, close = self.open_interest[sym], self.market.series[sym][:, 3]
        return [{"symbol": sym, "sumOpenInterest": P.fmt(oi[i], 8), "sumOpenInterestValue": P.fmt(oi[i] * close[i], 8),
                 "CMCCirculatingSupply": "0", "timestamp": int(self.stat_times[i])}
                for i in self._stat_window(self.stat_times[: self.market.cursor], p)]

    # ------------------------------------------------------------------------------------------ long/short ratios
    def _ls_synthetic(self, sym: str, close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        opens = self.market.series[sym][:, 0]
        top = np.round(1.5 + np.clip((close - opens) / opens * 20.0, -0.5, 0.5), 4)
        return self.stat_times, top, np.round(top * 0.95, 4)

    def _ls_from_frame(self, sym: str, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        missing = [c for c in LS_RATIO_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"fake exchange: long/short frame for {sym} lacks {missing}; expected {list(LS_RATIO_COLUMNS)}")
        ordered = frame.sort_values("timestamp")
        ts = pd.to_datetime(ordered["timestamp"], utc=True).astype("datetime64[ms, UTC]").astype("int64").to_numpy()
        return ts, ordered["top_acct_ls_ratio"].to_numpy(float), ordered["global_ls_ratio"].to_numpy(float)

    def ls_ratio(self, p: Mapping[str, str], *, which: str) -> list[dict[str, Any]]:
        """`/futures/data/topLongShortAccountRatio` (which="top") or `globalLongShortAccountRatio` ("global")."""
        sym = self.spec(required(p, "symbol")).symbol
        ts, top, glob = self.ls[sym]
        values = top if which == "top" else glob
        visible = ts[ts <= self.market.now_ms]
        rows = []
        for i in self._stat_window(visible, p):
            r = float(values[i])
            rows.append({"symbol": sym, "longShortRatio": P.fmt(r, 4), "longAccount": P.fmt(r / (1 + r), 4),
                         "shortAccount": P.fmt(1 / (1 + r), 4), "timestamp": int(ts[i])})
        return rows

    def _stat_window(self, times: np.ndarray, p: Mapping[str, str]) -> list[int]:
        """Rows of a statistics series for `period`, `startTime`, `endTime`, `limit` (default 30, max 500)."""
        period = required(p, "period")
        period_ms = INTERVAL_MS.get(period)
        if period_ms is None or period_ms % self.market.bar_ms:
            raise ApiError(400, -1120, f"Invalid period. (the fake exchange serves multiples of {self.market.interval})")
        start, end = optional_int(p, "startTime"), optional_int(p, "endTime")
        n = limit(p, default=30, maximum=500)
        mask = (times % period_ms == 0)
        if start is not None:
            mask &= times >= start
        if end is not None:
            mask &= times <= end
        idx = np.flatnonzero(mask)
        return (idx[:n] if start is not None else idx[-n:]).tolist()
