"""A real MLflow store in tmp_path and a small exported LightGBM filter to register."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.registry import Registry
from cointrader_pipelines.tracking.runs import MlflowTracker
from trader_runtime.ml.onnx_export import export_onnx
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION


@pytest.fixture
def tracker(tmp_path, mlflow_template) -> MlflowTracker:
    uri = fresh_store(mlflow_template, tmp_path)
    return MlflowTracker(uri, str(tmp_path / "mlruns" / "artifacts"), "http://127.0.0.1:5000")


@pytest.fixture
def registry(tracker) -> Registry:
    return Registry(tracker)


@pytest.fixture
def lineage() -> Lineage:
    return Lineage("run-1234", "filter_model", "XRPUSDT", "1", "d" * 32, "http://127.0.0.1:3000/runs/run-1234")


@pytest.fixture(scope="session")
def onnx_bytes() -> bytes:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, len(FEATURE_COLUMNS))).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=0.5, size=300) > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1, n_jobs=1).fit(X, y)
    return export_onnx(model, len(FEATURE_COLUMNS))


@pytest.fixture
def bundle() -> dict:
    return {
        "feature_columns": list(FEATURE_COLUMNS), "feature_schema_version": FEATURE_SCHEMA_VERSION,
        "threshold": {"value": 0.61, "found": True}, "label": {"sl_mult": 1.5, "tp_mult": 4.0, "lookahead": 24},
        "signal_thresholds": {"signal_threshold": 2, "adx_threshold": 15.0, "volume_multiplier": 1.5},
        "validation_metrics": {"holdout_auc_signal": 0.55, "oof_precision": float("inf")},
        "training_range": {"start_time": "2025-01-01T00:00:00+00:00", "end_time": "2025-06-01T00:00:00+00:00"},
        "params": {"n_estimators": 10},
    }


