"""The journal's own row types (kill-switch history, candle decisions, the start-up snapshot) and day arithmetic.

Trade, order and fill rows are domain types (`trader_runtime.domain.trades`), re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trader_runtime.domain.trades import FillRow, OrderRow, TradeRow

__all__ = ["MS_PER_DAY", "DecisionRow", "FillRow", "JournalSnapshot", "KillRow", "OrderRow", "TradeRow", "day_start_ms"]

MS_PER_DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class KillRow:
    """`marker_ms`: for KILL the exit time of the trade that triggered it; for RESET the exit time of the symbol's
    newest closed trade when the reset was written — only trades closed after it count again (DEF-12). Exit times
    rather than wall-clock times, so a reset works the same on a replay clock and a live one."""

    symbol: str
    time_ms: int
    action: str  # KILL / RESET
    reason: str
    marker_ms: int


@dataclass(frozen=True, slots=True)
class DecisionRow:
    symbol: str
    candle_ms: int
    close: float
    signal: int
    action: str
    long_score: int | None = None
    short_score: int | None = None
    adx: float | None = None
    atr: float | None = None
    reason: str | None = None
    ml_mode: str | None = None
    model_version: str | None = None
    ml_proba: float | None = None
    latency_ms: float | None = None


@dataclass
class JournalSnapshot:
    """What a restarting runtime needs from the store, read in one go."""

    open_trades: dict[str, TradeRow] = field(default_factory=dict)
    kill_rows: list[KillRow] = field(default_factory=list)


def day_start_ms(time_ms: int) -> int:
    return (int(time_ms) // MS_PER_DAY) * MS_PER_DAY
