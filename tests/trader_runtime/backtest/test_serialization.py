"""One strict-JSON rule for non-finite floats (BT-13)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from trader_runtime.backtest.serialization import dumps, restore_float, to_jsonable, write_json
from trader_runtime.domain.enums import CloseReason


def test_infinite_values_become_null_with_a_flag():
    out = to_jsonable({"profit_factor": math.inf, "payoff_ratio": np.float64(-np.inf), "sharpe": float("nan"), "n": 3})
    assert out == {
        "profit_factor": None,
        "profit_factor_infinite": True,
        "payoff_ratio": None,
        "payoff_ratio_infinite": "-inf",
        "sharpe": None,
        "n": 3,
    }
    assert restore_float(out, "profit_factor") == math.inf
    assert restore_float(out, "payoff_ratio") == -math.inf
    assert restore_float(out, "sharpe") is None
    assert restore_float({"x": 1.5}, "x") == 1.5


def test_nested_structures_and_lists():
    out = to_jsonable({"rows": [{"summary": {"profit_factor": np.inf}}], "values": [1.0, np.inf, np.nan]})
    assert out["rows"][0]["summary"] == {"profit_factor": None, "profit_factor_infinite": True}
    assert out["values"] == [1.0, None, None]


def test_dumps_is_strict_json_and_converts_common_types():
    @dataclass
    class Box:
        when: pd.Timestamp
        reason: CloseReason

    text = dumps(
        {
            "box": Box(pd.Timestamp("2025-06-05 15:00", tz="UTC"), CloseReason.TP),
            "arr": np.array([1, 2]),
            "flag": np.bool_(True),
            "frame": pd.DataFrame({"a": [1.0, np.inf]}),
            "pf": math.inf,
        }
    )
    assert "Infinity" not in text and "NaN" not in text
    data = json.loads(text)
    assert data["box"] == {"when": "2025-06-05T15:00:00+00:00", "reason": "TP"}
    assert data["arr"] == [1, 2] and data["flag"] is True
    assert data["frame"] == [{"a": 1.0}, {"a": None, "a_infinite": True}]


def test_write_json_leaves_no_partial_file_on_error(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(TypeError):
        write_json(target, {"bad": object()})
    assert not target.exists() and list(tmp_path.iterdir()) == []
    write_json(target, {"pf": math.inf})
    assert json.loads(target.read_text()) == {"pf": None, "pf_infinite": True}
