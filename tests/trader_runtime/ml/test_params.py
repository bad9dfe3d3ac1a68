import json

import lightgbm as lgb
import pytest

from trader_runtime.errors import ConfigError
from trader_runtime.ml.params import DEFAULT_PARAMS, complete_params, lgbm_kwargs, read_tuned_params, resolve_params

TRIAL_47 = {  # the shipped legacy active file (spec 10 §7.2), reference shape
    "n_estimators": 221, "learning_rate": 0.031072, "max_depth": 5, "num_leaves": 20, "min_child_samples": 39,
    "subsample": 0.83244, "colsample_bytree": 0.526349, "reg_alpha": 0.062177, "reg_lambda": 0.082872,
    "weight_scale": 1.431662,
}


def test_defaults_are_the_reference_without_subsample_or_weight_scale():
    assert DEFAULT_PARAMS["n_estimators"] == 434 and DEFAULT_PARAMS["num_leaves"] == 14
    assert "subsample" not in DEFAULT_PARAMS and "weight_scale" not in DEFAULT_PARAMS
    kw = lgbm_kwargs(DEFAULT_PARAMS)
    assert kw["random_state"] == 42 and kw["verbose"] == -1 and kw["n_jobs"] == 1
    assert "time_weight_decay" not in kw and "num_threads" not in kw
    lgb.LGBMClassifier(**kw)  # every key is a valid constructor argument


@pytest.mark.parametrize(
    ("explicit", "per_symbol", "global_", "source", "n_estimators"),
    [
        ({"n_estimators": 50}, {"n_estimators": 60}, {"n_estimators": 70}, "explicit", 50),
        (None, {"n_estimators": 60}, {"n_estimators": 70}, "per_symbol", 60),
        (None, None, {"n_estimators": 70}, "global", 70),
        (None, None, None, "default", 434),
    ],
)
def test_precedence_explicit_symbol_global_default(explicit, per_symbol, global_, source, n_estimators):
    r = resolve_params(explicit, per_symbol, global_)
    assert r.source == source and r.params["n_estimators"] == n_estimators


def test_first_source_wins_whole_and_is_laid_over_defaults():
    r = resolve_params(per_symbol={"learning_rate": 0.05}, global_={"max_depth": 3, "n_estimators": 70})
    assert r.params["learning_rate"] == 0.05
    assert r.params["max_depth"] == DEFAULT_PARAMS["max_depth"]  # not mixed in from the global file
    assert r.key_sources["learning_rate"] == "per_symbol" and r.key_sources["max_depth"] == "default"


def test_legacy_file_drops_weight_scale_and_inert_subsample():
    r = resolve_params(global_=TRIAL_47)
    assert "weight_scale" not in r.params and "subsample" not in r.params
    assert set(r.dropped) == {"weight_scale", "subsample"}
    assert r.params["num_leaves"] == 20


def test_subsample_kept_when_bagging_enabled():
    p = complete_params({"subsample": 0.8, "subsample_freq": 1})
    assert p["subsample"] == 0.8 and p["subsample_freq"] == 1


def test_num_threads_setting_overrides_sources():
    r = resolve_params(explicit={"num_threads": 4}, num_threads=1)
    assert r.params["num_threads"] == 1 and lgbm_kwargs(r.params)["n_jobs"] == 1


@pytest.mark.parametrize(
    "bad", [{"n_estimators": 0}, {"learning_rate": -0.1}, {"colsample_bytree": 1.5}, {"max_depth": 2.5},
            {"bogus": 1}, {"time_weight_decay": float("nan")}, {"n_estimators": True}],
)
def test_bad_values_are_config_errors(bad):
    with pytest.raises(ConfigError):
        resolve_params(explicit=bad)


def test_read_tuned_params_shapes(tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps({"timestamp": "x", "best_trial": {"number": 47, "params": TRIAL_47}}))
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"study_name": "s", "best_params": {"n_estimators": 99}}))
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"n_estimators": 12}))
    assert read_tuned_params(ref)["n_estimators"] == 221
    assert read_tuned_params(ours) == {"n_estimators": 99}
    assert read_tuned_params(flat) == {"n_estimators": 12}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"best_trial": {"number": 1}}', '{"n_estimators": -5}'])
def test_read_tuned_params_rejects_bad_files(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigError):
        read_tuned_params(path)


def test_read_tuned_params_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_tuned_params(tmp_path / "absent.json")
