"""Account state of the fake exchange: wallet, positions, orders, algo orders, income rows, listen keys.

Plain mutable records with exact `Decimal` amounts; the matching engine (`engine.py`) is the only writer. Ids come from
counters so a replay with the same inputs yields the same ids (determinism for tests and the soak report).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterator, Literal

ZERO = Decimal(0)
AlgoStatus = Literal["NEW", "TRIGGERING", "TRIGGERED", "FINISHED", "CANCELED", "EXPIRED", "REJECTED"]


@dataclass(slots=True)
class Position:
    """One-way mode position (`positionSide=BOTH`): signed amount, average entry price."""

    symbol: str
    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    update_time: int = 0

    @property
    def is_open(self) -> bool:
        return self.amount != 0


@dataclass(slots=True)
class Order:
    """A matching-engine order: a MARKET order sent by the client or the order a triggered algo order created."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str
    type: str
    orig_type: str
    quantity: Decimal
    reduce_only: bool
    time: int
    close_position: bool = False
    stop_price: Decimal = ZERO
    working_type: str = "CONTRACT_PRICE"
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0
    realized_pnl: Decimal = ZERO
    commission: Decimal = ZERO

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO


@dataclass(slots=True)
class AlgoOrder:
    """A conditional order held by the algo service until its trigger price is crossed (spec 30 §5.6)."""

    algo_id: int
    client_algo_id: str
    symbol: str
    side: str
    order_type: str
    quantity: Decimal
    trigger_price: Decimal
    reduce_only: bool
    close_position: bool
    working_type: str
    price_protect: bool
    time_in_force: str
    create_time: int
    status: AlgoStatus = "NEW"
    update_time: int = 0
    trigger_time: int = 0
    actual_order_id: int | None = None
    reject_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"


@dataclass(frozen=True, slots=True)
class IncomeRow:
    """One row of `GET /fapi/v1/income`."""

    symbol: str
    income_type: str
    income: Decimal
    time: int
    tran_id: int
    trade_id: str = ""
    info: str = ""


@dataclass(slots=True)
class SymbolSettings:
    leverage: int
    margin_type: str  # "ISOLATED" or "CROSSED"


@dataclass(slots=True)
class ListenKey:
    key: str
    expires_at: float  # monotonic seconds
    expired: bool = False


class ListenKeys:
    """Binance semantics: POST returns the account's active key (extending it) or a new one; PUT extends; DELETE ends."""

    def __init__(self, ttl_s: float, monotonic: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._keys: dict[str, ListenKey] = {}
        self._serial = itertools.count(1)

    def create_or_extend(self) -> str:
        now = self._monotonic()
        for lk in self._keys.values():
            if self._alive(lk, now):
                lk.expires_at = now + self._ttl_s
                return lk.key
        key = hashlib.sha256(f"fake-listen-key-{next(self._serial)}".encode()).hexdigest()
        self._keys[key] = ListenKey(key, now + self._ttl_s)
        return key

    def keepalive(self, key: str) -> bool:
        lk = self._keys.get(key)
        now = self._monotonic()
        if lk is None or not self._alive(lk, now):
            return False
        lk.expires_at = now + self._ttl_s
        return True

    def is_valid(self, key: str) -> bool:
        lk = self._keys.get(key)
        return lk is not None and self._alive(lk, self._monotonic())

    def expire(self, key: str | None = None) -> list[str]:
        """Expire one key (or every live key) now; returns the keys that were live."""
        now = self._monotonic()
        hit = [lk for lk in self._keys.values() if (key is None or lk.key == key) and self._alive(lk, now)]
        for lk in hit:
            lk.expired = True
        return [lk.key for lk in hit]

    def delete(self, key: str) -> bool:
        return self._keys.pop(key, None) is not None

    def live_keys(self) -> list[str]:
        now = self._monotonic()
        return [lk.key for lk in self._keys.values() if self._alive(lk, now)]

    @staticmethod
    def _alive(lk: ListenKey, now: float) -> bool:
        return not lk.expired and now < lk.expires_at


@dataclass
class AccountState:
    """Everything one API key owns on the fake exchange."""

    wallet: Decimal
    default_leverage: int
    default_margin_type: str
    positions: dict[str, Position] = field(default_factory=dict)
    settings: dict[str, SymbolSettings] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    algo_orders: dict[int, AlgoOrder] = field(default_factory=dict)
    income: list[IncomeRow] = field(default_factory=list)
    _order_ids: Iterator[int] = field(default_factory=lambda: itertools.count(8_000_000_001))
    _algo_ids: Iterator[int] = field(default_factory=lambda: itertools.count(4_000_000_001))
    _trade_ids: Iterator[int] = field(default_factory=lambda: itertools.count(600_000_001))
    _tran_ids: Iterator[int] = field(default_factory=lambda: itertools.count(900_000_001))
    _client_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position(symbol))

    def symbol_settings(self, symbol: str) -> SymbolSettings:
        return self.settings.setdefault(symbol, SymbolSettings(self.default_leverage, self.default_margin_type))

    def next_order_id(self) -> int:
        return next(self._order_ids)

    def next_algo_id(self) -> int:
        return next(self._algo_ids)

    def next_trade_id(self) -> int:
        return next(self._trade_ids)

    def next_tran_id(self) -> int:
        return next(self._tran_ids)

    def next_client_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._client_ids):012d}"

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.status in ("NEW", "PARTIALLY_FILLED") and symbol in (None, o.symbol)]

    def open_algo_orders(self, symbol: str | None = None) -> list[AlgoOrder]:
        return [a for a in self.algo_orders.values() if a.is_open and symbol in (None, a.symbol)]

    def used_margin(self) -> Decimal:
        total = ZERO
        for pos in self.positions.values():
            if pos.is_open:
                total += abs(pos.amount) * pos.entry_price / self.symbol_settings(pos.symbol).leverage
        return total

    def available(self) -> Decimal:
        return self.wallet - self.used_margin()
