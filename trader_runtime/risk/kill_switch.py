"""Per-symbol kill switch (spec 30 §8, INC-14, DEF-12) as a small state machine.

The rules themselves are `strategy.decision.kill_switch_state` (shared with the backtest kernel). This class holds
the net PnLs of the trades closed since the last manual reset and whether the switch is active. `apply(event)`
returns the record to persist (or None); the caller writes it in the same transaction as the trade that caused
it, then the state is rebuilt from those records on restart (`restore`). One alert per activation: an active
switch ignores further trades until it is reset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from trader_runtime.config import RiskLimits
from trader_runtime.strategy.decision import KILL_FAST, KILL_NONE, KILL_SLOW, kill_switch_state


@dataclass(frozen=True, slots=True)
class TradeClosed:
    net_pnl: float
    time_ms: int


@dataclass(frozen=True, slots=True)
class ManualReset:
    time_ms: int
    by: str = "operator"


@dataclass(frozen=True, slots=True)
class KillTransition:
    """What changed: persist as a kill_switch row (`action` KILL or RESET) and alert on KILL."""

    symbol: str
    action: str
    reason: str
    time_ms: int


@dataclass(frozen=True, slots=True)
class KillSnapshot:
    symbol: str
    killed: bool
    reason: str | None
    since_ms: int | None
    trades_since_reset: int


def describe(code: int, pnls: list[float], limits: RiskLimits) -> str:
    if code == KILL_FAST:
        return f"Fast Kill ({limits.kill_fast_streak} consecutive net losses)"
    window = pnls[-limits.kill_slow_window :]
    gain = sum(p for p in window if p > 0)
    loss = -sum(p for p in window if p < 0)
    return f"Slow Kill (last {limits.kill_slow_window} trades PF={gain / loss:.2f})"


class KillSwitch:
    """State: the PnLs since the last reset (newest last, trimmed) and the active activation, if any."""

    def __init__(self, symbol: str, limits: RiskLimits) -> None:
        self.symbol = symbol
        self.limits = limits
        self._pnls: list[float] = []
        self._killed: KillTransition | None = None
        self._count = 0

    @property
    def _keep(self) -> int:
        return max(self.limits.kill_fast_streak, self.limits.kill_slow_window)

    @property
    def killed(self) -> bool:
        return self._killed is not None

    def evaluate(self) -> int:
        arr = np.asarray(self._pnls, dtype=np.float64)
        return int(
            kill_switch_state(arr, len(arr), self.limits.kill_fast_streak, self.limits.kill_slow_window, self.limits.kill_slow_min_pf)
        )

    def apply(self, event: TradeClosed | ManualReset) -> KillTransition | None:
        if isinstance(event, ManualReset):
            self._pnls.clear()
            self._count = 0
            was = self._killed
            self._killed = None
            reason = f"manual reset by {event.by}" + ("" if was else " (switch was not active)")
            return KillTransition(self.symbol, "RESET", reason, event.time_ms)
        self._pnls.append(float(event.net_pnl))
        self._count += 1
        if len(self._pnls) > 2 * self._keep:
            del self._pnls[: len(self._pnls) - self._keep]
        if self._killed is not None:
            return None
        code = self.evaluate()
        if code == KILL_NONE:
            return None
        self._killed = KillTransition(self.symbol, "KILL", describe(code, self._pnls, self.limits), event.time_ms)
        return self._killed

    def preview(self, event: TradeClosed | ManualReset) -> KillTransition | None:
        """The transition `apply` would return, without changing state (to persist it first)."""
        twin = KillSwitch(self.symbol, self.limits)
        twin._pnls, twin._killed, twin._count = list(self._pnls), self._killed, self._count
        return twin.apply(event)

    def snapshot(self) -> KillSnapshot:
        k = self._killed
        return KillSnapshot(self.symbol, k is not None, k.reason if k else None, k.time_ms if k else None, self._count)

    @classmethod
    def restore(
        cls,
        symbol: str,
        limits: RiskLimits,
        kill_rows: Iterable[tuple[str, int, str]],
        closed_pnls: Iterable[tuple[int, float]],
    ) -> "KillSwitch":
        """Rebuild from persisted rows: (action, marker_ms, reason) in write order and (exit_time_ms, net_pnl) trades.

        Only trades closed after the last RESET's marker count (DEF-12); a KILL written after that reset stays
        active. The boot evaluation is separate and silent (`boot_transition`, spec 30 §8.2).
        """
        ks = cls(symbol, limits)
        rows = list(kill_rows)
        reset_at = max((i for i, (a, _, _) in enumerate(rows) if a == "RESET"), default=-1)
        marker = rows[reset_at][1] if reset_at >= 0 else None
        for action, m, reason in rows[reset_at + 1 :]:
            if action == "KILL":
                ks._killed = KillTransition(symbol, "KILL", reason, m)
        for t, pnl in closed_pnls:
            if marker is None or t > marker:
                ks._pnls.append(float(pnl))
                ks._count += 1
        if len(ks._pnls) > ks._keep:
            ks._pnls = ks._pnls[-ks._keep :]
        return ks

    def boot_transition(self, now_ms: int) -> KillTransition | None:
        """Silent boot evaluation (spec 30 §8.2): activate if the history already satisfies a rule."""
        if self._killed is not None:
            return None
        code = self.evaluate()
        if code == KILL_NONE:
            return None
        self._killed = KillTransition(self.symbol, "KILL", describe(code, self._pnls, self.limits) + " [at start-up]", now_ms)
        return self._killed


__all__ = ["KILL_FAST", "KILL_SLOW", "KillSnapshot", "KillSwitch", "KillTransition", "ManualReset", "TradeClosed"]
