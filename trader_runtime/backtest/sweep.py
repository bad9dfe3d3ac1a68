"""Strategy parameter sweep (spec 20 §5): every grid combination as a walk-forward backtest, ML off.

Signals depend only on (signal_threshold, adx_threshold, volume_multiplier), so the 36 distinct signal arrays are
computed once per fold segment before any simulation; SL/TP multiples only change the compiled kernel run.
Combinations are split into chunks over a process pool (2 workers by default) whose workers receive the
precomputed arrays once. Ranking applies BT-19: combinations with at least `min_trades` trades rank first, then
profit factor, total PnL and trade count (descending), then grid order; every row is kept.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np
from tqdm import tqdm

from trader_runtime.backtest import kernel as K
from trader_runtime.backtest.engine import MarketArrays, kernel_params, run_kernel, segment_for
from trader_runtime.backtest.metrics import summarize
from trader_runtime.backtest.walk_forward import walk_forward_windows
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
    """One fold's kernel inputs with every distinct signal array the grid needs (picklable, no pandas)."""

    arrays: MarketArrays
    start: int
    end: int
    signals: dict[SignalKey, np.ndarray]


@dataclass
class SweepInputs:
    cfg: BacktestConfig
    segments: list[SweepSegment]


@dataclass
class SweepResult:
    rows: list[dict[str, object]]  # ranked
    min_trades: int
    folds: int
    workers: int
    windows: list[dict[str, str]] = field(default_factory=list)

    def top(self, n: int = 10) -> list[dict[str, object]]:
        return self.rows[:n]


def prepare_sweep(
    prepared: PreparedMarket, cfg: BacktestConfig, wf: WalkForwardConfig, combos: Iterable[StrategyParams]
) -> tuple[SweepInputs, list[dict[str, str]]]:
    """Cut the fold segments once and precompute every distinct signal array on each of them."""
    index = prepared.index
    windows = walk_forward_windows(index[0], index[-1], wf)
    if not windows:
        raise DataError(f"{cfg.symbol}: data too short for train {wf.train_months} + test {wf.test_months} months")
    keys = {signal_key(p): p for p in combos}
    segments: list[SweepSegment] = []
    shared: dict[int, tuple[MarketArrays, dict[SignalKey, np.ndarray]]] = {}
    for w in windows:
        seg = segment_for(prepared, cfg, w.test_window)
        cached = shared.get(id(seg.market))
        if cached is None:
            cached = (seg.arrays, {k: seg.market.signals(p).signal for k, p in keys.items()})
            if seg.market is prepared:
                shared[id(seg.market)] = cached
        segments.append(SweepSegment(cached[0], seg.start, seg.end, cached[1]))
    described = [
        {"fold": str(w.fold), "test_start": w.test_start.isoformat(), "test_end": w.test_end.isoformat()}
        for w in windows
    ]
    return SweepInputs(cfg, segments), described


def evaluate_combo(inputs: SweepInputs, params: StrategyParams) -> dict[str, object]:
    """Walk-forward summary of one combination (same numbers as `run_walk_forward`)."""
    cfg = replace(inputs.cfg, params=params)
    fp, ip = kernel_params(cfg)
    key = signal_key(params)
    nets: list[np.ndarray] = []
    fees: list[np.ndarray] = []
    reasons: list[str] = []
    curves: list[np.ndarray] = []
    days: list[np.ndarray] = []
    offset = 0.0
    for seg in inputs.segments:
        signal = seg.signals[key]
        allowed = np.ones(signal.shape[0], dtype=np.bool_)
        out = run_kernel(seg.arrays, signal, allowed, seg.start, seg.end, fp, ip)
        net = np.round(out.tf[:, K.TF_NET], 6)
        nets.append(net)
        fees.append(np.round(out.tf[:, K.TF_ENTRY_FEE] + out.tf[:, K.TF_EXIT_FEE], 6))
        reasons.extend(_REASON_NAMES[c] for c in out.ti[:, K.TI_REASON])
        curves.append(out.equity + offset)
        days.append(seg.arrays.day[seg.start : seg.end])
        offset += float(net.sum())
    return summarize(
        np.concatenate(nets), np.concatenate(fees), reasons, np.concatenate(curves), np.concatenate(days),
        cfg.initial_balance,
    )  # fmt: skip


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


def _chunks(items: list, n_chunks: int) -> list[list]:
    n_chunks = max(1, min(n_chunks, len(items)))
    return [items[i::n_chunks] for i in range(n_chunks)]


def run_sweep(
    prepared: PreparedMarket,
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    combos: Sequence[StrategyParams] | None = None,
    workers: int = 2,
    min_trades: int = DEFAULT_MIN_TRADES,
    progress: bool = True,
) -> SweepResult:
    """Evaluate every combination walk-forward; `workers=1` runs in-process."""
    if workers < 1:
        raise ConfigError(f"workers={workers}; need at least 1")
    if min_trades < 0:
        raise ConfigError(f"min_trades={min_trades}; must be >= 0")
    combos = list(grid_combinations() if combos is None else combos)
    inputs, windows = prepare_sweep(prepared, cfg, wf, combos)
    evaluate_combo(inputs, combos[0])  # compile (or load from the numba cache) before any worker starts
    indexed = list(enumerate(combos))
    results: dict[int, dict[str, object]] = {}
    bar = tqdm(total=len(indexed), desc=f"sweep {cfg.symbol}", unit="combo", disable=not progress, leave=False)
    try:
        if workers == 1:
            for i, p in indexed:
                results[i] = evaluate_combo(inputs, p)
                bar.update(1)
        else:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(inputs,)) as pool:
                futures = [pool.submit(_worker_run, chunk) for chunk in _chunks(indexed, workers * 6)]
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
    return SweepResult(rank_rows(rows, min_trades), min_trades, len(inputs.segments), workers, windows)
