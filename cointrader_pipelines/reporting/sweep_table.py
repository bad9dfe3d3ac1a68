"""Flat rows of a ranked strategy sweep, for tables people browse (Dagster metadata, HTML, CSV).

Each row: rank, the five parameters, the headline figures, and whether it reached the minimum trade count.
Non-finite values (PF or payoff with no losing trade) are kept as floats; `display_value` renders them.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from trader_runtime.backtest.sweep import CURRENT

from cointrader_pipelines.reporting.trend import read_float

PARAM_COLUMNS = ("atr_sl_mult", "atr_tp_mult", "signal_threshold", "adx_threshold", "volume_multiplier")
FIGURE_COLUMNS = ("total_trades", "profit_factor", "win_rate", "total_pnl", "max_drawdown_pct", "sharpe", "payoff_ratio")
COLUMNS = ("rank",) + PARAM_COLUMNS + FIGURE_COLUMNS + ("meets_min_trades", "current")


def sweep_records(rows: Sequence[dict[str, Any]], top: int | None = None) -> list[dict[str, Any]]:
    """Ranked sweep rows (`run_sweep(...).rows`) flattened into `COLUMNS`."""
    out = []
    for row in rows[:top] if top else rows:
        s, p = row["summary"], row["params"]
        record: dict[str, Any] = {"rank": int(row["rank"])}
        record.update({k: p[k] for k in PARAM_COLUMNS})
        record.update({k: read_float(s, k) if k != "total_trades" else int(s[k]) for k in FIGURE_COLUMNS})
        record["meets_min_trades"] = bool(row["meets_min_trades"])
        record["current"] = bool(row.get("current", False)) or p == CURRENT.as_dict()
        out.append(record)
    return out


def display_value(value: Any) -> Any:
    """Floats rounded for display; ±∞ as text; None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return round(value, 2)
    return value


def sweep_markdown(records: Sequence[dict[str, Any]]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "|".join("---:" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(str(display_value(r[c])) for c in COLUMNS) + " |" for r in records]
    return "\n".join([head, *body])
