"""Trend against previous weekly reports and the ML retraining checklist (spec 20 §7.2 steps 5 and 7, BT-18).

The trend holds up to `TREND_WEEKS` previous reports (dated strictly before this one) plus the current report as
its last point, so a decline that shows up this week counts. Profit factors are read under the one strict-JSON
rule (`null` + `_infinite` flag) and, for files of the original tool, also as the strings "inf"/"Infinity";
an unreadable value drops that point instead of breaking the comparison (BT-18).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from trader_runtime.backtest.serialization import restore_float

TREND_WEEKS = 4
DECLINE_WEEKS = 3
ML_TRADE_THRESHOLD = 150
RETRAIN_MIN_MET = 2
TREND_KEYS = ("profit_factor", "win_rate", "max_drawdown_pct")


def read_float(mapping: Mapping[str, Any], key: str) -> float | None:
    """A float written by this project or by the original tool ("inf" strings); None when absent or unreadable."""
    value = mapping.get(key)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("inf", "+inf", "infinity", "+infinity"):
            return math.inf
        if text in ("-inf", "-infinity"):
            return -math.inf
        try:
            return float(text)
        except ValueError:
            return None
    if isinstance(value, bool):
        return None
    try:
        return restore_float(mapping, key)
    except (TypeError, ValueError):
        return None


def report_date_of(report: Mapping[str, Any]) -> str | None:
    """`report_date` (schema 1) or `date` (original tool)."""
    value = report.get("report_date", report.get("date"))
    return str(value) if value else None


def trend_point(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """The trend figures of one report, or None when it has no usable backtest summary."""
    date = report_date_of(report)
    backtest = report.get("backtest")
    summary = backtest.get("summary") if isinstance(backtest, Mapping) else None
    if date is None or not isinstance(summary, Mapping):
        return None
    point: dict[str, Any] = {"report_date": date}
    for key in TREND_KEYS:
        point[key] = read_float(summary, key)
    trades = summary.get("total_trades")
    point["total_trades"] = int(trades) if isinstance(trades, (int, float)) and not isinstance(trades, bool) else None
    if point["profit_factor"] is None:
        return None
    return point


def build_trend(previous: Sequence[Mapping[str, Any]], current: Mapping[str, Any] | None) -> dict[str, Any]:
    """Last `TREND_WEEKS` previous points (oldest first) + the current one; `pf_declining_3w` on the last three."""
    date_now = report_date_of(current) if current is not None else None
    points = [p for p in (trend_point(r) for r in previous) if p is not None]
    if date_now is not None:
        points = [p for p in points if p["report_date"] < date_now]
    points.sort(key=lambda p: p["report_date"])
    points = points[-TREND_WEEKS:]
    now_point = trend_point(current) if current is not None else None
    if now_point is not None:
        points.append(now_point | {"current": True})
    return {"points": points, "weeks": len(points), "pf_declining_3w": pf_declining(points)}


def pf_declining(points: Sequence[Mapping[str, Any]], weeks: int = DECLINE_WEEKS) -> bool:
    """Strictly falling profit factor over the last `weeks` points (∞ > any finite value)."""
    values = [p["profit_factor"] for p in points][-weeks:]
    if len(values) < weeks or any(v is None for v in values):
        return False
    return all(a > b for a, b in zip(values, values[1:]))


def retrain_checklist(
    cumulative_trades: int | None,
    combined_pf: float | None,
    backtest_trades: int,
    pf_declining_3w: bool,
    threshold: int = ML_TRADE_THRESHOLD,
) -> dict[str, Any]:
    """The 2-of-3 rule: enough live trades, backtest PF below 1, PF falling three weeks. A condition whose input is
    missing (no journal, no backtest trades) counts as not met and is listed under `unknown`."""
    unknown: list[str] = []
    if cumulative_trades is None:
        unknown.append("cumulative_trades_enough")
    if combined_pf is None or backtest_trades == 0:
        unknown.append("pf_below_1")
    conditions = {
        "cumulative_trades_enough": cumulative_trades is not None and cumulative_trades >= threshold,
        "pf_below_1": "pf_below_1" not in unknown and combined_pf is not None and combined_pf < 1.0,
        "pf_declining_3w": bool(pf_declining_3w),
    }
    met = sum(conditions.values())
    return {
        "conditions": conditions,
        "met_count": met,
        "required": RETRAIN_MIN_MET,
        "recommend": met >= RETRAIN_MIN_MET,
        "cumulative_trades": cumulative_trades,
        "threshold": threshold,
        "unknown": unknown,
    }
