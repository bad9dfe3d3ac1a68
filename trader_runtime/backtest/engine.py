"""Single backtest run: prepared market + config (+ optional ML filter) → trades, equity, summary, validation.

Indicators and signals come precomputed from `strategy.pipeline.PreparedMarket` (once per data set); this module
cuts the tradable window, evaluates the ML filter once for all candidate bars, calls the compiled kernel and
turns its arrays into a trade frame. Walk-forward (`walk_forward.py`) and sweeps (`sweep.py`) reuse the pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np
import pandas as pd

from trader_runtime.backtest import kernel as K
from trader_runtime.backtest.metrics import summarize
from trader_runtime.backtest.validator import validate
from trader_runtime.config import BacktestConfig, StrategyParams
from trader_runtime.domain.enums import CLOSE_REASON_CODES
from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.strategy.features import FEATURE_COLUMNS
from trader_runtime.strategy.pipeline import PreparedMarket

MLFilter = Callable[[pd.DataFrame], np.ndarray]

MS_PER_DAY = 86_400_000
BAR_DAYS = 15.0 / (24 * 60)
KILL_NAMES = {0: None, 1: "fast", 2: "slow"}
SNAPSHOT_COLUMNS = ("rsi", "macd_hist", "atr", "adx")
TRADE_COLUMNS = (
    "fold", "symbol", "side", "entry_time", "exit_time", "entry_price", "exit_price", "quantity", "sl", "tp",
    "gross_pnl", "entry_fee", "exit_fee", "fees", "net_pnl", "close_reason", "ml_proba",
) + SNAPSHOT_COLUMNS + ("funding", "liquidation_price")


@dataclass(frozen=True)
class Window:
    """Tradable period [start, end) in UTC."""

    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class MarketArrays:
    """The columns the kernel reads, as contiguous numpy arrays."""

    time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    atr: np.ndarray
    day: np.ndarray

    @classmethod
    def from_prepared(cls, prepared: PreparedMarket) -> "MarketArrays":
        f = prepared.frame
        time_ms = prepared.index.as_unit("ms").asi8.astype(np.int64)

        def col(name: str) -> np.ndarray:
            return np.ascontiguousarray(f[name].to_numpy(np.float64))

        return cls(time_ms, col("open"), col("high"), col("low"), col("close"), col("atr"), time_ms // MS_PER_DAY)


@dataclass
class Segment:
    """A prepared market and the bar range [start, end) that may trade in it."""

    market: PreparedMarket
    arrays: MarketArrays
    start: int
    end: int

    @property
    def tested_days(self) -> float:
        return max(self.end - self.start, 0) * BAR_DAYS


@dataclass
class KernelOutput:
    ti: np.ndarray
    tf: np.ndarray
    equity: np.ndarray
    state: np.ndarray
    start: int
    end: int


@dataclass
class FoldReport:
    """One walk-forward fold (BT-06: `model_used` is None when ML was not requested)."""

    fold: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    model_used: Optional[bool]
    summary: dict[str, object]
    halts: dict[str, object]


@dataclass
class BacktestResult:
    """Everything a run produced; `to_dict()` is the JSON payload (serialise with serialization.dumps)."""

    mode: str
    config: BacktestConfig
    trades: pd.DataFrame
    equity: pd.Series
    summary: dict[str, object]
    validation: dict[str, object]
    halts: list[dict[str, object]]
    folds: list[FoldReport] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    per_symbol: dict[str, dict[str, object]] = field(default_factory=dict)
    halted_periods: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        cfg = self.config
        trades = self.trades.copy()
        for col in ("entry_time", "exit_time"):
            trades[col] = trades[col].map(lambda t: t.isoformat())
        daily = self.equity.groupby(self.equity.index.floor("D")).last() if len(self.equity) else self.equity
        symbols = self.symbols or [cfg.symbol]
        return {
            "mode": self.mode,
            "symbol": cfg.symbol if len(symbols) == 1 else ",".join(symbols),
            "symbols": symbols,
            "config": {
                "params": cfg.params.as_dict(),
                "risk": {k: getattr(cfg.risk, k) for k in cfg.risk.__dataclass_fields__},
                "initial_balance": cfg.initial_balance,
                "leverage": cfg.leverage,
                "fee_pct": cfg.fee_pct,
                "slippage_pct": cfg.slippage_pct,
                "min_notional": cfg.min_notional,
                "quantity_step": cfg.quantity_step,
                "quantity_steps": {sym: cfg.step_for(sym) for sym in symbols},
                "warmup": cfg.warmup,
                "ml_threshold": cfg.ml_threshold,
                "rules": cfg.rules.as_dict(),
                "tp_fee_pct": cfg.fee_pct if cfg.tp_fee_pct is None else cfg.tp_fee_pct,
                "kill_reset": "never" if cfg.kill_reset_days is None else f"after:{cfg.kill_reset_days}",
                "funding_interval_hours": cfg.funding_interval_hours,
            },
            "summary": self.summary,
            "account": {
                "initial_balance": cfg.initial_balance,
                "final_equity": self.summary.get("final_equity"),
                "min_equity": self.summary.get("min_equity"),
                "total_funding": self.summary.get("total_funding"),
                "liquidations": self.summary.get("liquidations"),
            },
            "per_symbol": self.per_symbol,
            "halted_periods": [
                {**h, "start": h["start"].isoformat(), "end": h["end"].isoformat()} for h in self.halted_periods
            ],
            "validation": self.validation,
            "halts": self.halts,
            "folds": [
                {
                    "fold": f.fold,
                    "train_period": f"{f.train_start.isoformat()} ~ {f.train_end.isoformat()}",
                    "test_start": f.test_start.isoformat(),
                    "test_end": f.test_end.isoformat(),
                    "model_used": f.model_used,
                    "summary": f.summary,
                    "per_symbol": per_symbol_of(self.trades[self.trades["fold"] == f.fold], symbols, cfg.initial_balance)
                    if len(symbols) > 1 else None,
                    "halts": f.halts,
                }
                for f in self.folds
            ],
            "trades": trades.to_dict(orient="records"),
            "equity_daily": [{"date": d.date().isoformat(), "equity": round(float(v), 4)} for d, v in daily.items()],
        }


def per_symbol_of(trades: pd.DataFrame, symbols: list[str], initial_balance: float) -> dict[str, dict[str, object]]:
    from trader_runtime.backtest.portfolio import per_symbol_summaries

    return per_symbol_summaries(trades, symbols, initial_balance)


def kernel_params(cfg: BacktestConfig) -> tuple[np.ndarray, np.ndarray]:
    """Float and int parameter vectors in the kernel's layout."""
    fp = np.zeros(K.N_FP, dtype=np.float64)
    ip = np.zeros(K.N_IP, dtype=np.int64)
    p, r, rules = cfg.params, cfg.risk, cfg.rules
    fp[K.FP_INITIAL_BALANCE] = cfg.initial_balance
    fp[K.FP_LEVERAGE] = cfg.leverage
    fp[K.FP_FEE_RATE] = cfg.fee_pct / 100.0
    fp[K.FP_TP_FEE_RATE] = (cfg.fee_pct if cfg.tp_fee_pct is None else cfg.tp_fee_pct) / 100.0
    fp[K.FP_SLIPPAGE_RATE] = cfg.slippage_pct / 100.0
    fp[K.FP_MIN_NOTIONAL] = cfg.min_notional
    fp[K.FP_QTY_STEP] = cfg.quantity_step
    fp[K.FP_SL_MULT] = p.atr_sl_mult
    fp[K.FP_TP_MULT] = p.atr_tp_mult
    fp[K.FP_MARGIN_MAX] = r.margin_max_ratio
    fp[K.FP_MARGIN_MIN] = r.margin_min_ratio
    fp[K.FP_MARGIN_DECAY] = r.margin_decay_rate
    fp[K.FP_MAX_DAILY_LOSS] = r.max_daily_loss_pct
    fp[K.FP_KILL_SLOW_MIN_PF] = r.kill_slow_min_pf
    fp[K.FP_MARGIN_BASE] = cfg.initial_balance
    ip[K.IP_KILL_FAST_STREAK] = r.kill_fast_streak
    ip[K.IP_KILL_SLOW_WINDOW] = r.kill_slow_window
    ip[K.IP_MAX_POSITIONS] = r.max_positions
    ip[K.IP_MAX_SAME_DIRECTION] = r.max_same_direction
    block, recheck, rounding, gaps, daily_base = rules.kernel_flags()
    ip[K.IP_BLOCK_EXITS] = block
    ip[K.IP_RECHECK] = recheck
    ip[K.IP_ROUNDING] = rounding
    ip[K.IP_GAP_FILLS] = gaps
    ip[K.IP_DAILY_BASE] = daily_base
    ip[K.IP_N_SYMBOLS] = len(cfg.symbol_list)
    ip[K.IP_TWO_PHASE] = int(rules.two_phase_bar)
    ip[K.IP_KILL_GLOBAL] = int(not rules.kill_switch_scope_per_symbol)
    ip[K.IP_MARGIN_PER_SYMBOL] = int(rules.margin_ratio_per_symbol)
    ip[K.IP_LIQUIDATION] = int(rules.liquidation)
    ip[K.IP_FUNDING] = int(rules.funding)
    ip[K.IP_MARGIN_CHECK] = int(rules.margin_check)
    ip[K.IP_KILL_RESET_DAYS] = -1 if cfg.kill_reset_days is None else int(cfg.kill_reset_days)
    return fp, ip


def run_kernel(
    arrays: MarketArrays, signal: np.ndarray, allowed: np.ndarray, start: int, end: int, fp: np.ndarray, ip: np.ndarray
) -> KernelOutput:
    ti, tf, equity, state = K.simulate(
        arrays.open, arrays.high, arrays.low, arrays.close, arrays.atr,
        np.ascontiguousarray(signal, dtype=np.int8), np.ascontiguousarray(allowed, dtype=np.bool_), arrays.day,
        int(start), int(end), fp, ip,
    )  # fmt: skip
    return KernelOutput(ti, tf, equity, state, int(start), int(end))


def segment_for(prepared: PreparedMarket, cfg: BacktestConfig, window: Window | None) -> Segment:
    """Cut the tradable bars. No window: the whole data set after the warm-up. With a window: under
    fold_history="full" the bars of [start, end) of the full-history market (global warm-up only); under "slice"
    the reference fold slice [start date 00:00, end date 00:00] inclusive with indicators recomputed on it and
    its own first `warmup` bars untradable."""
    if window is None:
        return Segment(prepared, MarketArrays.from_prepared(prepared), min(cfg.warmup, len(prepared)), len(prepared))
    if cfg.rules.fold_history == "slice":
        sub = prepared.slice(window.start.normalize(), window.end.normalize())
        return Segment(sub, MarketArrays.from_prepared(sub), min(cfg.warmup, len(sub)), len(sub))
    idx = prepared.index
    start = max(int(idx.searchsorted(window.start, side="left")), cfg.warmup)
    end = int(idx.searchsorted(window.end, side="left"))
    return Segment(prepared, MarketArrays.from_prepared(prepared), min(start, end), end)


def ml_gate(
    segment: Segment, params: StrategyParams, signal: np.ndarray, ml_filter: MLFilter | None, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(allowed mask, probability per bar; NaN where not evaluated). The decision depends only on the bar's
    feature row, so the filter is called once for every candidate signal bar of the segment. Errors propagate
    (no silent allow, BT-07); a wrong-length or NaN answer is refused."""
    n = len(signal)
    allowed = np.ones(n, dtype=np.bool_)
    proba = np.full(n, np.nan)
    if ml_filter is None:
        return allowed, proba
    rows = np.flatnonzero(signal[segment.start : segment.end] != 0) + segment.start
    if rows.size == 0:
        return allowed, proba
    feats = segment.market.features(params, start=segment.start)
    batch = feats.iloc[rows - segment.start].reindex(columns=list(FEATURE_COLUMNS))
    out = np.asarray(ml_filter(batch), dtype=np.float64).reshape(-1)
    if out.shape[0] != rows.size:
        raise ModelUnavailable(f"ML filter returned {out.shape[0]} probabilities for {rows.size} feature rows")
    if not np.all(np.isfinite(out)):
        raise ModelUnavailable(f"ML filter returned non-finite probabilities for {int((~np.isfinite(out)).sum())} rows")
    proba[rows] = out
    allowed[rows] = out >= threshold
    return allowed, proba


def kernel_trade_frame(
    ti: np.ndarray,
    tf: np.ndarray,
    fold: np.ndarray,
    symbol: str | np.ndarray,
    entry_time: pd.Index,
    exit_time: pd.Index,
    ml_proba: np.ndarray | None,
    snapshots: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The kernel's trade arrays as one row per trade in `TRADE_COLUMNS`, money rounded to 6 dp like the reference.

    One builder for the single-symbol run and the portfolio: the caller maps bar numbers to times, symbols, the ML
    probability at entry and the indicator snapshots at entry (its bar grids differ)."""
    n = len(ti)
    data: dict[str, object] = {
        "fold": fold,
        "symbol": symbol,
        "side": np.where(ti[:, K.TI_SIDE] == 1, "LONG", "SHORT"),
        "entry_time": entry_time,
        "exit_time": exit_time,
        "entry_price": tf[:, K.TF_ENTRY_PRICE],
        "exit_price": tf[:, K.TF_EXIT_PRICE],
        "quantity": tf[:, K.TF_QTY],
        "sl": tf[:, K.TF_SL],
        "tp": tf[:, K.TF_TP],
        "gross_pnl": tf[:, K.TF_GROSS],
        "entry_fee": tf[:, K.TF_ENTRY_FEE],
        "exit_fee": tf[:, K.TF_EXIT_FEE],
        "fees": tf[:, K.TF_ENTRY_FEE] + tf[:, K.TF_EXIT_FEE],
        "net_pnl": tf[:, K.TF_NET],
        "close_reason": [CLOSE_REASON_CODES[c].value for c in ti[:, K.TI_REASON]],
        "ml_proba": np.round(ml_proba, 4) if ml_proba is not None else np.full(n, np.nan),
        **{col: snapshots[col] for col in SNAPSHOT_COLUMNS},
        "funding": tf[:, K.TF_FUNDING],
        "liquidation_price": np.where(tf[:, K.TF_LIQ_PRICE] > 0, tf[:, K.TF_LIQ_PRICE], np.nan),
    }
    df = pd.DataFrame(data, columns=list(TRADE_COLUMNS))
    money = ["entry_price", "exit_price", "sl", "tp", "gross_pnl", "entry_fee", "exit_fee", "fees", "net_pnl", "funding"]
    df[money] = df[money].round(6)
    return df


def trades_frame(
    segment: Segment, out: KernelOutput, symbol: str, fold: int, proba: np.ndarray | None = None
) -> pd.DataFrame:
    """Kernel arrays of one symbol's run → one row per trade (close order)."""
    ti = out.ti
    idx = segment.market.index
    entry_i, exit_i = ti[:, K.TI_ENTRY_IDX], ti[:, K.TI_EXIT_IDX]
    frame = segment.market.frame
    snapshots = {col: frame[col].to_numpy(np.float64)[entry_i] if col in frame.columns else np.zeros(len(ti))
                 for col in SNAPSHOT_COLUMNS}  # fmt: skip
    return kernel_trade_frame(ti, out.tf, np.full(len(ti), fold, dtype=np.int64), symbol, idx[entry_i], idx[exit_i],
                              proba[entry_i] if proba is not None else None, snapshots)  # fmt: skip


def halt_report(segment: Segment, out: KernelOutput, fold: int) -> dict[str, object]:
    st = out.state
    kill_bar = int(st[K.ST_KILL_BAR])
    return {
        "fold": fold,
        "kill_switch": KILL_NAMES[int(st[K.ST_KILL_CODE])],
        "kill_time": segment.market.index[kill_bar].isoformat() if kill_bar >= 0 else None,
        "daily_limit_days": int(st[K.ST_DAILY_LIMIT_DAYS]),
        "entries_blocked_by_halt": int(st[K.ST_HALT_BLOCKED]),
        "entries_blocked_by_ml": int(st[K.ST_ML_BLOCKED]),
    }


def equity_series(segment: Segment, out: KernelOutput) -> pd.Series:
    return pd.Series(out.equity, index=segment.market.index[out.start : out.end], name="equity")


@dataclass
class SegmentRun:
    """A kernel run on one segment, converted to frames."""

    segment: Segment
    output: KernelOutput
    trades: pd.DataFrame
    equity: pd.Series
    halts: dict[str, object]

    @property
    def day(self) -> np.ndarray:
        return self.segment.arrays.day[self.output.start : self.output.end]


def run_segment(
    segment: Segment, cfg: BacktestConfig, ml_filter: MLFilter | None = None, fold: int = 1
) -> SegmentRun:
    signal = segment.market.signals(cfg.params).signal
    allowed, proba = ml_gate(segment, cfg.params, signal, ml_filter, cfg.ml_threshold)
    fp, ip = kernel_params(cfg)
    out = run_kernel(segment.arrays, signal, allowed, segment.start, segment.end, fp, ip)
    return SegmentRun(
        segment=segment,
        output=out,
        trades=trades_frame(segment, out, cfg.symbol, fold, proba if ml_filter is not None else None),
        equity=equity_series(segment, out),
        halts=halt_report(segment, out, fold),
    )


def summarize_run(trades: pd.DataFrame, equity: np.ndarray, day: np.ndarray, initial_balance: float) -> dict[str, object]:
    return summarize(
        trades["net_pnl"].to_numpy(np.float64),
        trades["fees"].to_numpy(np.float64),
        trades["close_reason"].tolist(),
        equity,
        day,
        initial_balance,
    )


def run_backtest(
    prepared: PreparedMarket,
    cfg: BacktestConfig,
    ml_filter: MLFilter | None = None,
    window: Window | None = None,
) -> BacktestResult:
    """One run over the whole data set (or `window`) of one symbol: the one-symbol case of
    `portfolio.run_portfolio`. A filter here must come from a model trained before the window starts (BT-08);
    walk-forward training per fold is `walk_forward.run_walk_forward`."""
    from trader_runtime.backtest.portfolio import run_portfolio

    if len(prepared) <= cfg.warmup:
        raise DataError(f"{cfg.symbol}: {len(prepared)} candles; need more than the {cfg.warmup}-bar warm-up")
    if window is not None and cfg.rules.fold_history == "slice":
        prepared, window = prepared.slice(window.start.normalize(), window.end.normalize()), None
    if cfg.symbol != prepared.symbol:  # the config names the symbol the trades are reported under
        prepared = replace(prepared, symbol=cfg.symbol)
    return run_portfolio([prepared], cfg, {prepared.symbol: ml_filter} if ml_filter is not None else None, window)
