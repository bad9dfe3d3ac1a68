"""Fee and slippage model (spec 20 §1.5–§1.7, D3), shared by the backtest kernel and the replay/paper adapters.

Market fills (entries, reverse and end-of-data exits) pay slippage against the trader; SL/TP fills at their
trigger price carry no slippage. Every fill pays the taker fee on its own notional; net PnL = gross − entry fee −
exit fee (D3). All functions are scalar and numba-compiled so the kernel and Python callers run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

from numba import njit

from trader_runtime.errors import ConfigError


@dataclass(frozen=True, slots=True)
class FillModel:
    """Percent inputs as configured (0.04 means 0.04 %); the `*_rate` properties are the factors."""

    fee_pct: float = 0.04
    slippage_pct: float = 0.01
    #: take-profit fills (None = the taker fee; a TP resting as a limit order would pay the maker fee)
    tp_fee_pct: float | None = None

    def __post_init__(self) -> None:
        for name in ("fee_pct", "slippage_pct", "tp_fee_pct"):
            value = getattr(self, name)
            if value is not None and not (0.0 <= value <= 5.0):
                raise ConfigError(f"{name}={value!r} is out of range; allowed [0, 5] percent")

    @property
    def fee_rate(self) -> float:
        return self.fee_pct / 100.0

    @property
    def tp_fee_rate(self) -> float:
        return (self.fee_pct if self.tp_fee_pct is None else self.tp_fee_pct) / 100.0

    def fee_rate_for(self, order_type: str) -> float:
        """Fee factor of a fill by order type: TAKE_PROFIT_MARKET at the TP fee, everything else at the taker fee."""
        return self.tp_fee_rate if order_type == "TAKE_PROFIT_MARKET" else self.fee_rate

    @property
    def slippage_rate(self) -> float:
        return self.slippage_pct / 100.0

    def entry_price(self, side: int, price: float) -> float:
        return market_entry_price(side, price, self.slippage_rate)

    def exit_price(self, side: int, price: float) -> float:
        return market_exit_price(side, price, self.slippage_rate)

    def fee(self, price: float, quantity: float) -> float:
        return fill_fee(price, quantity, self.fee_rate)


@njit(cache=True)
def market_entry_price(side: int, price: float, slippage_rate: float) -> float:
    """Opening a LONG buys above the price, opening a SHORT sells below it."""
    return price * (1.0 + slippage_rate) if side == 1 else price * (1.0 - slippage_rate)


@njit(cache=True)
def market_exit_price(side: int, price: float, slippage_rate: float) -> float:
    """Closing a LONG sells below the price, closing a SHORT buys above it."""
    return price * (1.0 - slippage_rate) if side == 1 else price * (1.0 + slippage_rate)


@njit(cache=True)
def fill_fee(price: float, quantity: float, fee_rate: float) -> float:
    return price * quantity * fee_rate


@njit(cache=True)
def gross_pnl(side: int, entry_price: float, exit_price: float, quantity: float) -> float:
    return (exit_price - entry_price) * quantity if side == 1 else (entry_price - exit_price) * quantity


@njit(cache=True)
def unrealised_pnl(side: int, entry_price: float, mark_price: float, quantity: float) -> float:
    """Mark-to-market PnL of an open position, before fees (spec 20 §1.10)."""
    return gross_pnl(side, entry_price, mark_price, quantity)
