"""Digests are stable, sensitive to content, and fit MLflow's 36-character digest column."""

import pandas as pd

from cointrader_pipelines.tracking.lineage import DIGEST_LENGTH, bytes_digest, frame_digest


def test_frame_digest_is_stable_and_content_sensitive():
    a = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.date_range("2025", periods=2, freq="15min", tz="UTC"))
    assert frame_digest(a) == frame_digest(a.copy())
    b = a.copy()
    b.iloc[1, 0] = 2.0000001
    assert frame_digest(a) != frame_digest(b)
    assert frame_digest(a) != frame_digest(a.astype("float32"))
    assert len(frame_digest(a)) == DIGEST_LENGTH <= 36


def test_bytes_digest_length():
    assert len(bytes_digest(b"onnx")) == DIGEST_LENGTH
