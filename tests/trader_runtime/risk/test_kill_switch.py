"""Per-symbol kill switch: fast/slow rules (INC-14), one alert per activation and reset markers (DEF-12)."""

from __future__ import annotations

import pytest

from trader_runtime.config import RiskLimits
from trader_runtime.risk.kill_switch import KillSwitch, ManualReset, TradeClosed

LIMITS = RiskLimits()


def _feed(ks: KillSwitch, pnls: list[float]) -> list:
    return [t for i, p in enumerate(pnls) if (t := ks.apply(TradeClosed(p, i))) is not None]


def test_eight_consecutive_losses_kill_once():
    ks = KillSwitch("XRPUSDT", LIMITS)
    transitions = _feed(ks, [-1.0] * 8)
    assert ks.killed and len(transitions) == 1 and transitions[0].action == "KILL"
    assert "Fast Kill" in transitions[0].reason
    assert _feed(ks, [-1.0, -2.0]) == []  # still killed: no second alert (DEF-12)


def test_a_zero_breaks_the_losing_streak():
    ks = KillSwitch("XRPUSDT", LIMITS)
    _feed(ks, [-1.0] * 7 + [0.0])
    assert not ks.killed


@pytest.mark.parametrize("loss_each,killed", [(0.5 / 0.74 * 0.75, True), (0.5, False)], ids=["pf-0.74", "pf-0.75"])
def test_slow_kill_on_profit_factor_of_the_last_fifteen(loss_each: float, killed: bool):
    wins = [1.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.0625]  # exactly 3.0; with 8 losses of 0.5 PF is exactly 0.75
    pnls = []
    for i in range(15):
        pnls.append(wins.pop() if i % 2 == 1 else -loss_each)
    ks = KillSwitch("XRPUSDT", LIMITS)
    _feed(ks, pnls)
    assert ks.killed is killed
    if killed:
        assert "Slow Kill" in ks.snapshot().reason


def test_seven_losses_and_a_win_do_not_kill():
    ks = KillSwitch("XRPUSDT", LIMITS)
    _feed(ks, [-1.0] * 7 + [5.0])
    assert not ks.killed


def test_reset_counts_only_later_trades():
    ks = KillSwitch("XRPUSDT", LIMITS)
    _feed(ks, [-1.0] * 7)
    t = ks.apply(ManualReset(100))
    assert t.action == "RESET"
    _feed(ks, [-1.0])
    assert not ks.killed and ks.snapshot().trades_since_reset == 1


def test_preview_does_not_change_state():
    ks = KillSwitch("XRPUSDT", LIMITS)
    _feed(ks, [-1.0] * 7)
    assert ks.preview(TradeClosed(-1.0, 99)).action == "KILL"
    assert not ks.killed and ks.snapshot().trades_since_reset == 7


def test_restore_applies_reset_markers_and_stored_activation():
    trades = [(t, -1.0) for t in range(1, 9)]  # 8 losses, exit times 1..8
    active = KillSwitch.restore("XRPUSDT", LIMITS, [("KILL", 8, "Fast Kill")], trades)
    assert active.killed and active.snapshot().reason == "Fast Kill"
    after_reset = KillSwitch.restore("XRPUSDT", LIMITS, [("KILL", 8, "Fast Kill"), ("RESET", 8, "manual")], trades + [(9, -1.0)])
    assert not after_reset.killed and after_reset.snapshot().trades_since_reset == 1


def test_boot_evaluation_is_silent_and_happens_once():
    ks = KillSwitch.restore("XRPUSDT", LIMITS, [], [(t, -1.0) for t in range(8)])
    assert not ks.killed
    t = ks.boot_transition(1000)
    assert t is not None and ks.killed and "start-up" in t.reason
    assert ks.boot_transition(1001) is None
