"""MTF pullback backtest on one symbol: unit size, returns in basis points (spec 40 §B.4–§B.5).

`run_mtf_backtest` prepares the data as the chosen rules require (research: 15m history from START − 250 h;
platform: all history, no decision before the warm-up of `params.MIN_HOURLY_CANDLES` closed hours) and runs the
compiled state machine; `backtest_market` reuses a prepared market (sweeps, checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trader_runtime.domain.enums import CLOSE_REASON_CODES
from trader_runtime.errors import DataError
from trader_runtime.strategy.mtf_pullback import kernel as K
from trader_runtime.strategy.mtf_pullback.market import MTFMarket, prepare_mtf
from trader_runtime.strategy.mtf_pullback.metrics import summary_by_side, trade_returns
from trader_runtime.strategy.mtf_pullback.params import (
    MIN_15M_CANDLES,
    MIN_HOURLY_CANDLES,
    RESEARCH_LOOKBACK_HOURS,
    MTFParams,
    MTFRules,
)

TRADE_COLUMNS = (
    "side", "signal_time", "entry_time", "exit_time", "entry_price", "exit_price", "sl", "tp", "atr_1h",
    "close_reason", "return", "pnl_bps",
)  # fmt: skip


def utc(ts: pd.Timestamp | str | None) -> pd.Timestamp | None:
    """A timestamp in UTC; naive values are taken as UTC."""
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def warmup_index(market: MTFMarket, min_hours: int = MIN_HOURLY_CANDLES, min_bars: int = MIN_15M_CANDLES) -> int:
    """First candle the platform may decide on: ≥ `min_hours` closed hours and ≥ `min_bars` closed 15m candles."""
    key = ("warmup", min_hours, min_bars)
    if key not in market._cache:
        ok = (market.hours_seen >= min_hours) & (np.arange(len(market)) + 1 >= min_bars)
        hits = np.flatnonzero(ok)
        market._cache[key] = int(hits[0]) if hits.size else len(market)
    return market._cache[key]  # type: ignore[return-value]


@dataclass
class MTFBacktestResult:
    """Trades, counters and bps statistics of one run; `to_dict()` is the JSON payload."""

    symbol: str
    params: MTFParams
    rules: MTFRules
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    first_decision: pd.Timestamp | None
    decided_candles: int
    hourly_candles: int
    trades: pd.DataFrame
    counters: dict[str, int]
    summary: dict[str, dict[str, float | int]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        trades = self.trades.copy()
        for col in ("signal_time", "entry_time", "exit_time"):
            trades[col] = trades[col].map(lambda t: t.isoformat())
        return {
            "strategy": "mtf-pullback",
            "symbol": self.symbol,
            "params": self.params.as_dict(),
            "rules": self.rules.as_dict(),
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "first_decision": self.first_decision.isoformat() if self.first_decision is not None else None,
            "decided_candles": self.decided_candles,
            "hourly_candles": self.hourly_candles,
            "counters": self.counters,
            "summary": self.summary,
            "notes": self.notes,
            "trades": trades.to_dict(orient="records"),
        }


def kernel_vectors(params: MTFParams, rules: MTFRules) -> tuple[np.ndarray, np.ndarray]:
    seq, vol, entry = rules.kernel_codes()
    ip = np.zeros(K.N_IP, dtype=np.int64)
    ip[K.IP_SEQUENCE], ip[K.IP_VOLUME_RULE], ip[K.IP_ENTRY_PRICE] = seq, vol, entry
    ip[K.IP_GAP_FILLS] = int(rules.gap_fills)
    ip[K.IP_CLOSE_AT_END] = int(rules.close_at_end)
    fp = np.zeros(K.N_FP, dtype=np.float64)
    fp[K.FP_DRY_RATIO], fp[K.FP_SL_MULT], fp[K.FP_TP_MULT] = params.dry_ratio, params.sl_mult, params.tp_mult
    fp[K.FP_SLIPPAGE] = rules.slippage_rate
    return ip, fp


def window_bounds(market: MTFMarket, start: pd.Timestamp | None, end: pd.Timestamp | None) -> tuple[int, int]:
    """Candles with start ≤ open time ≤ end (both inclusive, like the research script)."""
    lo = 0 if start is None else int(market.index.searchsorted(start, side="left"))
    hi = len(market) if end is None else int(market.index.searchsorted(end, side="right"))
    return lo, hi


def run_kernel(market: MTFMarket, params: MTFParams, rules: MTFRules, first: int, trade_from: int, end: int):
    ema_t, vol_sma = market.trigger_columns(params)
    atr = market.attached(params)["atr"]
    ip, fp = kernel_vectors(params, rules)
    return K.simulate_mtf(
        market.open, market.high, market.low, market.close, market.volume, ema_t, vol_sma, atr,
        market.meta(params), int(first), int(trade_from), int(end), ip, fp,
    )  # fmt: skip


def first_candle(market: MTFMarket, rules: MTFRules, lo: int) -> tuple[int, int]:
    """(first decided candle, first candle that may open a trade). Research: the window's candle 0 is never
    decided and the state starts fresh; platform: decisions from the warm-up on, so the state at the window start
    does not depend on where the window starts (the trader's history does the same)."""
    if rules.warmup == "research":
        return lo + 1, lo + 1
    w = warmup_index(market)
    return min(w, max(lo, w)), max(lo, w)


def backtest_market(
    market: MTFMarket,
    params: MTFParams,
    rules: MTFRules,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> MTFBacktestResult:
    lo, hi = window_bounds(market, utc(start), utc(end))
    if hi <= lo:
        raise DataError(f"{market.symbol}: no candles between {start} and {end}")
    first, trade_from = first_candle(market, rules, lo)
    notes: list[str] = []
    if rules.warmup == "converged" and trade_from > lo:
        if trade_from >= hi:
            notes.append(f"no decision: the window ends before {MIN_HOURLY_CANDLES} closed hourly candles exist")
        else:
            notes.append(f"decisions start at {market.index[trade_from]} (warm-up: {MIN_HOURLY_CANDLES} closed hourly candles)")
    first, trade_from = min(first, hi), min(trade_from, hi)
    ti, tf, st, _ = run_kernel(market, params, rules, first, trade_from, hi)
    trades = trades_frame(market, ti, tf, rules.fee_rate)
    counters = {
        "meta_long_candles": int(st[K.ST_META_LONG]),
        "meta_short_candles": int(st[K.ST_META_SHORT]),
        "pullbacks": int(st[K.ST_PULLBACKS]),
        "triggers": int(st[K.ST_TRIGGERS]),
        "trades_long": int((trades["side"] == "LONG").sum()),
        "trades_short": int((trades["side"] == "SHORT").sum()),
    }
    side = np.where(trades["side"].to_numpy() == "LONG", 1, -1)
    return MTFBacktestResult(
        symbol=market.symbol,
        params=params,
        rules=rules,
        window_start=market.index[lo],
        window_end=market.index[hi - 1],
        first_decision=market.index[trade_from] if trade_from < hi else None,
        decided_candles=max(hi - trade_from, 0),
        hourly_candles=len(market.hourly),
        trades=trades,
        counters=counters,
        summary=summary_by_side(side, trades["return"].to_numpy(np.float64)),
        notes=notes,
    )


def trades_frame(market: MTFMarket, ti: np.ndarray, tf: np.ndarray, fee_rate: float) -> pd.DataFrame:
    idx = market.index
    side = ti[:, K.TI_SIDE]
    ret = trade_returns(side, tf[:, K.TF_ENTRY], tf[:, K.TF_EXIT], fee_rate)
    return pd.DataFrame(
        {
            "side": np.where(side == 1, "LONG", "SHORT"),
            "signal_time": idx[ti[:, K.TI_SIGNAL_IDX]],
            "entry_time": idx[ti[:, K.TI_ENTRY_IDX]],
            "exit_time": idx[ti[:, K.TI_EXIT_IDX]],
            "entry_price": tf[:, K.TF_ENTRY],
            "exit_price": tf[:, K.TF_EXIT],
            "sl": tf[:, K.TF_SL],
            "tp": tf[:, K.TF_TP],
            "atr_1h": tf[:, K.TF_ATR],
            "close_reason": [CLOSE_REASON_CODES[c].value for c in ti[:, K.TI_REASON]],
            "return": ret,
            "pnl_bps": ret * 1e4,
        },
        columns=list(TRADE_COLUMNS),
    )


def run_mtf_backtest(
    frame: pd.DataFrame,
    symbol: str = "XRPUSDT",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    params: MTFParams | None = None,
    rules: MTFRules | None = None,
) -> MTFBacktestResult:
    """Prepare `frame` (combined 15m schema, closed candles) as `rules` require and backtest [start, end]."""
    params = params or MTFParams()
    rules = rules or MTFRules()
    start_utc, end_utc = utc(start), utc(end)
    history_start = None
    if rules.warmup == "research":
        if start_utc is None:
            raise DataError("the research warm-up needs a window start (it reads 250 hours of history before it)")
        history_start = start_utc - pd.Timedelta(hours=RESEARCH_LOOKBACK_HOURS)
    market = prepare_mtf(frame, symbol, history_start=history_start)
    return backtest_market(market, params, rules, start_utc, end_utc)
