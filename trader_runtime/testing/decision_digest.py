"""Fingerprints of every input a trading decision is made from, to compare machines bit for bit.

Run as `python -m trader_runtime.testing.decision_digest [COMBINED_PARQUET]`; prints one JSON line of short SHA-256
digests (synthetic market, indicators, signals at the relaxed and production settings, features, training dataset)
and the LONG-signal count. Two machines decide alike when the lines are equal. Used by the CPU-independence test
(other code paths forced on this CPU) and by `bench/cross_cpu_check.py` (other CPU models under emulation).
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pandas as pd


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:20]


def decision_digests(real_path: str | None = None) -> dict[str, object]:
    from trader_runtime.config import PRODUCTION_PARAMS, TRAIN_SIGNAL_PARAMS
    from trader_runtime.market.synthetic import generate_market
    from trader_runtime.strategy.dataset import DatasetParams, build_dataset
    from trader_runtime.strategy.pipeline import prepare_market

    out: dict[str, object] = {}
    frames = {"synthetic": generate_market("XRPUSDT", days=90, seed=5).combined}
    if real_path:
        frames["real"] = pd.read_parquet(real_path)
    for name, df in frames.items():
        m = prepare_market(df, "XRPUSDT")
        out[name + "_market"] = _digest(m.frame[["open", "high", "low", "close", "volume"]].to_numpy())
        out[name + "_indicators"] = _digest(m.frame.to_numpy())
        for label, p in (("relaxed", TRAIN_SIGNAL_PARAMS), ("production", PRODUCTION_PARAMS)):
            sig = m.signals(p)
            out[f"{name}_signals_{label}"] = _digest(sig.signal, sig.long_score, sig.short_score)
            if label == "relaxed":
                out[f"{name}_features"] = _digest(m.features(p).to_numpy())
        ds = build_dataset(m, DatasetParams(warmup=60))
        out[name + "_dataset"] = _digest(ds.drop(columns=["timestamp", "source"]).to_numpy(np.float64))
        out[name + "_dataset_rows"] = int(len(ds))
        out[name + "_long_signals"] = int((m.signals(TRAIN_SIGNAL_PARAMS).signal == 1).sum())
    return out


if __name__ == "__main__":
    print(json.dumps(decision_digests(sys.argv[1] if len(sys.argv) > 1 else None)))
