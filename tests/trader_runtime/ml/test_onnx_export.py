import numpy as np
import onnx
import pytest

from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.ml.fitting import fit_rows
from trader_runtime.ml.onnx_export import export_onnx, verify_parity
from trader_runtime.strategy.features import FEATURE_COLUMNS


@pytest.fixture(scope="module")
def onnx_bytes(fitted_model):
    return export_onnx(fitted_model, len(FEATURE_COLUMNS))


def test_graph_contract(onnx_bytes):
    model = onnx.load_from_string(onnx_bytes)
    (inp,) = model.graph.input
    assert inp.name == "X" and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = inp.type.tensor_type.shape.dim
    assert not dims[0].HasField("dim_value") and dims[1].dim_value == len(FEATURE_COLUMNS)
    outs = {o.name: o for o in model.graph.output}
    assert set(outs) == {"label", "probabilities"}  # zipmap=False: a plain tensor, no map
    assert outs["probabilities"].type.tensor_type.shape.dim[1].dim_value == 2


def test_parity_within_tolerance_including_nan_rows(fitted_model, onnx_bytes, dataset):
    res = verify_parity(fitted_model, onnx_bytes, dataset)
    assert res.passed and res.max_abs_diff <= 1e-5
    assert res.n_rows == 2 * len(dataset) and res.n_nan_rows > len(dataset) // 2


def test_parity_for_a_model_trained_with_missing_values(dataset, small_params):
    # NaN seen in training (missing_type NaN) and unseen (missing_type None: LightGBM maps NaN to 0.0)
    ds = dataset.copy()
    rng = np.random.default_rng(1)
    for col in ("rsi", "atr_pct", "ret_1"):
        ds.loc[rng.random(len(ds)) < 0.2, col] = np.nan
    model, _ = fit_rows(ds, np.arange(len(ds)), {**small_params, "n_estimators": 60}, FEATURE_COLUMNS, "nan")
    blob = export_onnx(model, len(FEATURE_COLUMNS))
    X = ds[list(FEATURE_COLUMNS)].to_numpy(np.float32).copy()
    X[:, 7] = np.nan  # vol_ratio: never missing in training
    res = verify_parity(model, blob, X)
    assert res.passed, res
    assert {"NaN", "None"} <= missing_types(model)  # both LightGBM missing modes are exercised


def missing_types(model) -> set[str]:
    found: set[str] = set()

    def walk(node: dict) -> None:
        if "split_index" in node:
            found.add(node["missing_type"])
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in model.booster_.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found


def test_parity_detects_a_different_model(fitted_model, dataset, small_params):
    other, _ = fit_rows(dataset, np.arange(len(dataset)), {**small_params, "n_estimators": 5}, FEATURE_COLUMNS, "o")
    res = verify_parity(fitted_model, export_onnx(other, len(FEATURE_COLUMNS)), dataset, add_nan_rows=False)
    assert not res.passed and res.max_abs_diff > 1e-3


def test_export_and_parity_refuse_bad_input(fitted_model, onnx_bytes):
    with pytest.raises(ModelUnavailable):
        export_onnx(fitted_model, 18)
    with pytest.raises(ModelUnavailable):
        export_onnx(object(), 26)
    with pytest.raises(DataError):
        verify_parity(fitted_model, onnx_bytes, np.zeros((0, 26), dtype=np.float32))


def test_real_xrp_three_months_parity(xrp_real, small_params):
    from trader_runtime.ml.training import fit_full, walk_forward_validate
    from trader_runtime.strategy.dataset import DatasetParams, build_dataset
    from trader_runtime.strategy.pipeline import prepare_market

    market = prepare_market(xrp_real.iloc[-96 * 91 :], "XRPUSDT")
    ds = build_dataset(market, DatasetParams())
    assert ds["oi_change"].isna().all()  # no OI coverage in the shipped file: NaN by design (W-02)
    wf = walk_forward_validate(ds, small_params, 3)
    assert wf.n_folds == 3
    model = fit_full(ds, {**small_params, "n_estimators": 100})
    res = verify_parity(model, export_onnx(model, len(FEATURE_COLUMNS)), ds)
    assert res.passed and res.n_nan_rows >= len(ds)


def test_a_threshold_just_below_a_float32_value_keeps_parity():
    """Two neighbouring float32 values separate the classes: LightGBM's double threshold lies between them and its
    nearest float32 is the upper one, which `x <= t` in ONNX would send left (seen on the real XRP year)."""
    import lightgbm as lgb

    from trader_runtime.ml.onnx_export import _lightgbm_thresholds

    rng = np.random.default_rng(3)
    rounded_up = 0
    for start in np.linspace(0.5, 3.0, 12, dtype=np.float32):
        hi = np.nextafter(start, np.float32(10))
        x0 = np.where(rng.random(400) < 0.5, start, hi).astype(np.float32)
        X = np.column_stack([x0, rng.normal(size=400).astype(np.float32)])
        clf = lgb.LGBMClassifier(n_estimators=3, min_child_samples=5, verbose=-1).fit(X, (x0 == hi).astype(int))
        rounded_up += sum(v > max(ts) for v, ts in _lightgbm_thresholds(clf)[0].items())
        result = verify_parity(clf, export_onnx(clf, 2), X, add_nan_rows=False)
        assert result.passed, (float(start), result.max_abs_diff)
    assert rounded_up > 0  # the case this guards against did occur
