"""The trader's MTF engine takes, candle by candle, exactly the backtest's decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, prepare_mtf
from trader_runtime.strategy.mtf_pullback.backtest import first_candle, run_kernel
from trader_runtime.strategy.mtf_pullback import kernel as K
from trader_runtime.strategy.mtf_pullback.live import LIVE_MIN_CANDLES, MTFLiveEngine


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return validate_combined_frame(generate_market("XRPUSDT", 60, 3).combined)


@pytest.mark.parametrize("rules", [MTFRules(), MTFRules.old_bot()], ids=["platform", "old-bot-trigger"])
def test_candle_by_candle_decisions_equal_the_backtest(frame, rules):
    params = MTFParams(trigger_ema=15) if rules.sequence == "strict3" else MTFParams()
    market = prepare_mtf(frame, "XRPUSDT")
    start = LIVE_MIN_CANDLES + 50  # history the trader seeds with, then candles one by one
    end = len(market) if rules.sequence == "sticky" else start + 600
    first, trade_from = first_candle(market, rules, start)
    ti, _, _, dec = run_kernel(market, params, rules, first, trade_from, end)
    assert len(ti) >= 3
    entry, exit_ = ti[:, K.TI_ENTRY_IDX], ti[:, K.TI_EXIT_IDX]
    in_pos = np.zeros(len(market), dtype=bool)  # held at this candle's close, exit not yet seen
    for e, x in zip(entry, exit_):
        a = e if rules.entry_price == "next_open" else e + 1
        in_pos[a:x] = True
    cursor = {"i": start - 1}
    engine = MTFLiveEngine("XRPUSDT", params, rules, position_open=lambda: bool(in_pos[cursor["i"]]))
    engine.seed(frame.iloc[:start])
    got = np.zeros(len(market), dtype=np.int8)
    for i in range(start, end):
        cursor["i"] = i
        d = engine.update(frame.iloc[i : i + 1])
        assert d.ready
        got[i] = d.signal
        assert d.atr == pytest.approx(market.attached(params)["atr"][i], rel=1e-12)
    np.testing.assert_array_equal(got[start:end], dec[start:end])
    assert engine.evaluate() is engine.evaluate()  # repeat calls move no state


def test_warm_up_and_bad_candles(frame):
    engine = MTFLiveEngine("XRPUSDT", MTFParams())
    engine.seed(frame.iloc[:2000])
    d = engine.evaluate()
    assert not d.ready and d.signal == 0 and "warm-up" in d.hold_reason
    with pytest.raises(DataError, match="older"):
        engine.append(frame.iloc[100:101])
    with pytest.raises(DataError, match="gap"):
        engine.append(frame.iloc[2005:2006])


def test_new_parameters_decide_as_a_restart_with_them_would(frame):
    """Operator reload: after `set_params` the engine decides every later candle exactly as an engine started
    with the new parameters on the same candles, and differently from the old parameters."""
    old, new = MTFParams(), MTFParams(dry_ratio=0.8, adx_threshold=15.0, trigger_ema=15)
    start = LIVE_MIN_CANDLES + 50
    reloaded = MTFLiveEngine("XRPUSDT", old)
    reloaded.seed(frame.iloc[:start])
    for i in range(start, start + 30):  # runs a while with the old parameters
        reloaded.update(frame.iloc[i : i + 1])
    reloaded.set_params(new)
    restarted = MTFLiveEngine("XRPUSDT", new)
    restarted.seed(frame.iloc[: start + 30])
    unchanged = MTFLiveEngine("XRPUSDT", old)
    unchanged.seed(frame.iloc[: start + 30])
    got, want, before = [], [], []
    for i in range(start + 30, min(start + 630, len(frame))):
        candle = frame.iloc[i : i + 1]
        got.append((reloaded.update(candle).signal, reloaded.evaluate().hold_reason))
        want.append((restarted.update(candle).signal, restarted.evaluate().hold_reason))
        before.append((unchanged.update(candle).signal, unchanged.evaluate().hold_reason))
    assert got == want
    assert got != before and any(s for s, _ in got)
    assert reloaded.params == new
