"""The report's first line: keep the strategy, stop it, or not enough evidence yet — with the rule that decided.

The rule is stated in full in the report so a reader can check it by hand: a verdict needs at least
`MIN_TRADES` closed out-of-sample trades; keep when the profit factor of the walk-forward test windows is at least
1.0 and, once the trader's journal holds `MIN_TRADES` closed trades, its profit factor too; stop when either is
below 1.0 or a kill switch has tripped.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

MIN_TRADES = 30
MIN_PF = 1.0
SIMULATED_MODES = frozenset({"replay", "paper"})
RULE = (
    f"A verdict needs at least {MIN_TRADES} closed out-of-sample trades. Keep when the profit factor of the "
    f"walk-forward test windows is at least {MIN_PF:.1f} and, once the journal holds {MIN_TRADES} closed trades, "
    f"its profit factor too; stop when either is below {MIN_PF:.1f} or a kill switch has tripped."
)


def _pf(summary: Mapping[str, Any] | None) -> float | None:
    if not summary:
        return None
    if summary.get("profit_factor_infinite"):
        return math.inf
    value = summary.get("profit_factor")
    return None if value is None else float(value)


def _pf_text(pf: float | None) -> str:
    return "n/a" if pf is None else ("∞" if math.isinf(pf) else f"{pf:.2f}")


def journal_kind(modes: list[str] | None) -> str:
    """`simulated` (replay/paper journal), `live` (demo/live) or `unknown` (mode not recorded)."""
    if not modes:
        return "unknown"
    return "simulated" if set(modes) <= SIMULATED_MODES else "live"


def decide(summary: Mapping[str, Any] | None, live: Mapping[str, Any], kill: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`decision` (keep / stop / not enough evidence), the one-line `reason`, the `rule` and the figures used."""
    bt_trades = int(summary["total_trades"]) if summary else 0
    bt_pf = _pf(summary)
    cumulative = live.get("cumulative") if live.get("available") else None
    j_trades = int(cumulative["total_trades"]) if cumulative else 0
    j_pf = _pf(cumulative) if cumulative else None
    kind = live.get("journal_kind", "unknown")
    tripped = sorted(sym for sym, k in kill.items() if k.get("killed"))
    journal = f"{j_trades} {kind if kind != 'unknown' else 'journal'} trades, PF {_pf_text(j_pf)}"
    backtest = f"walk-forward PF {_pf_text(bt_pf)} on {bt_trades} out-of-sample trades"
    if tripped:
        decision, reason = "stop", f"kill switch tripped for {', '.join(tripped)}; {backtest}; {journal}"
    elif bt_trades < MIN_TRADES:
        decision, reason = "not enough evidence", f"{backtest} (fewer than {MIN_TRADES}); {journal}"
    elif j_trades >= MIN_TRADES and j_pf is not None and j_pf < MIN_PF:
        decision, reason = "stop", f"{journal} — below {MIN_PF:.1f}; {backtest}"
    elif bt_pf is not None and bt_pf < MIN_PF:
        decision, reason = "stop", f"{backtest} — below {MIN_PF:.1f}; {journal}"
    else:
        wait = "" if j_trades >= MIN_TRADES else f" (the journal's {j_trades} trades are not judged until {MIN_TRADES})"
        decision, reason = "keep", f"{backtest}; {journal}{wait}"
    return {"decision": decision, "reason": reason, "rule": RULE, "min_trades": MIN_TRADES, "min_profit_factor": MIN_PF,
            "backtest_trades": bt_trades, "journal_trades": j_trades, "journal_kind": kind, "tripped": tripped}  # fmt: skip
