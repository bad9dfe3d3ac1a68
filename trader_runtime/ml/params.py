"""LightGBM parameters: the reference defaults (spec 10 §7.1) and the one resolver used everywhere (W-13).

Decisions recorded here:
- W-08: `subsample` is dropped. The reference set it with `subsample_freq = 0`, so bagging never ran; dropping it
  keeps the reference's actual behaviour. A params source may still enable bagging by giving both `subsample` and
  `subsample_freq > 0`; a lone `subsample` (e.g. the legacy trial-47 file) is dropped and reported.
- W-09/W-13: `weight_scale` is not used anywhere (it only rescaled regularisation); legacy files that carry it have
  it dropped and reported. The time weighting is the real `time_weight_decay` (default 2.0, as `train_model.py`),
  applied to the candle timestamps of whatever rows a model is fitted on (see `training.training_weights`).
- Precedence: explicit > per-symbol > global > defaults. The first source present wins as a whole and is laid over
  the defaults key by key (sources are complete tuning results; mixing two tunings key by key would build a
  parameter set nobody evaluated).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from trader_runtime.errors import ConfigError

SEED = 42

#: spec 10 §7.1 without `subsample` (W-08) and `weight_scale` (W-09); plus the real time-decay weighting
DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 434,
    "learning_rate": 0.123659,
    "max_depth": 6,
    "num_leaves": 14,
    "min_child_samples": 10,
    "colsample_bytree": 0.946330,
    "reg_alpha": 0.573971,
    "reg_lambda": 0.000157,
    "time_weight_decay": 2.0,
    "num_threads": 1,
}

#: keys that are not LightGBM arguments
TRAINING_KEYS = ("time_weight_decay", "num_threads")
_INT_KEYS = {"n_estimators": 1, "max_depth": -1, "num_leaves": 2, "min_child_samples": 1, "subsample_freq": 0, "num_threads": 1}
_FLOAT_KEYS = {
    "learning_rate": (0.0, math.inf),
    "colsample_bytree": (0.0, 1.0),
    "subsample": (0.0, 1.0),
    "reg_alpha": (0.0, math.inf),
    "reg_lambda": (0.0, math.inf),
    "min_child_weight": (0.0, math.inf),
    "min_split_gain": (0.0, math.inf),
    "time_weight_decay": (0.0, 50.0),
}
KNOWN_KEYS = frozenset(_INT_KEYS) | frozenset(_FLOAT_KEYS)
_DROPPED = {"weight_scale": "weight_scale is no longer used: tune time_weight_decay, the real sample weighting, instead"}


@dataclass(frozen=True)
class ResolvedParams:
    """Effective parameters and where each came from (`source`: explicit / per_symbol / global / default)."""

    params: dict[str, Any]
    source: str
    key_sources: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"params": dict(self.params), "source": self.source, "key_sources": dict(self.key_sources),
                "dropped": dict(self.dropped)}


def _check_value(key: str, value: Any, origin: str) -> Any:
    if key in _INT_KEYS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise ConfigError(f"{origin}: {key}={value!r} must be an integer")
        if int(value) < _INT_KEYS[key]:
            raise ConfigError(f"{origin}: {key}={value!r} must be >= {_INT_KEYS[key]}")
        return int(value)
    lo, hi = _FLOAT_KEYS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ConfigError(f"{origin}: {key}={value!r} must be a finite number in [{lo}, {hi}]")
    v = float(value)
    lo_ok = v > lo if key in ("learning_rate", "colsample_bytree", "subsample") else v >= lo
    if not lo_ok or v > hi:
        raise ConfigError(f"{origin}: {key}={value!r} is out of range [{lo}, {hi}]")
    return v


def clean_params(raw: Mapping[str, Any], origin: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Validated copy of one params source plus the keys dropped from it (with the reason)."""
    out: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    for key, value in raw.items():
        if key in _DROPPED:
            dropped[key] = _DROPPED[key]
            continue
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{origin}: unknown parameter {key!r}; known: {sorted(KNOWN_KEYS)}")
        out[key] = _check_value(key, value, origin)
    if "subsample" in out and out.get("subsample_freq", 0) == 0:
        del out["subsample"]
        dropped["subsample"] = "subsample has no effect unless subsample_freq > 0 (bagging off), so it was dropped"
    return out, dropped


def resolve_params(
    explicit: Mapping[str, Any] | None = None,
    per_symbol: Mapping[str, Any] | None = None,
    global_: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] = DEFAULT_PARAMS,
    num_threads: int | None = None,
) -> ResolvedParams:
    """Effective params: the first source present (explicit > per-symbol > global) over the defaults.

    `num_threads` (if given) overrides every source: it is a deployment setting, not a tuned value.
    """
    params, _ = clean_params(defaults, "defaults")
    key_sources = {k: "default" for k in params}
    source = "default"
    dropped: dict[str, str] = {}
    for name, raw in (("explicit", explicit), ("per_symbol", per_symbol), ("global", global_)):
        if raw is None:
            continue
        cleaned, dropped = clean_params(raw, f"{name} params")
        params.update(cleaned)
        key_sources.update({k: name for k in cleaned})
        source = name
        break
    if num_threads is not None:
        params["num_threads"] = _check_value("num_threads", num_threads, "num_threads")
        key_sources["num_threads"] = "setting"
    return ResolvedParams(params=params, source=source, key_sources=key_sources, dropped=dropped)


def complete_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` laid over the defaults (validated): lets callers pass only what they change."""
    return resolve_params(explicit=params).params


def lgbm_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments for `LGBMClassifier`: the model params plus the fixed seed/verbosity/threads."""
    full = complete_params(params)
    kwargs = {k: v for k, v in full.items() if k not in TRAINING_KEYS}
    kwargs.update(random_state=SEED, verbose=-1, n_jobs=int(full["num_threads"]))
    return kwargs


def read_tuned_params(path: Path | str) -> dict[str, Any]:
    """Parameters from a tuning-results JSON: ours (`best_params`), the reference's (`best_trial.params`) or a
    flat dict. The file is only read; which file counts as active is the caller's decision (W-12)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"tuned params file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"tuned params file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"tuned params file {path}: expected a JSON object, got {type(data).__name__}")
    if isinstance(data.get("best_params"), dict):
        params = data["best_params"]
    elif isinstance(data.get("best_trial"), dict) and isinstance(data["best_trial"].get("params"), dict):
        params = data["best_trial"]["params"]
    elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data.values()):
        params = data
    else:
        raise ConfigError(f"tuned params file {path}: no 'best_params' or 'best_trial.params' object found")
    clean_params(params, str(path))  # validate now, so a bad file fails where it is named
    return dict(params)
