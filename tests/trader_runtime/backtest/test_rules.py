"""Engine rule switches."""

from __future__ import annotations

import pytest

from trader_runtime.backtest.rules import RULE_FIXES, EngineRules
from trader_runtime.config import BacktestConfig
from trader_runtime.errors import ConfigError


def test_default_is_the_fixed_platform_behaviour():
    r = EngineRules()
    assert not r.block_exits_when_halted and r.recheck_before_reentry and r.gap_fills
    assert (r.fold_history, r.quantity_rounding, r.daily_loss_base) == ("full", "step_floor", "day_start")
    assert not r.is_legacy and EngineRules.legacy().is_legacy
    assert BacktestConfig().rules == r


def test_ladder_turns_legacy_into_default_one_switch_at_a_time():
    rules = EngineRules.legacy()
    seen = set()
    for fix in RULE_FIXES:
        assert fix.field not in seen
        seen.add(fix.field)
        rules = fix.apply(rules)
    assert rules == EngineRules()
    assert seen == set(EngineRules.__dataclass_fields__)


@pytest.mark.parametrize(
    "kw", [{"fold_history": "rolling"}, {"quantity_rounding": "round2"}, {"daily_loss_base": "equity"}]
)
def test_invalid_values_are_config_errors(kw):
    with pytest.raises(ConfigError):
        EngineRules(**kw)


def test_backtest_config_refuses_non_rules():
    with pytest.raises(ConfigError):
        BacktestConfig(rules="legacy")  # type: ignore[arg-type]


def test_kernel_flags():
    assert EngineRules().kernel_flags() == (0, 1, 1, 1, 1)
    assert EngineRules.legacy().kernel_flags() == (1, 0, 0, 0, 0)
