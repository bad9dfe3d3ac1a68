"""One full retrain on one year of 15m candles, wall time per stage (single LightGBM thread, default params).

Stages: indicators, dataset, 5-fold walk-forward validation (the reported figures), the final model
(train_filter_model: a 5-fold walk-forward on the development part for the threshold, a development fit scored on
the held-out tail, and the refit on all rows), ONNX export and the ONNX parity check (NaN rows included).
Numba is compiled by a warm-up dataset build that is not counted.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_year  # noqa: E402
from _timing import timed  # noqa: E402

from trader_runtime.ml.onnx_export import export_onnx, verify_parity  # noqa: E402
from trader_runtime.ml.params import resolve_params  # noqa: E402
from trader_runtime.ml.training import train_filter_model, walk_forward_validate  # noqa: E402
from trader_runtime.strategy.dataset import DatasetParams, build_dataset  # noqa: E402
from trader_runtime.strategy.pipeline import prepare_market  # noqa: E402


def main() -> None:
    df, source = load_year()
    build_dataset(prepare_market(df.iloc[-5000:], "XRPUSDT"), DatasetParams())  # warm-up (numba), not timed
    params = resolve_params(num_threads=1).params
    dparams = DatasetParams()
    stages: list[tuple[str, float]] = []

    def stage(name, fn):
        t = timed(fn)
        stages.append((name, t.min_wall * 1000))
        return t.result

    market = stage("prepare_market (indicators)", lambda: prepare_market(df, "XRPUSDT"))
    ds = stage("build_dataset", lambda: build_dataset(market, dparams))
    wf = stage("walk_forward_validate (5 folds)", lambda: walk_forward_validate(ds, params, 5))
    model = stage("train_filter_model (dev WF + holdout + final)",
                  lambda: train_filter_model(ds, params, dataset_params=dparams, symbol="XRPUSDT"))
    cols = model.feature_columns
    blob = stage("export_onnx", lambda: export_onnx(model, len(cols)))
    parity = stage("verify_parity (all rows + NaN copies)", lambda: verify_parity(model, blob, ds[list(cols)]))
    total_ms = sum(ms for _, ms in stages)

    print(f"data: {source}; {len(df)} candles -> dataset {len(ds)} rows; n_estimators {params['n_estimators']}")
    print(f"{'stage':<48}{'ms':>10}")
    for name, ms in stages:
        print(f"{name:<48}{ms:>10.1f}")
    print(f"{'total':<48}{total_ms:>10.1f}")
    print(f"walk-forward signal AUC {wf.mean_auc_signal:.3f} ± {wf.std_auc_signal:.3f} (all rows {wf.mean_auc_all:.3f}); "
          f"held-out signal AUC {model.metrics['holdout_auc_signal']:.3f}; threshold {model.threshold:.3f}")
    print(f"ONNX parity: max |diff| {parity.max_abs_diff:.2e} over {parity.n_rows} rows "
          f"({parity.n_nan_rows} with NaN) -> {'PASS' if parity.passed else 'FAIL'}; model {len(blob) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
