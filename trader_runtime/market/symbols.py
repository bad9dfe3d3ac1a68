"""Symbol names: one normaliser shared by the synthetic market, the warehouse and the CLI."""

from __future__ import annotations

import re

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
