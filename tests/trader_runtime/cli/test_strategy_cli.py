"""`cointrader strategy list|check` on both strategies, and a strategy that reads the future is caught."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.cli.main import main
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.checks import look_ahead, warmup_sensitivity
from trader_runtime.strategy.mtf_pullback import MTFParams
from trader_runtime.strategy.mtf_pullback.strategy import MTFPullbackStrategy
from trader_runtime.strategy.weighted import WeightedSignalStrategy


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "xrp.parquet"
    generate_market("XRPUSDT", 75, 9).combined.to_parquet(path)
    return path


def test_list_names_both_strategies(capsys):
    assert main(["strategy", "list"]) == 0
    out = capsys.readouterr().out
    assert "weighted-signal" in out and "mtf-pullback" in out and "15m, 1h" in out


@pytest.mark.parametrize("name", ["weighted-signal", "mtf-pullback"])
def test_check_finds_no_look_ahead_and_prints_both_tables(parquet, capsys, name):
    rc = main(["strategy", "check", "--strategy", name, "--data", str(parquet), "--cuts", "3", "--window", "960"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "no look-ahead found" in out and "warm-up sensitivity" in out
    assert out.count("  OK") >= 3


class _Peeking(MTFPullbackStrategy):
    """The MTF strategy with its hourly candles visible one hour early: the check must flag it."""

    def indicator_frame(self, prepared, params):
        ind = super().indicator_frame(prepared, params)
        return ind.assign(ema_slow_1h=ind["ema_slow_1h"].shift(-4))


def test_a_strategy_reading_its_future_is_flagged():
    frame = generate_market("XRPUSDT", 60, 4).combined
    results = look_ahead(_Peeking(), frame, "XRPUSDT", MTFParams(), cuts=3)
    inside = results[:-1]  # the last cut is at the end of the data: there is no future left to read
    assert inside and not any(r.ok for r in inside)
    assert all("ema_slow_1h" in r.columns_changed for r in inside)


def test_warmup_sensitivity_of_the_weighted_strategy_shrinks_with_history():
    frame = generate_market("XRPUSDT", 40, 5).combined
    res = warmup_sensitivity(WeightedSignalStrategy(), frame, "XRPUSDT", WeightedSignalStrategy().default_params(),
                             window=960, warmups=[60, 500, 2000])  # fmt: skip
    diffs = [r.max_diff for r in res]
    assert diffs[0] > 1e-3 and diffs[0] > diffs[1] >= diffs[2]
    assert res[0].column_diffs["adx"] > 1e-4  # the reference's 60-candle warm-up leaves ADX visibly off


def test_bad_input_exits_2(parquet, capsys):
    assert main(["strategy", "check", "--strategy", "mtf-pullback", "--data", str(parquet), "--param", "x=1"]) == 2
    assert main(["strategy", "check", "--strategy", "mtf-pullback", "--data", "/nope.parquet"]) == 2
    assert main(["strategy", "check", "--strategy", "mtf-pullback", "--data", str(parquet), "--cuts", "0"]) == 2
