"""ONNX export of the LightGBM filter and the parity check that guards it (a blocking check upstream).

Graph contract: input "X" float32 [N, n_features]; outputs "label" int64 [N] and "probabilities" float32 [N, 2]
(zipmap=False). NaN: onnxmltools maps each split's LightGBM missing handling onto
`nodes_missing_value_tracks_true` — for `missing_type=NaN` NaN follows `default_left`; for `missing_type=None`
(feature had no NaN in training, LightGBM then treats NaN as 0.0) NaN goes left exactly when 0.0 <= threshold.
So NaN needs no converter option; `verify_parity` proves it on every export with NaN rows included.
Thresholds are stored as float32 in the ONNX tree ensemble. Rounding a LightGBM threshold (a double) to the
nearest float32 can land on a feature value just above it, which LightGBM sends right and ONNX (x <= t) left — seen
on the real XRP year, where one such split moved a probability by 0.02. Inputs are float32, so for them
`x <= t` is the same as `x <= (largest float32 <= t)`: every threshold is rounded down instead, and the two agree
exactly. The parity tolerance (1e-5) then only covers the float32 sum/sigmoid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import onnx
import onnxmltools
import pandas as pd
from onnxmltools.convert.common.data_types import FloatTensorType

from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.ml.fitting import predict_proba
from trader_runtime.ml.inference import INPUT_NAME, PROBA_OUTPUT, onnx_session

PARITY_TOLERANCE = 1e-5


def _classifier(model: Any) -> lgb.LGBMClassifier:
    clf = getattr(model, "model", model)
    if not isinstance(clf, lgb.LGBMClassifier):
        raise ModelUnavailable(f"cannot export {type(clf).__name__}; expected a fitted LGBMClassifier")
    return clf


def export_onnx(model: Any, n_features: int) -> bytes:
    """Serialized ONNX model of a fitted LGBMClassifier (or TrainedModel)."""
    clf = _classifier(model)
    if clf.n_features_in_ != n_features:
        raise ModelUnavailable(f"model has {clf.n_features_in_} features, export asked for {n_features}")
    onx = onnxmltools.convert_lightgbm(
        clf, initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))], zipmap=False
    )
    for out in onx.graph.output:  # the converter declares `label` as [1]; it is [N]
        if out.name == "label":
            dims = out.type.tensor_type.shape.dim
            del dims[:]
            dims.add().dim_param = "N"
    _round_thresholds_down(onx, clf)
    onnx.checker.check_model(onx)
    return onx.SerializeToString()


def _lightgbm_thresholds(clf: lgb.LGBMClassifier) -> dict[int, dict[float, set[float]]]:
    """feature index -> float32-rounded threshold -> the LightGBM (double) thresholds that round to it."""
    out: dict[int, dict[float, set[float]]] = defaultdict(lambda: defaultdict(set))
    stack = [tree["tree_structure"] for tree in clf.booster_.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            if node.get("decision_type", "<=") == "<=":
                thr = float(node["threshold"])
                out[int(node["split_feature"])][float(np.float32(thr))].add(thr)
            stack += [node["left_child"], node["right_child"]]
    return out


def _round_thresholds_down(onx: onnx.ModelProto, clf: lgb.LGBMClassifier) -> None:
    """Replace each `x <= float32(t)` by `x <= largest float32 <= t` where rounding went up (see module doc)."""
    thresholds = _lightgbm_thresholds(clf)
    for node in onx.graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        attrs = {a.name: a for a in node.attribute}
        if "nodes_values" not in attrs:
            continue
        values = list(attrs["nodes_values"].floats)
        modes, features = attrs["nodes_modes"].strings, attrs["nodes_featureids"].ints
        for i, (mode, feature, value) in enumerate(zip(modes, features, values)):
            doubles = thresholds.get(int(feature), {}).get(float(np.float32(value)))
            # only when every LightGBM threshold behind this value lies below it (two on either side: leave it,
            # the parity check decides)
            if mode == b"BRANCH_LEQ" and doubles and all(t < float(np.float32(value)) for t in doubles):
                values[i] = float(np.nextafter(np.float32(value), np.float32(-np.inf)))
        del attrs["nodes_values"].floats[:]
        attrs["nodes_values"].floats.extend(values)


@dataclass(frozen=True)
class ParityResult:
    """Max |P_lightgbm − P_onnx| over the rows checked (positive-class probability)."""

    max_abs_diff: float
    n_rows: int
    n_nan_rows: int  # rows holding at least one NaN feature
    tolerance: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def with_nan_rows(X: np.ndarray, seed: int = 42, fraction: float = 0.05) -> np.ndarray:
    """`X` plus a copy in which `fraction` of the cells are NaN, so the check always covers missing values."""
    X = np.asarray(X, dtype=np.float32)
    rng = np.random.default_rng(seed)
    holed = X.copy()
    holed[rng.random(holed.shape) < fraction] = np.nan
    return np.vstack([X, holed])


def verify_parity(model: Any, onnx_bytes: bytes, X: pd.DataFrame | np.ndarray, tolerance: float = PARITY_TOLERANCE,
                  add_nan_rows: bool = True) -> ParityResult:
    """Compare LightGBM and onnxruntime on `X` (float32), with NaN-holed copies of the rows added by default."""
    clf = _classifier(model)
    names = list(clf.booster_.feature_name())
    arr = X[names].to_numpy(np.float32) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] != len(names):
        raise DataError(f"parity rows must be a non-empty [N, {len(names)}] matrix, got shape {arr.shape}")
    if add_nan_rows:
        arr = with_nan_rows(arr)
    session = onnx_session(onnx_bytes)
    p_onnx = session.run([PROBA_OUTPUT], {INPUT_NAME: arr})[0][:, 1].astype(np.float64)
    p_lgb = predict_proba(clf, arr)
    diff = float(np.max(np.abs(p_lgb - p_onnx)))
    return ParityResult(
        max_abs_diff=diff,
        n_rows=int(arr.shape[0]),
        n_nan_rows=int(np.isnan(arr).any(axis=1).sum()),
        tolerance=tolerance,
        passed=bool(diff <= tolerance),
    )
