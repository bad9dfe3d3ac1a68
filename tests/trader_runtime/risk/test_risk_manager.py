"""Shared risk manager: daily-loss limit on the day base (D2), admission (30 §7.2), margin ratio (DEF-18)."""

from __future__ import annotations

import pytest

from trader_runtime.config import RiskLimits
from trader_runtime.errors import DataError
from trader_runtime.risk.risk_manager import (
    MS_PER_DAY,
    DayStarted,
    LedgerAnchored,
    PositionClosed,
    PositionOpened,
    RiskManager,
)

DAY = 1_767_225_600_000


def _rm(n: int = 1, base: float = 1000.0, **limits) -> RiskManager:
    rm = RiskManager(RiskLimits(**limits), n, base)
    rm.apply(LedgerAnchored(base))
    rm.apply(DayStarted(DAY, base))
    return rm


@pytest.mark.parametrize("pnl,limited", [(-60.0, True), (-50.0, True), (-10.0, False), (80.0, False)])
def test_daily_limit_on_the_day_base(pnl: float, limited: bool):
    rm = _rm()
    rm.apply(PositionClosed("XRPUSDT", pnl, DAY + 1))
    assert rm.daily_limited() is limited


def test_new_day_starts_from_the_ledger_and_clears_the_limit():
    rm = _rm()
    rm.apply(PositionClosed("XRPUSDT", -60.0, DAY + 1))
    assert rm.needs_new_day(DAY + MS_PER_DAY) and not rm.needs_new_day(DAY + MS_PER_DAY - 1)
    assert rm.next_day_base() == 940.0
    rm.apply(DayStarted(DAY + MS_PER_DAY, rm.next_day_base()))
    assert not rm.daily_limited() and rm.daily_pnl == 0.0 and rm.day_base == 940.0
    with pytest.raises(DataError):
        rm.apply(DayStarted(DAY, 1000.0))


def test_a_late_close_of_yesterday_moves_the_ledger_not_today():
    rm = _rm()
    rm.apply(DayStarted(DAY + MS_PER_DAY, 1000.0))
    rm.apply(PositionClosed("XRPUSDT", -70.0, DAY + 5))
    assert rm.daily_pnl == 0.0 and rm.ledger == 930.0


def test_admission_rules():
    rm = _rm(max_positions=3, max_same_direction=2)
    rm.apply(PositionOpened("XRPUSDT", 1))
    assert not rm.can_open("XRPUSDT", -1)  # one position per symbol
    rm.apply(PositionOpened("TRXUSDT", -1))
    rm.apply(PositionOpened("DOGEUSDT", 1))
    assert not rm.can_open("SOLUSDT", -1)  # global cap 3
    rm.apply(PositionClosed("TRXUSDT", 0.0, DAY + 1))
    assert not rm.can_open("SOLUSDT", 1)  # two LONGs already
    assert rm.can_open("SOLUSDT", -1)


def test_margin_ratio_compares_per_symbol_balance_with_base_over_n():
    rm = _rm(n=2, base=1000.0)
    assert rm.margin_ratio(600.0) == pytest.approx(0.50 - 100 * 0.0006)  # DEF-18: 0.44
    assert rm.margin_ratio(100_000.0) == 0.20
    assert _rm(n=1, base=22.0).margin_ratio(22.0) == 0.50


def test_restore_rebuilds_registry_and_day():
    rm = RiskManager.restore(RiskLimits(), 2, 1000.0, 950.0, {"XRPUSDT": -1}, (DAY, 1000.0, -55.0))
    snap = rm.snapshot()
    assert snap.open_positions == {"XRPUSDT": -1} and snap.daily_limited and snap.ledger_balance == 950.0
    assert not rm.can_open("XRPUSDT", 1)


def test_bad_inputs_are_refused():
    with pytest.raises(DataError):
        RiskManager(RiskLimits(), 0, 1000.0)
    with pytest.raises(DataError):
        RiskManager(RiskLimits(), 1, 0.0)
    with pytest.raises(DataError):
        _rm().apply(PositionOpened("XRPUSDT", 0))
