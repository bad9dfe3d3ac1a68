"""ML on vs off walk-forward backtest (spec 10 §9.3, 20 §3.6) on the backtest engine's walk-forward runner.

Fixes carried by the runner (trader_runtime/backtest/walk_forward.py): test windows advance by the test length
(W-14), features come from the full history (W-15), a filter error propagates instead of allowing the entry (BT-07)
and every fold records whether it had a model (BT-06). Here, each fold's model is trained on that fold's training
candles only (never on the test period, BT-08) with the one fitting path of `fitting.py`, exported to ONNX, checked
for parity and served through `OnnxFilter` — the same object the live runtime uses. A fold whose data cannot
produce a model (too few rows, one class) runs without a filter and is counted in `folds_without_model`.
Verdict (20 §3.6): PF = inf on either side → "undecided"; PF(off) = 0 → "cannot judge"; otherwise count
PF(on) − PF(off) > 0.1, win rate +2.0 pp, MDD −1.0 pp: >= 2 "worth deploying", 1 "conditional", 0 "negligible".
`to_dict()` follows the platform's strict-JSON rule (inf → null + `<key>_infinite`, backtest/serialization.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from trader_runtime.backtest.engine import BacktestResult
from trader_runtime.backtest.serialization import to_jsonable
from trader_runtime.backtest.walk_forward import TrainFold, run_walk_forward
from trader_runtime.config import BacktestConfig, WalkForwardConfig
from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.ml.fitting import model_feature_columns
from trader_runtime.ml.inference import OnnxFilter
from trader_runtime.ml.onnx_export import export_onnx, verify_parity
from trader_runtime.ml.params import complete_params
from trader_runtime.ml.training import MIN_DATASET_ROWS, fit_full
from trader_runtime.strategy.dataset import DatasetParams, build_dataset
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market

COMPARED_METRICS = ("total_trades", "total_pnl", "return_pct", "win_rate", "profit_factor", "max_drawdown_pct",
                    "sharpe")
PF_GAIN = 0.1
WIN_RATE_GAIN_PP = 2.0
MDD_GAIN_PP = 1.0


@dataclass(frozen=True)
class FoldModelRecord:
    """What happened when fold `fold` tried to train its filter."""

    fold: int
    trained: bool
    reason: str
    train_candles: int
    dataset_rows: int
    signal_rows: int
    parity_max_abs_diff: float | None


def comparison_verdict(off: Mapping[str, Any], on: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(verdict, improvements counted) from the two walk-forward summaries."""
    pf_off, pf_on = float(off["profit_factor"]), float(on["profit_factor"])
    if math.isinf(pf_off) or math.isinf(pf_on):
        return "undecided", []
    if pf_off == 0.0:
        return "cannot judge", []
    improvements = []
    # summaries are rounded to 2 dp, so differences are rounded before the strict comparison (1.1 − 1.0 is 0.1)
    if round(pf_on - pf_off, 9) > PF_GAIN:
        improvements.append("profit_factor")
    if round(float(on["win_rate"]) - float(off["win_rate"]), 9) > WIN_RATE_GAIN_PP:
        improvements.append("win_rate")
    if round(float(off["max_drawdown_pct"]) - float(on["max_drawdown_pct"]), 9) > MDD_GAIN_PP:
        improvements.append("max_drawdown_pct")
    verdict = {0: "negligible", 1: "conditional"}.get(len(improvements), "worth deploying")
    return verdict, improvements


def comparison_rows(off: Mapping[str, Any], on: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key in COMPARED_METRICS:
        a, b = float(off[key]), float(on[key])
        delta = round(b - a, 6) if math.isfinite(a) and math.isfinite(b) else None
        rows.append({"metric": key, "ml_off": a, "ml_on": b, "delta": delta})
    return rows


@dataclass
class MLComparisonResult:
    symbol: str
    ml_off: BacktestResult
    ml_on: BacktestResult
    verdict: str
    improvements: list[str]
    rows: list[dict[str, Any]]
    fold_models: list[FoldModelRecord] = field(default_factory=list)

    @property
    def pf_off(self) -> float:
        return float(self.ml_off.summary["profit_factor"])

    @property
    def pf_on(self) -> float:
        return float(self.ml_on.summary["profit_factor"])

    @property
    def trades_on(self) -> int:
        return int(self.ml_on.summary["total_trades"])

    @property
    def folds_without_model(self) -> int:
        return sum(1 for r in self.fold_models if not r.trained)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON payload (summaries and fold records, not the trade lists)."""
        return to_jsonable({
            "symbol": self.symbol, "verdict": self.verdict, "improvements": self.improvements, "rows": self.rows,
            "ml_off": self.ml_off.summary, "ml_on": self.ml_on.summary,
            "folds_without_model": self.folds_without_model,
            "fold_models": [r.__dict__ for r in self.fold_models],
        })


def fold_trainer(
    symbol: str, params: Mapping[str, Any], dataset_params: DatasetParams, threshold: float,
    records: list[FoldModelRecord],
) -> TrainFold:
    """`train_fold` callback for the walk-forward runner; appends one record per fold to `records`."""
    params = complete_params(params)

    def train(raw: pd.DataFrame) -> OnnxFilter | None:
        fold = len(records) + 1
        market = prepare_market(raw, symbol)
        ds = build_dataset(market, dataset_params)
        n_sig = int((ds["source"] == "signal").sum()) if len(ds) else 0
        if len(ds) < MIN_DATASET_ROWS:
            records.append(FoldModelRecord(fold, False, f"dataset has {len(ds)} rows < {MIN_DATASET_ROWS}",
                                           len(raw), len(ds), n_sig, None))
            return None
        try:
            model = fit_full(ds, params, what=f"{symbol} fold {fold}")
        except DataError as exc:
            records.append(FoldModelRecord(fold, False, str(exc), len(raw), len(ds), n_sig, None))
            return None
        cols = model_feature_columns(ds)
        onnx_bytes = export_onnx(model, len(cols))
        parity = verify_parity(model, onnx_bytes, ds[list(cols)])
        if not parity.passed:
            raise ModelUnavailable(f"{symbol} fold {fold}: ONNX parity {parity.max_abs_diff:.2e} > {parity.tolerance}")
        records.append(FoldModelRecord(fold, True, "trained", len(raw), len(ds), n_sig, parity.max_abs_diff))
        return OnnxFilter(onnx_bytes, cols, threshold, expected_columns=cols)

    return train


def compare_ml(
    prepared: PreparedMarket,
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    params: Mapping[str, Any],
    dataset_params: DatasetParams | None = None,
) -> MLComparisonResult:
    """Walk-forward backtest without and with per-fold ML filters; identical settings otherwise.

    `dataset_params` defaults to the relaxed training thresholds labelled with the backtest's own SL/TP (W-06).
    """
    dataset_params = dataset_params or DatasetParams.for_symbol(cfg.params)
    off = run_walk_forward(prepared, cfg, wf)
    records: list[FoldModelRecord] = []
    on = run_walk_forward(prepared, cfg, wf,
                          train_fold=fold_trainer(cfg.symbol, params, dataset_params, cfg.ml_threshold, records),
                          purge_bars=dataset_params.lookahead)
    verdict, improvements = comparison_verdict(off.summary, on.summary)
    return MLComparisonResult(cfg.symbol, off, on, verdict, improvements, comparison_rows(off.summary, on.summary),
                              records)

