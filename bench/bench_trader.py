"""Trader runtime: per-candle decision latency with the ML filter on (p50/p99) and replay throughput (candles/s).

Runs the real service in replay mode over the XRP year's data (synthetic if absent): the incremental feature path
(1,000-candle buffer, D11), the decision rules, the simulated venue and the SQLite journal, with a LightGBM
filter (300 trees) exported to ONNX and served from a temporary MLflow registry. Latency is measured by the bot
around each whole candle decision and stored in the journal; throughput is candles decided per wall-clock second.

    .venv/bin/python bench/bench_trader.py [--candles 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import load_year  # noqa: E402
from _timing import timed  # noqa: E402

from trader_runtime.config import TRAIN_SIGNAL_PARAMS, load_runtime_settings  # noqa: E402
from trader_runtime.domain.schema import validate_combined_frame  # noqa: E402
from trader_runtime.exchange.factory import ReplaySource  # noqa: E402
from trader_runtime.service.app import TraderApp, TraderOptions  # noqa: E402
from trader_runtime.storage.journal import JournalReader  # noqa: E402
from trader_runtime.strategy.features import FEATURE_COLUMNS, MIN_LIVE_CANDLES  # noqa: E402

MODEL = "cointrader-filter-XRPUSDT"


def register_model(root: Path) -> str:
    """A 300-tree LightGBM filter → ONNX, logged as the pipelines log it and made `champion` through the platform's
    promotion path (`Registry.promote`: a signed promotion record, then the alias), which the trader requires."""
    import lightgbm as lgb
    import mlflow
    import onnx
    import pandas as pd

    from cointrader_pipelines.tracking.registry import Registry, onnx_signature, serving_requirements
    from cointrader_pipelines.tracking.runs import MlflowTracker
    from trader_runtime.ml.onnx_export import export_onnx
    from trader_runtime.strategy.features import FEATURE_SCHEMA_VERSION

    # a throw-away key for a throw-away registry (never the default key file in the working directory); the trader
    # below runs in this process and verifies the record with the same key
    os.environ.setdefault("COINTRADER_PROMOTION_KEY", secrets.token_hex(32))
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(5000, len(FEATURE_COLUMNS))), columns=list(FEATURE_COLUMNS))
    y = ((X["rsi"] + X["adx"] * 0.5 + rng.normal(0, 1, len(X))) > 0).astype(int)
    clf = lgb.LGBMClassifier(n_estimators=300, num_leaves=31, verbose=-1).fit(X, y)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    tracker = MlflowTracker(uri, str(root / "artifacts"), "http://127.0.0.1:5000")
    tracker._activate()
    meta = {"feature_columns": list(FEATURE_COLUMNS), "feature_schema_version": FEATURE_SCHEMA_VERSION, "threshold": 0.5,
            "label_params": {}, "signal_params": {}, "metrics": {}}
    with mlflow.start_run(experiment_id=tracker.experiment_id("bench")):
        info = mlflow.onnx.log_model(onnx.load_from_string(export_onnx(clf, len(FEATURE_COLUMNS))), name="filter_model",
                                     signature=onnx_signature(len(FEATURE_COLUMNS)), metadata=meta,
                                     registered_model_name=MODEL, save_as_external_data=False,
                                     pip_requirements=serving_requirements())  # fmt: skip
    Registry(tracker).promote(MODEL, str(info.registered_model_version), reason="benchmark model", actor="bench",
                              evidence={"gate": {"passed": True, "note": "benchmark model, not trained on market data"}})
    return uri


def run(frame, root: Path, ml_mode: str, uri: str | None) -> tuple[float, "np.ndarray", "np.ndarray", int]:
    env = {"SYMBOLS": "XRPUSDT", "COINTRADER_MODE": "replay", "ML_MODE": ml_mode}
    if uri:
        env["MLFLOW_TRACKING_URI"] = uri
    journal = root / f"bench-{ml_mode}.sqlite"
    opts = TraderOptions(journal_path=journal, replay=ReplaySource(frames={"XRPUSDT": frame}), http_port=None,
                         params={"XRPUSDT": TRAIN_SIGNAL_PARAMS}, model_cache=root / "cache")
    app = TraderApp(load_runtime_settings(**env), opts)
    elapsed = timed(lambda: asyncio.run(app.run())).min_wall
    with JournalReader(journal) as r:
        d = r.decisions()
        trades = len(r.closed_trades())
    lat = d["latency_ms"].to_numpy()
    on_signal = d.loc[d["ml_proba"].notna(), "latency_ms"].to_numpy() if ml_mode != "off" else np.array([])
    return len(d) / elapsed, lat, on_signal, trades


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candles", type=int, default=2000, help="decision candles to replay (after the 1,000-candle warm-up)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    df, source = load_year()
    frame = validate_combined_frame(df).iloc[-(MIN_LIVE_CANDLES + args.candles):]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        uri = register_model(root)
        cps_on, lat, on_signal, trades_on = run(frame, root, "on", uri)
        cps_off, lat_off, _, trades_off = run(frame, root, "off", None)
    print(f"data: {source}; {args.candles} decision candles after a {MIN_LIVE_CANDLES}-candle warm-up; relaxed thresholds")
    print(f"{'metric':<52}{'value':>12}")
    rows = [
        ("decision latency p50, ML on (ms)", np.percentile(lat, 50)),
        ("decision latency p99, ML on (ms)", np.percentile(lat, 99)),
        ("decision latency p50, candles the model scored (ms)", np.percentile(on_signal, 50) if len(on_signal) else float("nan")),
        ("decision latency p99, candles the model scored (ms)", np.percentile(on_signal, 99) if len(on_signal) else float("nan")),
        ("decision latency p50, ML off (ms)", np.percentile(lat_off, 50)),
        ("replay throughput, ML on (candles/s)", cps_on),
        ("replay throughput, ML off (candles/s)", cps_off),
        ("candles scored by the model", float(len(on_signal))),
        ("closed trades ML on / off", f"{trades_on} / {trades_off}"),
    ]
    for name, value in rows:
        print(f"{name:<52}{value:>12}" if isinstance(value, str) else f"{name:<52}{value:>12.2f}")


if __name__ == "__main__":
    main()
