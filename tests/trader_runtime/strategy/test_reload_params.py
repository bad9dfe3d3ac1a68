"""`registry.params_for_reload`: what an operator reload re-reads for a symbol, per the strategy it runs."""

from __future__ import annotations

import pytest

from trader_runtime.config import StrategyParams
from trader_runtime.errors import ConfigError
from trader_runtime.strategy.mtf_pullback import MTFParams
from trader_runtime.strategy.registry import params_for_reload


def test_each_strategy_reads_its_own_variables():
    env = {"MTF_SL_MULT_DOGEUSDT": "2", "MTF_TP_MULT": "3", "SIGNAL_THRESHOLD_XRPUSDT": "4", "ATR_SL_MULT": "1.25"}
    assert params_for_reload("mtf-pullback", "DOGEUSDT", env) == MTFParams(sl_mult=2.0, tp_mult=3.0)
    assert params_for_reload("weighted-signal", "XRPUSDT", env) == StrategyParams(atr_sl_mult=1.25, signal_threshold=4)


@pytest.mark.parametrize(
    "running, env, message",
    [
        ("mtf-pullback", {"ATR_TP_MULT_DOGEUSDT": "3"}, "ATR_TP_MULT_DOGEUSDT is a parameter of the weighted signal strategy, but DOGEUSDT runs the MTF pullback strategy"),
        ("weighted-signal", {"MTF_DRY_RATIO_DOGEUSDT": "0.7"}, "MTF_DRY_RATIO_DOGEUSDT is a parameter of the MTF pullback strategy, but DOGEUSDT runs the weighted signal strategy"),
        ("mtf-pullback", {"MTF_SL_MULT": "-1"}, "sl_mult=-1.0 is out of range"),
    ],
)
def test_refusals(running, env, message):
    with pytest.raises(ConfigError, match=message):
        params_for_reload(running, "DOGEUSDT", env)


def test_a_new_strategy_name_needs_a_restart():
    with pytest.raises(ConfigError, match="names weighted-signal for DOGEUSDT, which runs mtf-pullback; a symbol's strategy changes on restart only"):
        params_for_reload("mtf-pullback", "DOGEUSDT", {}, configured="weighted-signal")
    assert params_for_reload("mtf-pullback", "DOGEUSDT", {}, configured="mtf-pullback") == MTFParams()
