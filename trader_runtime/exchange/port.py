"""The one interface every exchange mode implements (D4), in domain types only.

Nothing above an adapter ever sees a vendor payload: adapters convert to these frozen dataclasses (Binance in
`binance/parsing.py`). Sides of orders are "BUY"/"SELL"; position sides are `Side` codes (1 LONG, -1 SHORT).
Times are epoch milliseconds UTC; prices and quantities are floats already rounded to the symbol's rules.

Events flow from the adapter to the service through an `EventSink`: the adapter calls `deliver` for each event and,
where it controls time (replay), `drain` after each step so the simulated market never runs ahead of the bots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import pandas as pd

# the order and fill types live in the domain; adapters and the service keep importing them from here too
from trader_runtime.domain.orders import Fill, OpenOrder, OrderResult, OrderSide, ProtectiveOrder, Purpose  # noqa: F401


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """Order-size filters from exchange info (DEF-19, INC-09). tick_size 0 = continuous prices (simulated venues)."""

    symbol: str
    qty_step: float
    tick_size: float
    min_notional: float
    min_qty: float = 0.0

    def round_price(self, price: float) -> float:
        """Nearest multiple of the tick (any tick, not only powers of ten); unchanged when tick_size is 0."""
        if self.tick_size <= 0:
            return float(price)
        ticks = round(price / self.tick_size)
        decimals = max(0, -int(f"{self.tick_size:e}".split("e")[1])) + 2
        return round(ticks * self.tick_size, decimals)


@dataclass(frozen=True, slots=True)
class ExchangePosition:
    symbol: str
    amount: float  # signed: > 0 LONG, < 0 SHORT
    entry_price: float
    update_time_ms: int

    @property
    def side(self) -> int:
        return 1 if self.amount > 0 else -1


@dataclass(frozen=True, slots=True)
class IncomeRow:
    symbol: str
    income_type: str  # REALIZED_PNL, COMMISSION, FUNDING_FEE …
    amount: float
    time_ms: int


# ------------------------------------------------------------------------------------------------ events
@dataclass(frozen=True, slots=True)
class CandleClosed:
    """A closed primary candle in the combined schema (BTC/ETH aligned by open time, OI/funding attached)."""

    symbol: str
    open_time_ms: int
    values: dict[str, float] = field(hash=False)

    def frame(self) -> pd.DataFrame:
        idx = pd.DatetimeIndex([pd.Timestamp(self.open_time_ms, unit="ms", tz="UTC")], name="timestamp").as_unit("ms")
        return pd.DataFrame({k: [float(v)] for k, v in self.values.items()}, index=idx)


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill
    order_status: str


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A non-trade order change (NEW, CANCELED, EXPIRED …), e.g. a sibling leg expiring."""

    symbol: str
    order_id: str
    client_id: str | None
    status: str
    order_type: str


@dataclass(frozen=True, slots=True)
class ProtectiveTriggered:
    """A conditional leg fired: links the leg's id to the market order the exchange created (INC-22)."""

    symbol: str
    algo_id: str
    actual_order_id: str
    client_id: str | None


@dataclass(frozen=True, slots=True)
class StreamReconnected:
    """A stream came back: reconcile at once instead of waiting for the next tick (INC-19)."""

    stream: Literal["user", "market"]
    time_ms: int
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class MarketDataExhausted:
    """Replay only: no more candles."""

    time_ms: int


ExchangeEvent = CandleClosed | FillEvent | OrderUpdate | ProtectiveTriggered | StreamReconnected | MarketDataExhausted


class EventSink(Protocol):
    async def deliver(self, event: ExchangeEvent) -> None: ...

    async def drain(self) -> None: ...


@runtime_checkable
class Exchange(Protocol):
    """What the service needs from a venue. Errors follow trader_runtime.errors (mapped in one place per adapter)."""

    mode: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def run(self, sink: EventSink) -> None:
        """Deliver market and user events until cancelled (or, in replay, until the data is exhausted)."""
        ...

    def now_ms(self) -> int: ...

    async def history(self, symbol: str, n: int) -> pd.DataFrame:
        """The newest `n` closed candles (combined schema), for seeding the feature engine (D11)."""
        ...

    async def symbol_rules(self, symbol: str) -> SymbolRules: ...

    async def one_way_mode(self) -> bool: ...

    async def balance(self) -> float: ...

    async def prepare_symbol(self, symbol: str, leverage: int) -> None:
        """Isolated margin (already isolated is success) and leverage, before every entry (INC-20)."""
        ...

    async def market_order(
        self, symbol: str, side: OrderSide, quantity: float, *, reduce_only: bool, client_id: str
    ) -> OrderResult: ...

    async def place_protective(
        self, symbol: str, purpose: Purpose, side: OrderSide, quantity: float, trigger_price: float, client_id: str
    ) -> ProtectiveOrder: ...

    async def cancel_order(self, symbol: str, order_id: str, *, is_algo: bool) -> bool:
        """True when cancelled; False when it no longer exists (already filled, expired or cancelled)."""
        ...

    async def open_orders(self, symbol: str) -> list[OpenOrder]: ...

    async def position(self, symbol: str) -> ExchangePosition | None: ...

    async def fills_since(self, symbol: str, start_ms: int) -> list[Fill]: ...

    async def lookup_order(self, symbol: str, client_id: str) -> OrderResult | None:
        """An order we may have sent before a crash, with its fills; None when the exchange never saw it."""
        ...

    async def income_since(self, symbol: str, start_ms: int) -> list[IncomeRow]: ...
