"""`bench/bench_trader.py` makes its model `champion` through the platform's promotion path, so the trader — which
refuses a champion without a signed promotion record — loads it and decides with ML on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.features import MIN_LIVE_CANDLES

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_trader.py"
CANDLES = 40


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_trader", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_model_is_a_champion_the_trader_runs_with(tmp_path: Path):
    bench = _bench_module()
    uri = bench.register_model(tmp_path)
    frame = validate_combined_frame(generate_market("XRPUSDT", days=20, seed=3).combined).iloc[-(MIN_LIVE_CANDLES + CANDLES):]
    per_second, latency, _, _ = bench.run(frame, tmp_path, "on", uri)
    assert len(latency) == CANDLES and per_second > 0
