"""Per-candle rows waiting in memory to be written together (`Journal.coalesced`, replay at full speed)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from trader_runtime.storage.journal.rows import DecisionRow

if TYPE_CHECKING:
    from trader_runtime.storage.journal.writes import Transaction


class PendingRows:
    """Every waiting decision, the newest status value of each key and the newest state of each venue-state name;
    `write` puts them into a transaction in that order."""

    def __init__(self) -> None:
        self.decisions: list[DecisionRow] = []
        self.status: dict[tuple[str, str], tuple[Any, int]] = {}
        self.venue: dict[str, tuple[dict[str, Any], int]] = {}
        self.since: float | None = None  # monotonic time of the oldest waiting row

    def __bool__(self) -> bool:
        return self.since is not None

    def _touch(self) -> None:
        if self.since is None:
            self.since = time.monotonic()

    def add_decision(self, row: DecisionRow) -> None:
        self.decisions.append(row)
        self._touch()

    def set_status(self, symbol: str, values: dict[str, Any], updated_ms: int) -> None:
        for k, v in values.items():
            self.status[(symbol, k)] = (v, updated_ms)
        self._touch()

    def save_venue_state(self, name: str, state: dict[str, Any], updated_ms: int) -> None:
        self.venue[name] = (state, updated_ms)
        self._touch()

    def write(self, tx: Transaction) -> None:
        if self.decisions:
            tx.add_decisions(self.decisions)
        if self.status:
            tx.set_status_rows([(s, k, v, ms) for (s, k), (v, ms) in self.status.items()])
        for name, (state, ms) in self.venue.items():
            tx.save_venue_state(name, state, ms)

    def clear(self) -> None:
        self.decisions, self.status, self.venue, self.since = [], {}, {}, None
