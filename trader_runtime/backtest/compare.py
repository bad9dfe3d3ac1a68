"""Trade-level difference between two backtest runs, keyed by (symbol, entry_time, side).

Used to explain why two rule sets (or two runs) disagree: which trades only one run has, and which shared trades
closed differently (exit time/reason) or were only resized/repriced.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

KEY = ["entry_time", "side"]
MATERIAL = ("exit_time", "close_reason")
NUMERIC = ("quantity", "entry_price", "exit_price", "net_pnl")


@dataclass
class TradeDiff:
    added: pd.DataFrame  # trades only in `new`
    removed: pd.DataFrame  # trades only in `old`
    changed_exit: pd.DataFrame  # same entry, different exit time or reason (columns suffixed _old/_new)
    resized: pd.DataFrame  # same entry and exit, different quantity or prices
    pnl_delta: float  # Σ net_pnl(new) − Σ net_pnl(old)

    @property
    def empty(self) -> bool:
        return self.added.empty and self.removed.empty and self.changed_exit.empty and self.resized.empty

    @property
    def n_differing(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed_exit) + len(self.resized)


def diff_trades(old: pd.DataFrame, new: pd.DataFrame, tolerance: float = 1e-9) -> TradeDiff:
    """Compare two trade frames (engine columns). Numeric fields differ when |Δ| > tolerance."""
    key = (["symbol"] if "symbol" in old.columns and "symbol" in new.columns else []) + KEY
    cols = key + list(MATERIAL) + list(NUMERIC) + ["fold"]
    a = old[[c for c in cols if c in old.columns]]
    b = new[[c for c in cols if c in new.columns]]
    merged = a.merge(b, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
    added = merged[merged["_merge"] == "right_only"]
    removed = merged[merged["_merge"] == "left_only"]
    both = merged[merged["_merge"] == "both"]
    exit_diff = (both["exit_time_old"] != both["exit_time_new"]) | (both["close_reason_old"] != both["close_reason_new"])
    num_diff = pd.Series(False, index=both.index)
    for c in NUMERIC:
        num_diff |= (both[f"{c}_old"] - both[f"{c}_new"]).abs() > tolerance
    keep_new = {f"{c}_new": c for c in cols if c not in key}
    keep_old = {f"{c}_old": c for c in cols if c not in key}
    return TradeDiff(
        added=added[key + list(keep_new)].rename(columns=keep_new).reset_index(drop=True),
        removed=removed[key + list(keep_old)].rename(columns=keep_old).reset_index(drop=True),
        changed_exit=both[exit_diff].drop(columns="_merge").reset_index(drop=True),
        resized=both[~exit_diff & num_diff].drop(columns="_merge").reset_index(drop=True),
        pnl_delta=float(new["net_pnl"].sum() - old["net_pnl"].sum()),
    )
