"""ONNX filter used by the live runtime and the backtest ML hook: feature rows in, P(label = 1) out.

A model whose feature list is not the serving schema is refused at construction (ModelUnavailable: keep the
last good model, spec 10 §10). NaN features reach the graph unchanged (§4.7 item 4); onnxruntime runs with one
intra-op and one inter-op thread so it never competes with the candle loop.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import onnxruntime as ort
import pandas as pd

from trader_runtime.errors import ModelUnavailable
from trader_runtime.strategy.features import FEATURE_COLUMNS

INPUT_NAME = "X"
PROBA_OUTPUT = "probabilities"


def onnx_session(onnx_bytes: bytes) -> ort.InferenceSession:
    """CPU session with 1 intra-op / 1 inter-op thread; an unreadable model is ModelUnavailable."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(bytes(onnx_bytes), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for corrupt graphs
        raise ModelUnavailable(f"ONNX model cannot be loaded: {exc}") from exc


class OnnxFilter:
    """Callable ML filter: `filter(features_df)` -> probabilities (float64, one per row)."""

    def __init__(
        self,
        onnx_bytes: bytes,
        feature_columns: Sequence[str],
        threshold: float,
        expected_columns: Sequence[str] = FEATURE_COLUMNS,
    ) -> None:
        cols, expected = tuple(feature_columns), tuple(expected_columns)
        if cols != expected:
            missing = [c for c in expected if c not in cols]
            extra = [c for c in cols if c not in expected]
            detail = f"missing {missing}, unexpected {extra}" if missing or extra else "same names, different order"
            raise ModelUnavailable(f"model feature list differs from the serving schema ({detail})")
        if not 0.0 < float(threshold) <= 1.0:
            raise ModelUnavailable(f"model threshold={threshold!r} is outside (0, 1]")
        self.feature_columns = cols
        self.threshold = float(threshold)
        self._row_names: pd.Index | None = None  # the last names object `predict_row` found in schema order
        self._session = onnx_session(onnx_bytes)
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            raise ModelUnavailable(f"ONNX model inputs {[i.name for i in inputs]}; expected one input {INPUT_NAME!r}")
        width = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
        if width != len(cols):
            raise ModelUnavailable(f"ONNX input width {width} != {len(cols)} feature columns")
        if PROBA_OUTPUT not in [o.name for o in self._session.get_outputs()]:
            raise ModelUnavailable(f"ONNX model has no {PROBA_OUTPUT!r} output")

    def predict(self, features: pd.DataFrame | pd.Series) -> np.ndarray:
        """P(label = 1) for each feature row (a Series is one row); missing columns -> ModelUnavailable."""
        if isinstance(features, pd.Series) and tuple(features.index) == self.feature_columns:
            X = features.to_numpy(np.float32).reshape(1, -1)  # one live row in schema order: no frame needed
            return self._session.run([PROBA_OUTPUT], {INPUT_NAME: X})[0][:, 1].astype(np.float64)
        frame = features.to_frame().T if isinstance(features, pd.Series) else features
        missing = [c for c in self.feature_columns if c not in frame.columns]
        if missing:
            raise ModelUnavailable(f"feature rows lack columns {missing}")
        X = frame[list(self.feature_columns)].to_numpy(np.float32)
        if X.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        proba = self._session.run([PROBA_OUTPUT], {INPUT_NAME: X})[0]
        return proba[:, 1].astype(np.float64)

    def predict_row(self, values: np.ndarray, names: pd.Index) -> float:
        """P(label = 1) of one feature row (values in `names` order): the live path, without a pandas object."""
        if names is not self._row_names:
            if tuple(names) != self.feature_columns:
                return float(self.predict(pd.Series(values, index=names))[0])  # reordered or missing: by name
            self._row_names = names  # the engine hands the same names object every candle: compare once
        X = np.asarray(values, dtype=np.float32).reshape(1, -1)
        return float(self._session.run([PROBA_OUTPUT], {INPUT_NAME: X})[0][0, 1])

    __call__ = predict

    def allows(self, features: pd.DataFrame | pd.Series) -> np.ndarray:
        """Entry allowed where P >= the model threshold (serving may use its configured threshold instead, D5)."""
        return self.predict(features) >= self.threshold
