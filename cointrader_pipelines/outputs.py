"""Values passed between the training-side assets (pickled by the IO manager): core results plus their MLflow run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trader_runtime.ml.ablation import AblationResult
from trader_runtime.ml.comparison import MLComparisonResult
from trader_runtime.ml.training import TrainedModel
from trader_runtime.strategy.dataset import DatasetParams


@dataclass
class MLDataset:
    """The training table and the parameters it was built with; `digest` is its Dagster data version."""

    frame: pd.DataFrame
    params: DatasetParams
    digest: str


@dataclass(frozen=True)
class TunedParams:
    """The params the next steps train with, and the recorded decision that made them active (W-12)."""

    params: dict[str, Any]
    adopted: bool
    reason: str
    baseline_source: str  # "mlflow:<run_id>" (the previously active params) or "defaults"
    study_name: str
    mlflow_run_id: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class FilterModel:
    trained: TrainedModel
    mlflow_run_id: str
    dataset_digest: str


@dataclass(frozen=True)
class OnnxModel:
    onnx_bytes: bytes
    digest: str
    feature_columns: tuple[str, ...]


@dataclass
class MLComparison:
    comparison: MLComparisonResult
    ablation: AblationResult
    mlflow_run_id: str
