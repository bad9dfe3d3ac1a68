"""Domain vocabulary shared by every layer."""

from trader_runtime.domain.enums import CloseReason, Side
from trader_runtime.domain.schema import (
    BTC_COLUMNS,
    COMBINED_COLUMNS,
    ETH_COLUMNS,
    OHLCV_COLUMNS,
    BAR_MS,
    BAR,
    validate_combined_frame,
)

__all__ = [
    "BAR",
    "BAR_MS",
    "BTC_COLUMNS",
    "COMBINED_COLUMNS",
    "CloseReason",
    "ETH_COLUMNS",
    "OHLCV_COLUMNS",
    "Side",
    "validate_combined_frame",
]
