"""The one strict-JSON rule for backtest, sweep and report output (BT-13).

A non-finite float stored under a key becomes `null` plus a sibling flag: `<key>_infinite: true` for +inf,
`<key>_infinite: "-inf"` for -inf; NaN becomes a bare `null`. Inside lists there is no key to flag, so every
non-finite element is `null`. `restore_float` turns a flagged value back into a float. numpy scalars/arrays,
timestamps (ISO 8601), enums, dataclasses and DataFrames (records) are converted; output never contains the
non-standard `Infinity`/`NaN` tokens (`allow_nan=False`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

INFINITE_SUFFIX = "_infinite"


def _scalar(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (pd.Timedelta,)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    if value is pd.NaT:
        return None
    return value


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _infinite_flag(value: float) -> object | None:
    if math.isinf(value):
        return True if value > 0 else "-inf"
    return None


def to_jsonable(obj: Any) -> Any:
    """Recursively convert `obj` into plain JSON types under the one non-finite rule."""
    obj = _scalar(obj)
    if isinstance(obj, float):
        return _finite_or_none(obj)
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            key = str(key)
            value = _scalar(value)
            if isinstance(value, float):
                out[key] = _finite_or_none(value)
                flag = _infinite_flag(value)
                if flag is not None:
                    out[key + INFINITE_SUFFIX] = flag
            else:
                out[key] = to_jsonable(value)
        return out
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(row) for row in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return obj


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    return json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False)


def write_json(path: Path | str, obj: Any) -> Path:
    """Serialise first, then write: a conversion error leaves no partial file behind."""
    text = dumps(obj)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def restore_float(mapping: Mapping[str, Any], key: str) -> float | None:
    """Read back a float written by this module: flagged nulls become ±inf, plain nulls stay None."""
    value = mapping.get(key)
    if value is not None:
        return float(value)
    flag = mapping.get(key + INFINITE_SUFFIX)
    if flag is True:
        return math.inf
    if flag == "-inf":
        return -math.inf
    return None
