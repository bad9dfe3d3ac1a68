from __future__ import annotations

import json
import math

import pytest

from cointrader_pipelines.reporting.trend import build_trend, pf_declining, read_float, retrain_checklist
from trader_runtime.backtest.serialization import dumps


def _report(date: str, pf: float | str | None, wr: float = 50.0, mdd: float = 10.0, legacy: bool = False) -> dict:
    summary = {"profit_factor": pf, "win_rate": wr, "max_drawdown_pct": mdd, "total_trades": 20}
    key = "date" if legacy else "report_date"
    return json.loads(dumps({key: date, "backtest": {"summary": summary}}))  # as stored on disk


def test_read_float_understands_every_stored_form():
    assert math.isinf(read_float(_report("d", math.inf)["backtest"]["summary"], "profit_factor"))
    assert math.isinf(read_float({"profit_factor": "inf"}, "profit_factor"))
    assert math.isinf(read_float({"profit_factor": "Infinity"}, "profit_factor"))
    assert read_float({"profit_factor": "1.5"}, "profit_factor") == 1.5
    assert read_float({"profit_factor": "n/a"}, "profit_factor") is None
    assert read_float({"profit_factor": True}, "profit_factor") is None
    assert read_float({}, "profit_factor") is None


def test_trend_keeps_last_four_previous_plus_current_in_date_order():
    previous = [_report(f"2025-11-{d:02d}", 1.0 + d / 100) for d in (30, 2, 9, 16, 23)]
    previous.append(_report("2025-12-07", 9.9))  # same date as the current report: replaced, not a trend point
    previous.append({"report_date": "2025-11-01"})  # no backtest summary: skipped
    current = _report("2025-12-07", 0.9)
    trend = build_trend(previous, current)
    dates = [p["report_date"] for p in trend["points"]]
    assert dates == ["2025-11-09", "2025-11-16", "2025-11-23", "2025-11-30", "2025-12-07"]
    assert trend["points"][-1]["current"] is True and trend["points"][-1]["profit_factor"] == 0.9
    assert trend["pf_declining_3w"] is False  # 1.23 -> 1.30 -> 0.9


def test_decline_counts_the_current_week_and_handles_infinity_and_legacy_strings():
    previous = [_report("2025-11-23", math.inf), _report("2025-11-30", "inf", legacy=True)]
    assert build_trend(previous, _report("2025-12-07", 1.1))["pf_declining_3w"] is False  # inf == inf, not falling
    previous = [_report("2025-11-23", math.inf), _report("2025-11-30", 1.4, legacy=True)]
    assert build_trend(previous, _report("2025-12-07", 1.1))["pf_declining_3w"] is True


@pytest.mark.parametrize(
    "values, expected",
    [([1.5, 1.2, 1.0], True), ([1.5, 1.2, 1.2], False), ([1.2, 1.0], False), ([2.0, 1.5, 1.2, 1.3], False),
     ([1.0, 3.0, 2.0, 1.0], True)],
)  # fmt: skip
def test_pf_declining_needs_three_strictly_falling_values(values, expected):
    assert pf_declining([{"profit_factor": v} for v in values]) is expected


def test_no_previous_report_gives_a_single_point_and_no_decline():
    trend = build_trend([], _report("2025-12-07", 0.5))
    assert trend["weeks"] == 1 and trend["pf_declining_3w"] is False
    assert build_trend([], None) == {"points": [], "weeks": 0, "pf_declining_3w": False}


@pytest.mark.parametrize(
    "cumulative, pf, declining, met, recommend",
    [
        (150, 0.9, False, 2, True),
        (149, 0.9, False, 1, False),
        (149, 0.9, True, 2, True),
        (200, 1.0, True, 2, True),
        (0, 1.2, True, 1, False),
        (500, 0.5, True, 3, True),
    ],
)
def test_retrain_checklist_two_of_three(cumulative, pf, declining, met, recommend):
    out = retrain_checklist(cumulative, pf, 30, declining)
    assert out["met_count"] == met and out["recommend"] is recommend
    assert out["threshold"] == 150 and out["unknown"] == []


def test_missing_inputs_count_as_not_met_and_are_named():
    out = retrain_checklist(None, 0.0, 0, True)
    assert out["conditions"] == {"cumulative_trades_enough": False, "pf_below_1": False, "pf_declining_3w": True}
    assert out["unknown"] == ["cumulative_trades_enough", "pf_below_1"]
    assert out["recommend"] is False
