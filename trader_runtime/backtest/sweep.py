"""Strategy parameter sweep (spec 20 §5): every grid combination as a walk-forward backtest of one account, ML off.

With several symbols this is the portfolio sweep (one shared account, spec 40 §A.1) ranked on account-level
figures. Signals depend only on (signal_threshold, adx_threshold, volume_multiplier), so the 36 distinct signal
arrays are computed once per account run before any simulation; SL/TP multiples only change the kernel run.
Combinations are split into chunks over a process pool whose workers receive the precomputed arrays once; by
default the pool is used only when the work is long enough to pay for starting it (`pick_workers`). Ranking applies BT-19: combinations with at least `min_trades` trades rank first, then
profit factor, total PnL and trade count (descending), then grid order; every row is kept.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from trader_runtime.backtest import kernel as K
from trader_runtime.backtest.metrics import summarize
from trader_runtime.backtest.portfolio import (
    Account,
    Grid,
    StrategyInputs,
    build_grid,
    common_range,
    run_chunk,
    tradable_ranges,
    walk_forward_windows,
)
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.domain.enums import CLOSE_REASON_CODES
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.strategy.pipeline import PreparedMarket

#: spec 20 §5.1, key order = product order (last key varies fastest)
PARAM_GRID: dict[str, tuple[float | int, ...]] = {
    "atr_sl_mult": (1.0, 1.5, 2.0),
    "atr_tp_mult": (2.0, 3.0, 4.0),
    "signal_threshold": (3, 4, 5),
    "adx_threshold": (0.0, 20.0, 25.0, 30.0),
    "volume_multiplier": (1.5, 2.0, 2.5),
}
CURRENT = StrategyParams(atr_sl_mult=2.0, atr_tp_mult=2.0, signal_threshold=3, adx_threshold=25.0, volume_multiplier=2.5)
DEFAULT_MIN_TRADES = 20
_REASON_NAMES = tuple(r.value for r in CLOSE_REASON_CODES)

SignalKey = tuple[int, float, float]


def grid_combinations(grid: dict[str, Sequence[float | int]] = PARAM_GRID) -> list[StrategyParams]:
    keys = list(grid)
    return [StrategyParams(**dict(zip(keys, values))) for values in itertools.product(*(grid[k] for k in keys))]


def signal_key(params: StrategyParams) -> SignalKey:
    return (params.signal_threshold, float(params.adx_threshold), float(params.volume_multiplier))


@dataclass
class SweepSegment:
    """One account run's kernel inputs (a whole continuous walk-forward, or one restarting fold) with every
    distinct signal array the grid needs (picklable)."""

    grid: Grid
    lo: np.ndarray
    hi: np.ndarray
    g0: int
    g1: int
    allowed: np.ndarray
    signals: dict[SignalKey, np.ndarray]
    fold: int


@dataclass
class SweepInputs:
    cfg: BacktestConfig
    segments: list[SweepSegment]
    continuous: bool


@dataclass
class SweepResult:
    rows: list[dict[str, object]]  # ranked
    min_trades: int
    folds: int
    workers: int
    windows: list[dict[str, str]] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)

    def top(self, n: int = 10) -> list[dict[str, object]]:
        return self.rows[:n]


def _markets(prepared: PreparedMarket | Sequence[PreparedMarket] | Mapping[str, PreparedMarket]) -> list[PreparedMarket]:
    if isinstance(prepared, PreparedMarket):
        return [prepared]
    items = list(prepared.values()) if isinstance(prepared, Mapping) else list(prepared)
    return sorted(items, key=lambda m: m.symbol)


def prepare_sweep(
    prepared: PreparedMarket | Sequence[PreparedMarket] | Mapping[str, PreparedMarket],
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    combos: Iterable[StrategyParams],
) -> tuple[SweepInputs, list[dict[str, str]]]:
    """Cut the account runs once (see `portfolio`) and precompute every distinct signal array on each of them."""
    ms = _markets(prepared)
    if len(ms) == 1 and cfg.symbol != ms[0].symbol:
        ms = [replace(ms[0], symbol=cfg.symbol)]
    if len(ms) > 1 and not cfg.symbols:
        cfg = replace(cfg, symbols=tuple(m.symbol for m in ms))
    first, last = common_range(ms)
    windows = walk_forward_windows(first, last, wf)
    if not windows:
        raise DataError(f"{','.join(m.symbol for m in ms)}: data too short for train {wf.train_months} + test {wf.test_months} months")
    keys = {signal_key(p): p for p in combos}
    continuous = cfg.rules.continuous_walk_forward and cfg.rules.fold_history == "full"
    segments: list[SweepSegment] = []
    if continuous or cfg.rules.fold_history == "full":
        grid = build_grid(ms, cfg)
        sigs = {k: grid.signals(p) for k, p in keys.items()}
    if continuous:
        lo, hi = tradable_ranges(grid, cfg)
        g0 = grid.g_at(windows[0].test_start)
        g1 = grid.g_at(windows[-1].test_end)
        allowed = np.zeros((len(ms), grid.n), dtype=np.bool_)
        for w in windows:
            allowed[:, grid.g_at(w.test_start) : grid.g_at(w.test_end)] = True
        segments.append(SweepSegment(grid, lo, hi, g0, g1, allowed, sigs, 1))
    else:
        for w in windows:
            if cfg.rules.fold_history == "full":
                lo, hi = tradable_ranges(grid, cfg, w.test_window)
                g, fold_sigs = grid, sigs
            else:
                g = build_grid([m.slice(w.test_start.normalize(), w.test_end.normalize()) for m in ms], cfg)
                lo, hi = tradable_ranges(g, cfg)
                fold_sigs = {k: g.signals(p) for k, p in keys.items()}
            allowed = np.ones((len(ms), g.n), dtype=np.bool_)
            segments.append(SweepSegment(g, lo, hi, int(lo.min()), int(hi.max()), allowed, fold_sigs, w.fold))
    described = [
        {"fold": str(w.fold), "test_start": w.test_start.isoformat(), "test_end": w.test_end.isoformat()}
        for w in windows
    ]
    return SweepInputs(cfg, segments, continuous), described


def evaluate_combo(inputs: SweepInputs, params: StrategyParams) -> dict[str, object]:
    """Account-level walk-forward summary of one combination (same numbers as `run_walk_forward`)."""
    cfg = replace(inputs.cfg, params=params)
    key = signal_key(params)
    nets: list[np.ndarray] = []
    fees: list[np.ndarray] = []
    funding: list[np.ndarray] = []
    reasons: list[str] = []
    curves: list[np.ndarray] = []
    days: list[np.ndarray] = []
    offset = 0.0
    for seg in inputs.segments:
        acct = Account.fresh(len(seg.grid.symbols), cfg)
        strat = StrategyInputs(seg.signals[key], seg.grid.atr * params.atr_sl_mult, seg.grid.atr * params.atr_tp_mult)
        ch = run_chunk(seg.grid, cfg, acct, strat, seg.allowed, seg.lo, seg.hi, seg.g0, seg.g1, True, seg.fold)
        order = np.lexsort((np.arange(len(ch.ti)), ch.ti[:, K.TI_EXIT_IDX])) if cfg.rules.two_phase_bar else np.arange(len(ch.ti))
        tf = ch.tf[order]
        net = np.round(tf[:, K.TF_NET], 6)
        fund = np.round(tf[:, K.TF_FUNDING], 6)
        nets.append(net)
        fees.append(np.round(tf[:, K.TF_ENTRY_FEE] + tf[:, K.TF_EXIT_FEE], 6))
        funding.append(fund)
        reasons.extend(_REASON_NAMES[c] for c in ch.ti[order, K.TI_REASON])
        curves.append(ch.equity + offset)
        days.append(seg.grid.day[seg.g0 : seg.g1])
        if not inputs.continuous:
            offset += float(net.sum()) + float(fund.sum())
    equity = np.concatenate(curves)
    out = summarize(np.concatenate(nets), np.concatenate(fees), reasons, equity, np.concatenate(days), cfg.initial_balance)
    out["total_funding"] = round(float(np.concatenate(funding).sum()), 4)
    out["liquidations"] = reasons.count("LIQUIDATION")
    out["final_equity"] = round(float(equity[-1]), 4) if equity.size else cfg.initial_balance
    out["min_equity"] = round(float(equity.min()), 4) if equity.size else cfg.initial_balance
    return out


_WORKER_INPUTS: SweepInputs | None = None


def _worker_init(inputs: SweepInputs) -> None:
    global _WORKER_INPUTS
    _WORKER_INPUTS = inputs


def _worker_run(chunk: list[tuple[int, StrategyParams]]) -> list[tuple[int, dict[str, object]]]:
    assert _WORKER_INPUTS is not None, "worker not initialised"
    return [(i, evaluate_combo(_WORKER_INPUTS, p)) for i, p in chunk]


def _pf_sort_value(pf: object) -> float:
    value = float(pf)  # type: ignore[arg-type]
    return math.inf if math.isinf(value) else value


def rank_rows(rows: list[dict[str, object]], min_trades: int) -> list[dict[str, object]]:
    """BT-19 ranking; rows carry `grid_index`, `summary`; adds `rank` and `meets_min_trades`."""

    def key(row: dict[str, object]) -> tuple:
        s = row["summary"]
        assert isinstance(s, dict)
        return (
            0 if int(s["total_trades"]) >= min_trades else 1,
            -_pf_sort_value(s["profit_factor"]),
            -float(s["total_pnl"]),
            -int(s["total_trades"]),
            int(row["grid_index"]),  # type: ignore[arg-type]
        )

    ranked = sorted(rows, key=key)
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
        row["meets_min_trades"] = int(row["summary"]["total_trades"]) >= min_trades  # type: ignore[index]
    return ranked


#: in-process CPU seconds a sweep must be expected to take before a worker pool pays off: starting the workers and
#: shipping them the inputs costs seconds, so one symbol-year (a few seconds of work) ran 1.9x slower on 2 workers
POOL_MIN_SERIAL_S = 30.0


def pick_workers(serial_s: float, cpus: int | None = None) -> int:
    """Worker processes for a sweep whose in-process run would take about `serial_s` CPU seconds: 1 below
    `POOL_MIN_SERIAL_S`, then one more per further `POOL_MIN_SERIAL_S`, at most one per usable CPU."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if serial_s < POOL_MIN_SERIAL_S:
        return 1
    return max(1, min(cpus, int(serial_s // POOL_MIN_SERIAL_S) + 1))


def _chunks(items: list, n_chunks: int) -> list[list]:
    n_chunks = max(1, min(n_chunks, len(items)))
    return [items[i::n_chunks] for i in range(n_chunks)]


def run_sweep(
    prepared: PreparedMarket | Sequence[PreparedMarket] | Mapping[str, PreparedMarket],
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    combos: Sequence[StrategyParams] | None = None,
    workers: int | None = None,
    min_trades: int = DEFAULT_MIN_TRADES,
    progress: bool = True,
) -> SweepResult:
    """Evaluate every combination walk-forward; `workers=1` runs in-process, None picks the count from the time
    of one combination (`pick_workers`)."""
    if workers is not None and workers < 1:
        raise ConfigError(f"workers={workers}; need at least 1")
    if min_trades < 0:
        raise ConfigError(f"min_trades={min_trades}; must be >= 0")
    combos = list(grid_combinations() if combos is None else combos)
    inputs, windows = prepare_sweep(prepared, cfg, wf, combos)
    indexed = list(enumerate(combos))
    cfg = inputs.cfg
    bar = tqdm(total=len(indexed), desc=f"sweep {','.join(cfg.symbol_list)}", unit="combo", disable=not progress, leave=False)
    try:
        # the first combination compiles (or loads from the numba cache) before any worker starts; without a given
        # worker count, the second one is timed to size the pool
        results: dict[int, dict[str, object]] = {0: evaluate_combo(inputs, combos[0])}
        rest = indexed[1:]
        if workers is None:
            workers = 1
            if rest:
                t0 = time.process_time()
                results[1] = evaluate_combo(inputs, combos[1])
                rest = indexed[2:]
                workers = pick_workers((time.process_time() - t0) * len(rest))
        bar.update(len(results))
        if workers == 1 or not rest:
            for i, p in rest:
                results[i] = evaluate_combo(inputs, p)
                bar.update(1)
        else:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(inputs,)) as pool:
                futures = [pool.submit(_worker_run, chunk) for chunk in _chunks(rest, workers * 6)]
                for fut in as_completed(futures):
                    done = fut.result()
                    results.update(done)
                    bar.update(len(done))
    finally:
        bar.close()
    rows = [
        {"grid_index": i, "params": p.as_dict(), "current": p == CURRENT, "summary": results[i]}
        for i, p in indexed
    ]
    return SweepResult(rank_rows(rows, min_trades), min_trades, len(windows), workers, windows, cfg.symbol_list)
