"""Weekly report section "strategies": the weighted-signal and MTF pullback strategies side by side per symbol.

Both are measured on the same walk-forward test months and in the same unit: each trade's return on one unit of
notional after both fees, in basis points (the weighted strategy's account figures stay in the backtest section).
The MTF pullback runs with its default parameters and platform rules. Self-contained: `strategy_comparison` builds
the JSON part, `render_strategies` its HTML.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_runtime.backtest.walk_forward import walk_forward_windows
from trader_runtime.config import BacktestConfig, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, prepare_mtf
from trader_runtime.strategy.mtf_pullback.metrics import bps_stats
from trader_runtime.strategy.mtf_pullback.research import period_returns

from cointrader_pipelines.reporting.html_parts import NA, esc, num, section, table

COLUMNS = (("trades", 0), ("win_rate", 1), ("profit_factor", 2), ("pnl_bps", 1), ("max_dd_bps", 1))


def _weighted_returns(trades: pd.DataFrame, fee_rate: float) -> np.ndarray:
    if trades is None or trades.empty:
        return np.zeros(0)
    side = np.where(trades["side"].to_numpy() == "LONG", 1.0, -1.0)
    entry, exit_ = trades["entry_price"].to_numpy(np.float64), trades["exit_price"].to_numpy(np.float64)
    return side * (exit_ - entry) / entry - 2.0 * fee_rate


def strategy_comparison(markets: Mapping[str, pd.DataFrame], weighted_trades: Mapping[str, pd.DataFrame | None],
                        backtest: BacktestConfig, wf: WalkForwardConfig) -> dict[str, Any]:  # fmt: skip
    """Per symbol: {"weighted-signal": stats, "mtf-pullback": stats, "test_months": [...]} on the same test months."""
    fee = backtest.fee_pct / 100.0
    params, rules = MTFParams(), MTFRules(fee_rate=fee)
    out: dict[str, Any] = {"unit": "bps per unit of notional, after fees", "mtf_params": params.as_dict(), "per_symbol": {}}
    for symbol, frame in markets.items():
        entry: dict[str, Any] = {"error": None}
        try:
            market = prepare_mtf(frame, symbol)
            windows = walk_forward_windows(market.index[0], market.index[-1], wf)
            if not windows:
                raise DataError(f"{symbol}: no complete walk-forward fold in the data")
            rets = [period_returns(market, params, rules, w.test_start, w.test_end)[1] for w in windows]
            entry["test_from"] = windows[0].test_start
            entry["test_to"] = windows[-1].test_end
            entry["mtf-pullback"] = bps_stats(np.concatenate(rets))
            trades = weighted_trades.get(symbol)
            if trades is not None and not trades.empty:
                trades = trades[(trades["entry_time"] >= windows[0].test_start) & (trades["entry_time"] < windows[-1].test_end)]
            entry["weighted-signal"] = bps_stats(_weighted_returns(trades, fee)) if trades is not None else None
        except DataError as exc:
            entry["error"] = str(exc)
        out["per_symbol"][symbol] = entry
    return out


def render_strategies(report: Mapping[str, Any]) -> str:
    part = report.get("strategies")
    if not part:
        return ""
    rows = []
    for symbol, e in part.get("per_symbol", {}).items():
        if e.get("error"):
            rows.append([esc(symbol), esc("—"), esc(e["error"]), "", "", "", ""])
            continue
        for name, label in (("weighted-signal", "weighted signal"), ("mtf-pullback", "MTF pullback")):
            s = e.get(name) or {}
            rows.append([esc(symbol), esc(label)] + [num(s.get(c), d) if s else NA for c, d in COLUMNS])
    body = (
        f"<p class=\"muted\">Both strategies on the same walk-forward test months; {esc(part.get('unit', ''))}. "
        "The MTF pullback runs with its default parameters.</p>"
        + table(["symbol", "strategy", "trades", "win %", "PF", "net bps", "max DD bps"], rows, raw=True, left=2)
    )
    return section("strategies", "Strategies compared", body)
