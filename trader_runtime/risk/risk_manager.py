"""Account-level risk shared by all symbols (spec 30 §7, D1, D2, DEF-03, DEF-11, DEF-18) as a state machine.

State: the open-position registry, the realised balance ledger, the current UTC day, its base and its net PnL.
The rules are `strategy.decision` functions shared with the backtest kernel (daily-loss limit, admission, dynamic
margin ratio). `apply(event)` only changes memory; the service persists the facts (trades, daily base) in the
journal and rebuilds this object from them on restart (`restore`), so nothing here depends on process lifetime.

Ledger: the balance the day base is taken from. It is anchored once at start-up to the wallet balance plus the
entry fees already paid for still-open positions (those fees are charged to the trade's net PnL when it closes,
D3, so counting them in the base too would charge them twice), then moves by each recorded net PnL, in close
order — exactly how the backtest kernel moves its balance, so replay and backtest see the same day bases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trader_runtime.config import RiskLimits
from trader_runtime.errors import DataError
from trader_runtime.strategy.decision import can_open, daily_limit_hit, dynamic_margin_ratio

MS_PER_DAY = 86_400_000


def utc_day_ms(time_ms: int) -> int:
    return (int(time_ms) // MS_PER_DAY) * MS_PER_DAY


@dataclass(frozen=True, slots=True)
class LedgerAnchored:
    balance: float


@dataclass(frozen=True, slots=True)
class DayStarted:
    day_ms: int
    base_balance: float


@dataclass(frozen=True, slots=True)
class PositionOpened:
    symbol: str
    side: int  # 1 LONG, -1 SHORT


@dataclass(frozen=True, slots=True)
class PositionClosed:
    symbol: str
    net_pnl: float
    time_ms: int


RiskEvent = LedgerAnchored | DayStarted | PositionOpened | PositionClosed


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    day_ms: int | None
    day_base: float | None
    daily_pnl: float
    daily_limited: bool
    ledger_balance: float | None
    margin_base: float
    open_positions: dict[str, int] = field(default_factory=dict)


class RiskManager:
    """One instance per process, shared by every bot (all calls happen on the event loop thread)."""

    def __init__(self, limits: RiskLimits, n_symbols: int, margin_base: float) -> None:
        if n_symbols < 1:
            raise DataError(f"n_symbols={n_symbols} must be >= 1")
        if not margin_base > 0:
            raise DataError(f"margin_base={margin_base!r} must be > 0 (the balance the dynamic margin ratio decays from)")
        self.limits = limits
        self.n_symbols = n_symbols
        self.margin_base = float(margin_base)
        self.day_ms: int | None = None
        self.day_base: float | None = None
        self.daily_pnl = 0.0
        self.ledger: float | None = None
        self.open_positions: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------ transitions
    def apply(self, event: RiskEvent) -> None:
        if isinstance(event, LedgerAnchored):
            self.ledger = float(event.balance)
        elif isinstance(event, DayStarted):
            if self.day_ms is not None and event.day_ms < self.day_ms:
                raise DataError(f"day {event.day_ms} is before the current day {self.day_ms}; days only move forward")
            if event.day_ms != self.day_ms:
                self.daily_pnl = 0.0
            self.day_ms = int(event.day_ms)
            self.day_base = float(event.base_balance)
        elif isinstance(event, PositionOpened):
            if event.side not in (1, -1):
                raise DataError(f"{event.symbol}: side={event.side!r}; allowed 1 (LONG) or -1 (SHORT)")
            self.open_positions[event.symbol] = event.side
        elif isinstance(event, PositionClosed):
            self.open_positions.pop(event.symbol, None)
            if self.ledger is not None:
                self.ledger += event.net_pnl
            if self.day_ms is not None and utc_day_ms(event.time_ms) == self.day_ms:
                self.daily_pnl += event.net_pnl
        else:  # pragma: no cover - typed union
            raise DataError(f"unknown risk event {event!r}")

    def needs_new_day(self, time_ms: int) -> bool:
        return self.day_ms is None or utc_day_ms(time_ms) > self.day_ms

    def next_day_base(self) -> float:
        """The base a day starting now gets: the ledger (realised balance), D2."""
        if self.ledger is None:
            raise DataError("risk ledger not anchored; anchor it to the wallet balance at start-up")
        return self.ledger

    # ------------------------------------------------------------------------------------------ queries
    def daily_limited(self) -> bool:
        if self.day_base is None:
            return False
        return bool(daily_limit_hit(self.daily_pnl, self.day_base, self.limits.max_daily_loss_pct))

    def can_open(self, symbol: str, side: int) -> bool:
        """Admission (30 §7.2): global cap, one position per symbol, cap per direction."""
        same = sum(1 for s in self.open_positions.values() if s == side)
        return bool(
            can_open(symbol in self.open_positions, len(self.open_positions), same, self.limits.max_positions,
                     self.limits.max_same_direction)
        )  # fmt: skip

    def margin_ratio(self, per_symbol_balance: float) -> float:
        """Dynamic margin ratio comparing like with like: per-symbol balance vs base / N (DEF-18)."""
        return float(
            dynamic_margin_ratio(per_symbol_balance, self.margin_base / self.n_symbols, self.limits.margin_max_ratio,
                                 self.limits.margin_min_ratio, self.limits.margin_decay_rate)
        )  # fmt: skip

    def snapshot(self) -> RiskSnapshot:
        return RiskSnapshot(
            day_ms=self.day_ms,
            day_base=self.day_base,
            daily_pnl=self.daily_pnl,
            daily_limited=self.daily_limited(),
            ledger_balance=self.ledger,
            margin_base=self.margin_base,
            open_positions=dict(self.open_positions),
        )

    @classmethod
    def restore(
        cls,
        limits: RiskLimits,
        n_symbols: int,
        margin_base: float,
        ledger: float,
        open_positions: dict[str, int],
        day: tuple[int, float, float] | None,
    ) -> "RiskManager":
        """Rebuild after a restart: ledger anchor, registry (DEF-03) and the stored day (day_ms, base, net PnL)."""
        rm = cls(limits, n_symbols, margin_base)
        rm.apply(LedgerAnchored(ledger))
        for symbol, side in open_positions.items():
            rm.apply(PositionOpened(symbol, side))
        if day is not None:
            day_ms, base, pnl = day
            rm.apply(DayStarted(day_ms, base))
            rm.daily_pnl = float(pnl)
        return rm
