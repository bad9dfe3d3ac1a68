"""Fee and slippage model."""

from __future__ import annotations

import pytest

from trader_runtime.backtest.fills import FillModel, gross_pnl, market_entry_price, market_exit_price, unrealised_pnl
from trader_runtime.errors import ConfigError


def test_market_fills_pay_slippage_against_the_trader():
    assert market_entry_price(1, 100.0, 0.0001) == pytest.approx(100.01)
    assert market_entry_price(-1, 100.0, 0.0001) == pytest.approx(99.99)
    assert market_exit_price(1, 100.0, 0.0001) == pytest.approx(99.99)
    assert market_exit_price(-1, 100.0, 0.0001) == pytest.approx(100.01)


def test_gross_and_unrealised_pnl_by_side():
    assert gross_pnl(1, 100.0, 102.0, 5.0) == pytest.approx(10.0)
    assert gross_pnl(-1, 100.0, 102.0, 5.0) == pytest.approx(-10.0)
    assert unrealised_pnl(-1, 100.0, 97.0, 2.0) == pytest.approx(6.0)


def test_fill_model_uses_percent_inputs():
    m = FillModel(fee_pct=0.04, slippage_pct=0.01)
    assert m.fee_rate == pytest.approx(0.0004) and m.slippage_rate == pytest.approx(0.0001)
    assert m.fee(100.0, 10.0) == pytest.approx(0.4)
    assert m.entry_price(1, 100.0) == pytest.approx(100.01)
    assert m.exit_price(1, 100.0) == pytest.approx(99.99)


@pytest.mark.parametrize("kw", [{"fee_pct": -0.1}, {"slippage_pct": 6.0}])
def test_fill_model_rejects_out_of_range(kw):
    with pytest.raises(ConfigError):
        FillModel(**kw)
