"""Backtests of one account trading N symbols (N = 1 included): grid alignment, runs, walk-forward, results.

Alignment (spec 40 §A.2): each symbol keeps its own indicators; the bar grid is the union of the symbols' candle
open times, a symbol takes part only where it has a candle, and symbols are processed in ascending alphabetical
order inside a bar (§A.3). Tradable ranges: the platform default trades the common range of all symbols (PF-06),
each symbol after its own warm-up; the legacy rules trade every symbol from its own bar 60 to its own end.

Walk-forward (D18): by default one account runs through every test window (balance, positions, kill switches and
day base carry on; only the ML model changes at a fold boundary; a tripped kill switch stays tripped unless
`kill_reset_days` says otherwise). `rules.continuous_walk_forward=False` restarts every fold from the initial
balance; with `fold_history="slice"` the folds also re-slice and re-warm the data (the reference, §A.7).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from trader_runtime.backtest import kernel as K
from trader_runtime.backtest.accounting import brackets_for, frame_settlement_rates, stack_brackets
from trader_runtime.backtest.engine import (
    BacktestResult,
    FoldReport,
    MLFilter,
    SNAPSHOT_COLUMNS,
    TRADE_COLUMNS,
    Window,
    kernel_params,
    kernel_trade_frame,
)
from trader_runtime.backtest.metrics import legacy_trade_metrics, summarize, trade_stats
from trader_runtime.backtest.validator import validate
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.domain.schema import BAR, COMBINED_COLUMNS, METRIC_INPUT_COLUMNS
from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.strategy.features import FEATURE_COLUMNS
from trader_runtime.strategy.labels import LOOKAHEAD
from trader_runtime.strategy.pipeline import PreparedMarket

MS_PER_DAY = 86_400_000
BAR_DAYS = 15.0 / (24 * 60)
KILL_NAMES = {0: None, 1: "fast", 2: "slow"}
TrainFold = Callable[[pd.DataFrame], MLFilter | None]
#: per symbol: a fold's training rows → that symbol's filter (or None)
TrainFoldBySymbol = Callable[[str, pd.DataFrame], MLFilter | None]


# ------------------------------------------------------------------------------------------------------ the grid


def params_of(params: StrategyParams | Mapping[str, StrategyParams], symbol: str) -> StrategyParams:
    return params if isinstance(params, StrategyParams) else params[symbol]


@dataclass
class StrategyInputs:
    """What a strategy hands the account kernel, per symbol and bar: signal (1/-1/0) and the SL/TP distances from
    the entry price of a position opened on that bar. Any strategy expressible this way shares the account rules."""

    sig: np.ndarray
    sl_dist: np.ndarray
    tp_dist: np.ndarray


@dataclass
class Grid:
    """Symbols aligned on one bar grid (arrays are (S, G); `own[s, g]` is the symbol's own row or -1)."""

    symbols: list[str]
    markets: list[PreparedMarket]
    index: pd.DatetimeIndex
    day: np.ndarray
    own: np.ndarray
    present: np.ndarray
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray
    c: np.ndarray
    atr: np.ndarray
    funding: np.ndarray
    qty_step: np.ndarray
    min_notional: np.ndarray
    brackets: np.ndarray

    @property
    def n(self) -> int:
        return len(self.index)

    def scatter(self, s: int, values: np.ndarray, fill: float | int = 0, dtype=np.float64) -> np.ndarray:
        out = np.full(self.n, fill, dtype=dtype)
        rows = self.own[s]
        ok = rows >= 0
        out[ok] = np.asarray(values)[rows[ok]]
        return out

    def signals(self, params: StrategyParams | Mapping[str, StrategyParams]) -> np.ndarray:
        sig = np.zeros((len(self.symbols), self.n), dtype=np.int8)
        for s, m in enumerate(self.markets):
            rows = self.own[s]
            ok = rows >= 0
            sig[s, ok] = m.signals(params_of(params, m.symbol)).signal[rows[ok]]
        return sig

    def inputs(self, params: StrategyParams | Mapping[str, StrategyParams], sig: np.ndarray | None = None) -> "StrategyInputs":
        """The weighted-signal strategy's kernel inputs: signals and ATR × multiple exit distances per symbol."""
        sl = np.empty_like(self.atr)
        tp = np.empty_like(self.atr)
        for s, sym in enumerate(self.symbols):
            p = params_of(params, sym)
            sl[s] = self.atr[s] * p.atr_sl_mult
            tp[s] = self.atr[s] * p.atr_tp_mult
        return StrategyInputs(self.signals(params) if sig is None else sig, sl, tp)

    def g_of(self, s: int, own_row: int) -> int:
        """Global bar of the symbol's own row (clipped to its length)."""
        m = self.markets[s]
        row = min(max(own_row, 0), len(m) - 1)
        return int(self.index.searchsorted(m.index[row]))

    def g_at(self, t: pd.Timestamp) -> int:
        return int(self.index.searchsorted(t, side="left"))


_GRID_CACHE: list[tuple[tuple, list[PreparedMarket], Grid]] = []


def build_grid(markets: Sequence[PreparedMarket], cfg: BacktestConfig) -> Grid:
    """Align the symbols' prepared markets (already in processing order) on the union of their open times; the
    last few grids are kept, so repeated runs on the same prepared markets (sweeps, reports) align once."""
    key = (tuple(id(m) for m in markets), tuple(m.symbol for m in markets), cfg.funding_interval_hours,
           cfg.quantity_step, cfg.quantity_steps, cfg.min_notional, cfg.brackets_path)  # fmt: skip
    for k, ms, grid in _GRID_CACHE:
        if k == key and all(a is b for a, b in zip(ms, markets)):
            return grid
    grid = _build_grid(markets, cfg)
    _GRID_CACHE.append((key, list(markets), grid))
    del _GRID_CACHE[:-4]
    return grid


def _build_grid(markets: Sequence[PreparedMarket], cfg: BacktestConfig) -> Grid:
    if not markets:
        raise DataError("no symbols to backtest")
    index = markets[0].index
    for m in markets[1:]:
        index = index.union(m.index)
    index = pd.DatetimeIndex(index)
    n_sym, n = len(markets), len(index)
    own = np.full((n_sym, n), -1, dtype=np.int64)
    cols = {name: np.full((n_sym, n), np.nan) for name in ("open", "high", "low", "close", "atr")}
    funding = np.full((n_sym, n), np.nan)
    for s, m in enumerate(markets):
        pos = index.get_indexer(m.index)
        own[s, pos] = np.arange(len(m))
        f = m.frame
        for name in cols:
            cols[name][s, pos] = f[name].to_numpy(np.float64)
        funding[s, pos] = frame_settlement_rates(f, cfg.funding_interval_hours)
    time_ms = index.as_unit("ms").asi8.astype(np.int64)
    tables = [brackets_for(m.symbol, cfg.brackets_path) for m in markets]
    return Grid(
        symbols=[m.symbol for m in markets], markets=list(markets), index=index, day=time_ms // MS_PER_DAY, own=own,
        present=own >= 0, o=cols["open"], h=cols["high"], l=cols["low"], c=cols["close"], atr=cols["atr"],
        funding=funding, qty_step=np.array([cfg.step_for(m.symbol) for m in markets], dtype=np.float64), min_notional=np.full(n_sym, cfg.min_notional),
        brackets=stack_brackets(tables),
    )  # fmt: skip


def tradable_ranges(grid: Grid, cfg: BacktestConfig, window: Window | None = None) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) per symbol on the grid (see the module docstring)."""
    n_sym = len(grid.symbols)
    lo = np.array([grid.g_of(s, cfg.warmup) if len(grid.markets[s]) > cfg.warmup else grid.n for s in range(n_sym)], dtype=np.int64)
    hi = np.array([grid.g_of(s, len(grid.markets[s]) - 1) + 1 for s in range(n_sym)], dtype=np.int64)
    if cfg.rules.two_phase_bar or cfg.rules.continuous_walk_forward:  # PF-06: the common range
        first = max(grid.g_of(s, 0) for s in range(n_sym))
        last = min(int(h) for h in hi)
        lo = np.maximum(lo, first)
        hi = np.full(n_sym, last, dtype=np.int64)
    if window is not None:
        lo = np.maximum(lo, grid.g_at(window.start))
        hi = np.minimum(hi, grid.g_at(window.end))
    return lo, np.maximum(hi, lo)


# ---------------------------------------------------------------------------------------------------- kernel runs


@dataclass
class Account:
    """The account state arrays of `step.new_state`, plus the outputs collected so far."""

    af: np.ndarray
    ai: np.ndarray
    pf: np.ndarray
    pi: np.ndarray
    hist: np.ndarray

    @classmethod
    def fresh(cls, n_symbols: int, cfg: BacktestConfig) -> "Account":
        r = cfg.risk
        return cls(*K.new_state(n_symbols, max(r.kill_fast_streak, r.kill_slow_window), cfg.initial_balance))

    @property
    def balance(self) -> float:
        return float(self.af[K.AF_BALANCE])


@dataclass
class Chunk:
    """One kernel call: the trades it closed, its events and its equity points on bars [g0, g1)."""

    ti: np.ndarray
    tf: np.ndarray
    ev: np.ndarray
    equity: np.ndarray
    g0: int
    g1: int
    fold: int


def run_chunk(
    grid: Grid, cfg: BacktestConfig, acct: Account, inputs: StrategyInputs, allowed: np.ndarray, lo: np.ndarray,
    hi: np.ndarray, g0: int, g1: int, final: bool, fold: int = 1,
) -> Chunk:  # fmt: skip
    fp, ip = kernel_params(cfg)
    g0, g1 = int(g0), int(max(g1, g0))
    sig = inputs.sig
    cap = K.trade_capacity(sig, g0, g1) + len(grid.symbols)
    ti = np.zeros((cap, K.N_TI), dtype=np.int64)
    tf = np.zeros((cap, K.N_TF), dtype=np.float64)
    ev = np.zeros((cap * 2 + (g1 - g0) // 96 + 4 * len(grid.symbols) + 16, K.N_EV), dtype=np.int64)
    equity = np.empty(g1 - g0, dtype=np.float64)
    k0, e0 = int(acct.ai[K.AI_N_TRADES]), int(acct.ai[K.AI_N_EVENTS])
    acct.ai[K.AI_N_TRADES] = 0  # the kernel appends into this chunk's arrays
    acct.ai[K.AI_N_EVENTS] = 0
    K.run_bars(
        grid.o, grid.h, grid.l, grid.c, inputs.sl_dist, inputs.tp_dist, sig, allowed, grid.present, grid.funding, grid.day,
        lo, hi, grid.qty_step, grid.min_notional, grid.brackets, g0, g1, final, fp, ip,
        acct.af, acct.ai, acct.pf, acct.pi, acct.hist, ti, tf, ev, equity,
    )  # fmt: skip
    k, e = int(acct.ai[K.AI_N_TRADES]), int(acct.ai[K.AI_N_EVENTS])
    acct.ai[K.AI_N_TRADES] = k0 + k
    acct.ai[K.AI_N_EVENTS] = e0 + e
    return Chunk(ti[:k], tf[:k], ev[:e], equity, g0, g1, fold)


# ------------------------------------------------------------------------------------------------------ the ML gate


def ml_masks(
    grid: Grid, params: StrategyParams | Mapping[str, StrategyParams], sig: np.ndarray, filters: Mapping[str, MLFilter | None], threshold: float,
    g0: int, g1: int, allowed: np.ndarray, proba: np.ndarray,
) -> None:  # fmt: skip
    """Fill `allowed`/`proba` on bars [g0, g1) from each symbol's filter; only signal bars are evaluated.
    Errors propagate (BT-07); wrong-length or non-finite answers are refused."""
    for s, sym in enumerate(grid.symbols):
        f = filters.get(sym)
        if f is None:
            continue
        gs = np.flatnonzero(sig[s, g0:g1] != 0) + g0
        if gs.size == 0:
            continue
        rows = grid.own[s, gs]
        m = grid.markets[s]
        feats = m.features(params_of(params, sym), start=int(rows.min()))
        batch = feats.iloc[rows - int(rows.min())].reindex(columns=list(FEATURE_COLUMNS))
        out = np.asarray(f(batch), dtype=np.float64).reshape(-1)
        if out.shape[0] != rows.size:
            raise ModelUnavailable(f"{sym}: ML filter returned {out.shape[0]} probabilities for {rows.size} feature rows")
        if not np.all(np.isfinite(out)):
            raise ModelUnavailable(f"{sym}: ML filter returned non-finite probabilities")
        proba[s, gs] = out
        allowed[s, gs] = out >= threshold


# ------------------------------------------------------------------------------------------------------ reporting


def trades_frame(grid: Grid, chunks: Sequence[Chunk], proba: np.ndarray | None, sort_by_exit: bool) -> pd.DataFrame:
    """Kernel trades of the account → one row per trade (close order, or exit bar order with `sort_by_exit`)."""
    ti = np.concatenate([c.ti for c in chunks]) if chunks else np.zeros((0, K.N_TI), dtype=np.int64)
    tf = np.concatenate([c.tf for c in chunks]) if chunks else np.zeros((0, K.N_TF))
    folds = np.concatenate([np.full(len(c.ti), c.fold, dtype=np.int64) for c in chunks]) if chunks else np.zeros(0, dtype=np.int64)
    entry_g, exit_g, sym = ti[:, K.TI_ENTRY_IDX], ti[:, K.TI_EXIT_IDX], ti[:, K.TI_SYMBOL]
    snapshots: dict[str, np.ndarray] = {}
    for col in SNAPSHOT_COLUMNS:
        vals = np.zeros(len(ti))
        for s, m in enumerate(grid.markets):
            pick = sym == s
            if pick.any() and col in m.frame.columns:
                vals[pick] = m.frame[col].to_numpy(np.float64)[grid.own[s, entry_g[pick]]]
        snapshots[col] = vals
    df = kernel_trade_frame(
        ti, tf, folds,
        np.array(grid.symbols, dtype=object)[sym] if len(ti) else np.zeros(0, dtype=object),
        grid.index[entry_g], grid.index[exit_g],
        proba[sym, entry_g] if proba is not None and len(ti) else None,
        snapshots,
    )  # fmt: skip
    if sort_by_exit and len(df):  # PF-06: END_OF_DATA trades of symbols ending early take their place in time
        order = np.lexsort((np.arange(len(df)), exit_g))
        df = df.iloc[order].reset_index(drop=True)
    return df


def halted_periods(grid: Grid, chunks: Sequence[Chunk], end: pd.Timestamp) -> list[dict[str, object]]:
    """Kill switches (until reset or the end), daily-limit days (until the UTC day ends) and ruin, in time order."""
    out: list[dict[str, object]] = []
    open_kills: dict[int, dict[str, object]] = {}
    for ch in chunks:
        for kind, s, g, code in ch.ev:
            t = grid.index[g]
            who = grid.symbols[s] if s >= 0 else "account"
            if kind == K.EV_KILL:
                rec = {"scope": who, "kind": f"kill_switch_{KILL_NAMES[int(code)]}", "start": t, "end": None}
                out.append(rec)
                open_kills[int(s)] = rec
            elif kind == K.EV_KILL_RESET and int(s) in open_kills:
                open_kills.pop(int(s))["end"] = t
            elif kind == K.EV_DAILY_LIMIT:
                out.append({"scope": "account", "kind": "daily_loss_limit", "start": t, "end": t.floor("D") + pd.Timedelta(days=1)})
            elif kind == K.EV_RUIN:
                out.append({"scope": "account", "kind": "ruin", "start": t, "end": None})
    for rec in out:
        if rec["end"] is None or rec["end"] > end:  # type: ignore[operator]
            rec["end"] = end if rec["end"] is None or rec["end"] > end else rec["end"]  # type: ignore[operator]
        rec["days"] = round((rec["end"] - rec["start"]).total_seconds() / 86400.0, 2)  # type: ignore[operator]
    return sorted(out, key=lambda r: r["start"])  # type: ignore[arg-type, return-value]


def per_symbol_summaries(trades: pd.DataFrame, symbols: Sequence[str], initial_balance: float) -> dict[str, dict[str, object]]:
    """PF-10: trade figures per symbol (trades, win rate, PF, PnL, fees, reasons, funding)."""
    out: dict[str, dict[str, object]] = {}
    for sym in symbols:
        t = trades[trades["symbol"] == sym]
        net = t["net_pnl"].to_numpy(np.float64)
        s = trade_stats(net, t["fees"].to_numpy(np.float64), t["close_reason"].tolist(), initial_balance)
        s["legacy_metrics"] = legacy_trade_metrics(net, initial_balance)
        s["total_funding"] = round(float(t["funding"].sum()), 4) if "funding" in t else 0.0
        out[sym] = s
    return out


def _summary(trades: pd.DataFrame, equity: np.ndarray, day: np.ndarray, base: float) -> dict[str, object]:
    s = summarize(
        trades["net_pnl"].to_numpy(np.float64), trades["fees"].to_numpy(np.float64), trades["close_reason"].tolist(),
        equity, day, base,
    )  # fmt: skip
    funding = float(trades["funding"].sum()) if "funding" in trades else 0.0
    s["total_funding"] = round(funding, 4)
    s["liquidations"] = int((trades["close_reason"] == "LIQUIDATION").sum())
    s["final_equity"] = round(float(equity[-1]), 4) if len(equity) else round(base, 4)
    s["min_equity"] = round(float(np.min(equity)), 4) if len(equity) else round(base, 4)
    return s


def _halts_for(grid: Grid, chunks: Sequence[Chunk], acct: Account, fold: int) -> dict[str, object]:
    kill = None
    kill_time = None
    for ch in chunks:
        for kind, s, g, code in ch.ev:
            if kind == K.EV_KILL and kill is None:
                kill, kill_time = KILL_NAMES[int(code)], grid.index[g].isoformat()
    ai = acct.ai
    return {
        "fold": fold,
        "kill_switch": kill,
        "kill_time": kill_time,
        "daily_limit_days": int(sum(int((ch.ev[:, 0] == K.EV_DAILY_LIMIT).sum()) for ch in chunks)),
        "entries_blocked_by_halt": int(ai[K.AI_HALT_BLOCKED]),
        "entries_blocked_by_ml": int(ai[K.AI_ML_BLOCKED]),
        "entries_blocked_by_risk": int(ai[K.AI_RISK_BLOCKED]),
        "liquidations": int(sum(int((ch.ev[:, 0] == K.EV_LIQUIDATION).sum()) for ch in chunks)),
        "ruined": bool(any((ch.ev[:, 0] == K.EV_RUIN).any() for ch in chunks)),
    }


# ------------------------------------------------------------------------------------------------------ entry points


def _markets_in_order(markets: Mapping[str, PreparedMarket] | Sequence[PreparedMarket]) -> list[PreparedMarket]:
    items = list(markets.values()) if isinstance(markets, Mapping) else list(markets)
    return sorted(items, key=lambda m: m.symbol)


def _params(cfg: BacktestConfig, ms: Sequence[PreparedMarket], symbol_params: Mapping[str, StrategyParams] | None):
    if not symbol_params:
        return cfg.params
    return {m.symbol: symbol_params.get(m.symbol, cfg.params) for m in ms}


def _config_for(cfg: BacktestConfig, markets: Sequence[PreparedMarket]) -> BacktestConfig:
    syms = tuple(m.symbol for m in markets)
    if cfg.symbols and sorted(cfg.symbols) != sorted(syms):
        raise DataError(f"configured symbols {list(cfg.symbols)} but data for {list(syms)}")
    return cfg if (cfg.symbols or len(syms) == 1) else replace(cfg, symbols=syms)


def run_portfolio(
    markets: Mapping[str, PreparedMarket] | Sequence[PreparedMarket],
    cfg: BacktestConfig,
    filters: Mapping[str, MLFilter | None] | None = None,
    window: Window | None = None,
    symbol_params: Mapping[str, StrategyParams] | None = None,
) -> BacktestResult:
    """One run over the (common) range of all symbols on one account (`symbol_params` overrides cfg.params per
    symbol, as the trader's per-symbol settings do)."""
    ms = _markets_in_order(markets)
    cfg = _config_for(cfg, ms)
    for m in ms:
        if len(m) <= cfg.warmup:
            raise DataError(f"{m.symbol}: {len(m)} candles; need more than the {cfg.warmup}-bar warm-up")
    grid = build_grid(ms, cfg)
    lo, hi = tradable_ranges(grid, cfg, window)
    g0, g1 = int(lo.min()), int(hi.max())
    params = _params(cfg, ms, symbol_params)
    inputs = grid.inputs(params)
    sig = inputs.sig
    allowed = np.ones(sig.shape, dtype=np.bool_)
    proba = np.full(sig.shape, np.nan)
    if filters:
        ml_masks(grid, params, sig, filters, cfg.ml_threshold, g0, g1, allowed, proba)
    acct = Account.fresh(len(ms), cfg)
    chunk = run_chunk(grid, cfg, acct, inputs, allowed, lo, hi, g0, g1, True)
    trades = trades_frame(grid, [chunk], proba if filters else None, cfg.rules.two_phase_bar)
    equity = pd.Series(chunk.equity, index=grid.index[g0:g1], name="equity")
    summary = _summary(trades, chunk.equity, grid.day[g0:g1], cfg.initial_balance)
    validation = validate(trades, summary, cfg.initial_balance, (g1 - g0) * BAR_DAYS)
    return BacktestResult(
        mode="single", config=cfg, trades=trades, equity=equity, summary=summary, validation=validation,
        halts=[_halts_for(grid, [chunk], acct, 1)], symbols=grid.symbols,
        per_symbol=per_symbol_summaries(trades, grid.symbols, cfg.initial_balance),
        halted_periods=halted_periods(grid, [chunk], grid.index[g1 - 1] + BAR if g1 > g0 else grid.index[-1]),
    )  # fmt: skip


@dataclass(frozen=True)
class FoldWindow:
    fold: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    @property
    def test_window(self) -> Window:
        return Window(self.test_start, self.test_end)


def walk_forward_windows(first: pd.Timestamp, last: pd.Timestamp, wf: WalkForwardConfig) -> list[FoldWindow]:
    """All folds whose test window ends at or before `last` (the last common timestamp); month offsets are
    counted from `first`, so month-end clipping never drifts."""
    out: list[FoldWindow] = []
    k = 0
    while True:
        offset = k * wf.step
        c = first + pd.DateOffset(months=offset)
        train_end = first + pd.DateOffset(months=offset + wf.train_months)
        test_end = first + pd.DateOffset(months=offset + wf.train_months + wf.test_months)
        if test_end > last:
            return out
        out.append(FoldWindow(k + 1, c, train_end, train_end, test_end))
        k += 1


def common_range(markets: Sequence[PreparedMarket]) -> tuple[pd.Timestamp, pd.Timestamp]:
    return max(m.index[0] for m in markets), min(m.index[-1] for m in markets)


def _fold_filters(
    ms: Sequence[PreparedMarket], w: FoldWindow, train: TrainFoldBySymbol | None, purge_bars: int
) -> tuple[dict[str, MLFilter | None], bool | None]:
    if train is None:
        return {}, None
    out: dict[str, MLFilter | None] = {}
    for m in ms:
        raw_cols = [c for c in COMBINED_COLUMNS + METRIC_INPUT_COLUMNS if c in m.frame.columns]  # what features read
        idx = m.index
        rows = m.frame.loc[(idx >= w.train_start) & (idx < w.train_end - purge_bars * BAR), raw_cols]
        out[m.symbol] = train(m.symbol, rows)
    return out, all(f is not None for f in out.values())


def run_portfolio_walk_forward(
    markets: Mapping[str, PreparedMarket] | Sequence[PreparedMarket],
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    train_fold: TrainFoldBySymbol | None = None,
    filters: Mapping[str, MLFilter | None] | None = None,
    purge_bars: int = LOOKAHEAD,
    symbol_params: Mapping[str, StrategyParams] | None = None,
) -> BacktestResult:
    """Walk-forward over the common range: continuous account (default) or a restart per fold (legacy)."""
    if train_fold is not None and filters is not None:
        raise ValueError("pass either train_fold (per-fold models) or filters (fixed filters), not both")
    ms = _markets_in_order(markets)
    cfg = _config_for(cfg, ms)
    if any(len(m) == 0 for m in ms):
        raise DataError("empty data set")
    first, last = common_range(ms)
    windows = walk_forward_windows(first, last, wf)
    if not windows:
        raise DataError(
            f"{','.join(m.symbol for m in ms)}: data {first} → {last} is shorter than train {wf.train_months} + "
            f"test {wf.test_months} months; no walk-forward fold fits"
        )
    continuous = cfg.rules.continuous_walk_forward and cfg.rules.fold_history == "full"
    params = _params(cfg, ms, symbol_params)
    if continuous:
        return _continuous(ms, cfg, windows, train_fold, filters, purge_bars, params)
    return _restarting(ms, cfg, windows, train_fold, filters, purge_bars, params)


def _continuous(ms, cfg, windows, train_fold, filters, purge_bars, params) -> BacktestResult:
    grid = build_grid(ms, cfg)
    lo, hi = tradable_ranges(grid, cfg)
    inputs = grid.inputs(params)
    sig = inputs.sig
    allowed = np.ones(sig.shape, dtype=np.bool_)
    proba = np.full(sig.shape, np.nan)
    acct = Account.fresh(len(ms), cfg)
    chunks: list[Chunk] = []
    reports: list[FoldReport] = []
    starts = [grid.g_at(w.test_start) for w in windows]
    tested_bars = 0
    for k, w in enumerate(windows):
        g0 = starts[k]
        t_end = grid.g_at(w.test_end)
        g1 = starts[k + 1] if k + 1 < len(windows) else t_end
        fold_filters, model_used = _fold_filters(ms, w, train_fold, purge_bars) if train_fold else (filters or {}, None if not filters else True)
        if fold_filters:
            ml_masks(grid, params, sig, fold_filters, cfg.ml_threshold, g0, t_end, allowed, proba)
        if t_end < g1:  # untested months between windows: positions run on, no new entries
            allowed[:, t_end:g1] = False
        tested_bars += max(min(t_end, g1) - g0, 0)
        base = acct.balance
        ai0 = acct.ai.copy()
        ch = run_chunk(grid, cfg, acct, inputs, allowed, lo, hi, g0, g1, k + 1 == len(windows), fold=w.fold)
        chunks.append(ch)
        halts = _halts_for(grid, [ch], acct, w.fold)
        for key, idx in (("entries_blocked_by_halt", K.AI_HALT_BLOCKED), ("entries_blocked_by_ml", K.AI_ML_BLOCKED), ("entries_blocked_by_risk", K.AI_RISK_BLOCKED)):
            halts[key] = int(acct.ai[idx] - ai0[idx])
        summary = {"start_equity": round(base, 4)}  # the fold's figures are filled in by _combine from its trades
        reports.append(FoldReport(w.fold, w.train_start, w.train_end, w.test_start, w.test_end, model_used, summary, halts))
    return _combine(grid, cfg, chunks, reports, proba if (train_fold or filters) else None, "walk_forward", tested_bars)


def _restarting(ms, cfg, windows, train_fold, filters, purge_bars, params) -> BacktestResult:
    chunks: list[Chunk] = []
    reports: list[FoldReport] = []
    grids: list[Grid] = []
    probas: list[np.ndarray] = []
    halts_all: list[dict[str, object]] = []
    full_grid = build_grid(ms, cfg) if cfg.rules.fold_history == "full" else None
    for w in windows:
        if full_grid is None:  # reference: re-slice [start date 00:00, end date 00:00] and re-warm every symbol
            sub = [m.slice(w.test_start.normalize(), w.test_end.normalize()) for m in ms]
            grid = build_grid(sub, cfg)
            lo, hi = tradable_ranges(grid, cfg)
        else:
            grid = full_grid
            lo, hi = tradable_ranges(grid, cfg, w.test_window)
        g0, g1 = int(lo.min()), int(hi.max())
        inputs = grid.inputs(params)
        sig = inputs.sig
        allowed = np.ones(sig.shape, dtype=np.bool_)
        proba = np.full(sig.shape, np.nan)
        fold_filters, model_used = _fold_filters(ms, w, train_fold, purge_bars) if train_fold else (filters or {}, None if not filters else True)
        if fold_filters:
            ml_masks(grid, params, sig, fold_filters, cfg.ml_threshold, g0, g1, allowed, proba)
        acct = Account.fresh(len(ms), cfg)
        ch = run_chunk(grid, cfg, acct, inputs, allowed, lo, hi, g0, g1, True, fold=w.fold)
        fold_trades = trades_frame(grid, [ch], proba if fold_filters else None, cfg.rules.two_phase_bar)
        halts = _halts_for(grid, [ch], acct, w.fold)
        fs = _summary(fold_trades, ch.equity, grid.day[g0:g1], cfg.initial_balance)
        fs["start_equity"] = cfg.initial_balance
        reports.append(FoldReport(w.fold, w.train_start, w.train_end, w.test_start, w.test_end, model_used, fs, halts))
        chunks.append(ch)
        grids.append(grid)
        probas.append(proba if fold_filters else None)
        halts_all.append(halts)
    # each fold has its own grid: build frames per fold, then chain the fold equity curves (each restarts)
    frames = [trades_frame(g, [c], p, cfg.rules.two_phase_bar) for g, c, p in zip(grids, chunks, probas)]
    trades = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(TRADE_COLUMNS))
    parts, days, offset = [], [], 0.0
    for g, c, f in zip(grids, chunks, frames):
        parts.append(pd.Series(c.equity + offset, index=g.index[c.g0 : c.g1]))
        days.append(g.day[c.g0 : c.g1])
        offset += float(f["net_pnl"].sum()) + float(f["funding"].sum())
    equity = pd.concat(parts).rename("equity")
    day = np.concatenate(days)
    summary = _summary(trades, equity.to_numpy(), day, cfg.initial_balance)
    summary["folds"] = len(reports)
    summary["folds_without_model"] = sum(1 for r in reports if r.model_used is False)
    tested = sum((c.g1 - c.g0) for c in chunks) * BAR_DAYS
    validation = validate(trades, summary, cfg.initial_balance, tested, int(summary["folds_without_model"]))
    periods: list[dict[str, object]] = []
    for g, c in zip(grids, chunks):
        periods.extend(halted_periods(g, [c], g.index[c.g1 - 1] + BAR if c.g1 > c.g0 else g.index[-1]))
    syms = [m.symbol for m in ms]
    return BacktestResult(
        mode="walk_forward", config=cfg, trades=trades, equity=equity, summary=summary, validation=validation,
        halts=halts_all, folds=reports, symbols=syms, per_symbol=per_symbol_summaries(trades, syms, cfg.initial_balance),
        halted_periods=periods,
    )  # fmt: skip


def _combine(grid: Grid, cfg: BacktestConfig, chunks: list[Chunk], reports: list[FoldReport], proba, mode: str,
             tested_bars: int) -> BacktestResult:  # fmt: skip
    trades = trades_frame(grid, chunks, proba, True)
    # a trade belongs to the fold whose model let it in: the fold of its entry bar
    bounds = [(c.g0, c.g1, c.fold) for c in chunks]
    if len(trades):
        gi = grid.index.get_indexer(pd.DatetimeIndex(trades["entry_time"]))
        folds = np.zeros(len(trades), dtype=np.int64)
        for g0, g1, fold in bounds:
            folds[(gi >= g0) & (gi < g1)] = fold
        trades["fold"] = folds
    for ch, rep in zip(chunks, reports):  # fold figures: the trades its model let in, on the equity of its bars
        start = float(rep.summary.get("start_equity", cfg.initial_balance))  # type: ignore[arg-type]
        fold_trades = trades[trades["fold"] == rep.fold] if len(trades) else trades
        rep.summary = {**_summary(fold_trades, ch.equity, grid.day[ch.g0 : ch.g1], start), "start_equity": round(start, 4)}
    g_first, g_last = chunks[0].g0, chunks[-1].g1
    equity = pd.Series(np.concatenate([c.equity for c in chunks]), index=grid.index[g_first:g_last], name="equity")
    day = grid.day[g_first:g_last]
    summary = _summary(trades, equity.to_numpy(), day, cfg.initial_balance)
    summary["folds"] = len(reports)
    summary["folds_without_model"] = sum(1 for r in reports if r.model_used is False)
    validation = validate(trades, summary, cfg.initial_balance, tested_bars * BAR_DAYS, int(summary["folds_without_model"]))
    end = grid.index[g_last - 1] + BAR if g_last > g_first else grid.index[-1]
    return BacktestResult(
        mode=mode, config=cfg, trades=trades, equity=equity, summary=summary, validation=validation,
        halts=[r.halts for r in reports], folds=reports, symbols=grid.symbols,
        per_symbol=per_symbol_summaries(trades, grid.symbols, cfg.initial_balance),
        halted_periods=halted_periods(grid, chunks, end),
    )  # fmt: skip
