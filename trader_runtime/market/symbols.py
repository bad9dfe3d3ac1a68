"""Symbol names: one normaliser shared by the synthetic market, the warehouse and the CLI."""

from __future__ import annotations

import re
from typing import Iterable

from trader_runtime.errors import DataError

_SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,30}$")


def normalize_symbol(symbol: str) -> str:
    """Upper-case a Binance symbol such as `xrpusdt` and refuse anything that is not a plain ticker."""
    if not isinstance(symbol, str):
        raise DataError(f"symbol={symbol!r} must be a string such as 'XRPUSDT'")
    norm = symbol.strip().upper()
    if not _SYMBOL_RE.match(norm):
        raise DataError(f"symbol={symbol!r} is not a valid ticker; expected 2-30 letters/digits such as 'XRPUSDT'")
    return norm


#: LOT_SIZE step and MIN_NOTIONAL of common USD-M symbols (Binance exchange info, 2026): what the replay venue
#: enforces and what backtests size with (BT-10: the exchange's lot size per symbol, as live)
LOT_RULES: dict[str, tuple[float, float]] = {
    "XRPUSDT": (0.1, 5.0), "DOGEUSDT": (1.0, 5.0), "TRXUSDT": (1.0, 5.0), "SOLUSDT": (0.01, 5.0),
    "BTCUSDT": (0.001, 100.0), "ETHUSDT": (0.001, 20.0), "ADAUSDT": (1.0, 5.0), "BNBUSDT": (0.01, 5.0),
}  # fmt: skip


def exchange_lot_steps(symbols: Iterable[str]) -> tuple[tuple[str, float], ...]:
    """`BacktestConfig.quantity_steps` for `symbols`: each known symbol sized in its exchange lot step, as the trader
    is (BT-10); a symbol without rules here keeps the config's `quantity_step`. Every backtest entry point that
    sizes like live (CLI backtest, weekly report) takes its steps from here."""
    return tuple((sym, LOT_RULES[sym][0]) for sym in symbols if sym in LOT_RULES)
