"""Promotion gate (spec 10 §9.4 REQ, D15, W-12/W-17): may a challenger model become champion?

The four written rules, all required, evaluated on walk-forward evidence (signal rows / real backtests, W-03):
1. >= 100 valid signals in every walk-forward validation fold;
2. ablation A→C signal-row AUC drop <= 0.05;
3. PF(ML on) >= PF(ML off) + 0.1 with >= 50 validation trades (ML-on walk-forward) — recorded as three rule
   entries: `pf_gain`, `validation_trades` and `fold_models` (every fold of the ML-on run had a model, BT-06);
   an infinite PF on either side fails (the comparison is undecided);
4. strategy-sweep PF / walk-forward PF < 2.0, with the walk-forward PF of the strategy as swept (ML off).
Plus (D15/W-12) `champion_improvement`: when a champion exists, the challenger's `champion_metric` must beat the
champion's recorded evidence by `min_champion_improvement`. Comparisons allow 1e-9 of float noise.
The gate returns a decision and its evidence; setting aliases and recording the event is the caller's job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from trader_runtime.backtest.serialization import restore_float, to_jsonable
from trader_runtime.errors import DataError
from trader_runtime.ml.ablation import AblationResult
from trader_runtime.ml.comparison import MLComparisonResult
from trader_runtime.ml.training import TrainedModel, WalkForwardResult

EPS = 1e-9


@dataclass(frozen=True)
class GateThresholds:
    min_fold_signals: int = 100
    max_ablation_drop: float = 0.05
    min_pf_gain: float = 0.1
    min_validation_trades: int = 50
    max_sweep_wf_ratio: float = 2.0
    champion_metric: str = "mean_auc_signal"
    min_champion_improvement: float = 0.01


_FLOAT_FIELDS = ("ablation_drop", "pf_ml_on", "pf_ml_off", "sweep_pf", "walk_forward_pf", "mean_auc_signal",
                 "holdout_auc_signal")


@dataclass(frozen=True)
class PromotionEvidence:
    """The numbers the gate judges; stored with the model version so a later challenger can be compared."""

    fold_signal_counts: tuple[int, ...]
    ablation_drop: float
    pf_ml_on: float
    pf_ml_off: float
    validation_trades: int
    folds_without_model: int
    sweep_pf: float
    walk_forward_pf: float
    mean_auc_signal: float
    holdout_auc_signal: float | None = None

    @classmethod
    def from_results(
        cls,
        walk_forward: WalkForwardResult,
        ablation: AblationResult,
        comparison: MLComparisonResult,
        sweep_pf: float,
        trained: TrainedModel | None = None,
    ) -> "PromotionEvidence":
        return cls(
            fold_signal_counts=tuple(f.n_val_signal for f in walk_forward.folds),
            ablation_drop=ablation.drop,
            pf_ml_on=comparison.pf_on,
            pf_ml_off=comparison.pf_off,
            validation_trades=comparison.trades_on,
            folds_without_model=comparison.folds_without_model,
            sweep_pf=float(sweep_pf),
            walk_forward_pf=comparison.pf_off,
            mean_auc_signal=walk_forward.mean_auc_signal,
            holdout_auc_signal=None if trained is None else float(trained.metrics["holdout_auc_signal"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON (inf → null + `<key>_infinite`)."""
        return to_jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PromotionEvidence":
        values: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        for k in _FLOAT_FIELDS:
            values[k] = restore_float(data, k)
            if values[k] is None and k != "holdout_auc_signal":
                raise DataError(f"promotion evidence lacks a value for {k!r}")
        values["fold_signal_counts"] = tuple(int(x) for x in data.get("fold_signal_counts") or ())
        values["validation_trades"] = int(data.get("validation_trades") or 0)
        values["folds_without_model"] = int(data.get("folds_without_model") or 0)
        return cls(**values)


@dataclass(frozen=True)
class GateRule:
    name: str
    passed: bool
    value: float | None
    threshold: float | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True)
class GateResult:
    passed: bool
    rules: list[GateRule] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.rules if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "rules": [r.to_dict() for r in self.rules]}


def _fold_signals(counts: Sequence[int], t: GateThresholds) -> GateRule:
    low = min(counts) if counts else 0
    ok = bool(counts) and low >= t.min_fold_signals
    return GateRule("fold_signals", ok, float(low), float(t.min_fold_signals),
                    f"fewest validation signals in a fold: {low} (folds: {list(counts)}), need >= {t.min_fold_signals}")


def _ablation(drop: float, t: GateThresholds) -> GateRule:
    ok = math.isfinite(drop) and round(drop, 10) <= t.max_ablation_drop
    return GateRule("ablation_drop", ok, drop, t.max_ablation_drop,
                    f"AUC drop A→C {drop:.4f}, must be <= {t.max_ablation_drop}")


def _pf_gain(on: float, off: float, t: GateThresholds) -> GateRule:
    if not (math.isfinite(on) and math.isfinite(off)):
        return GateRule("pf_gain", False, None, t.min_pf_gain,
                        f"PF on {on} / off {off}: infinite PF (no losing trades on one side) is undecided")
    gain = on - off
    return GateRule("pf_gain", gain >= t.min_pf_gain - EPS, gain, t.min_pf_gain,
                    f"PF(ML on) {on:.2f} − PF(ML off) {off:.2f} = {gain:+.2f}, need >= +{t.min_pf_gain}")


def _trades(n: int, t: GateThresholds) -> GateRule:
    return GateRule("validation_trades", n >= t.min_validation_trades, float(n), float(t.min_validation_trades),
                    f"{n} ML-on walk-forward trades, need >= {t.min_validation_trades}")


def _fold_models(missing: int) -> GateRule:
    return GateRule("fold_models", missing == 0, float(missing), 0.0,
                    f"{missing} walk-forward fold(s) ran without a model")


def _sweep_ratio(sweep_pf: float, wf_pf: float, t: GateThresholds) -> GateRule:
    if math.isnan(sweep_pf) or math.isnan(wf_pf) or wf_pf <= 0 or math.isinf(sweep_pf):
        return GateRule("sweep_wf_ratio", False, None, t.max_sweep_wf_ratio,
                        f"sweep PF {sweep_pf} / walk-forward PF {wf_pf} cannot show a ratio < {t.max_sweep_wf_ratio}")
    ratio = 0.0 if math.isinf(wf_pf) else sweep_pf / wf_pf
    return GateRule("sweep_wf_ratio", ratio < t.max_sweep_wf_ratio - EPS, ratio, t.max_sweep_wf_ratio,
                    f"sweep PF {sweep_pf:.2f} / walk-forward PF {wf_pf:.2f} = {ratio:.2f}, must be < {t.max_sweep_wf_ratio}")


def _champion(challenger: PromotionEvidence, champion: PromotionEvidence | None, t: GateThresholds) -> GateRule:
    name, metric = "champion_improvement", t.champion_metric
    if champion is None:
        return GateRule(name, True, None, t.min_champion_improvement, "no current champion: nothing to beat")
    new, old = getattr(challenger, metric, None), getattr(champion, metric, None)
    if new is None or old is None or not (math.isfinite(new) and math.isfinite(old)):
        return GateRule(name, False, None, t.min_champion_improvement,
                        f"{metric} missing or not finite (challenger {new}, champion {old})")
    gain = new - old
    return GateRule(name, gain >= t.min_champion_improvement - EPS, gain, t.min_champion_improvement,
                    f"{metric}: challenger {new:.4f} − champion {old:.4f} = {gain:+.4f}, "
                    f"need >= +{t.min_champion_improvement}")


def evaluate_promotion_gate(
    evidence: PromotionEvidence,
    champion: PromotionEvidence | None = None,
    thresholds: GateThresholds = GateThresholds(),
) -> GateResult:
    """Evaluate every rule (never short-circuits, so the record shows all failures)."""
    t = thresholds
    rules = [
        _fold_signals(evidence.fold_signal_counts, t),
        _ablation(evidence.ablation_drop, t),
        _pf_gain(evidence.pf_ml_on, evidence.pf_ml_off, t),
        _trades(evidence.validation_trades, t),
        _fold_models(evidence.folds_without_model),
        _sweep_ratio(evidence.sweep_pf, evidence.walk_forward_pf, t),
        _champion(evidence, champion, t),
    ]
    return GateResult(all(r.passed for r in rules), rules)
