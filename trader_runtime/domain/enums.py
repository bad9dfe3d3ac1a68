"""Trade sides and close reasons (D7)."""

from enum import IntEnum, StrEnum


class Side(IntEnum):
    """Integer-coded so numba kernels and numpy arrays can carry it."""

    SHORT = -1
    HOLD = 0
    LONG = 1


class CloseReason(StrEnum):
    """Every consumer must handle all of these (decision D7)."""

    TP = "TP"
    SL = "SL"
    REVERSE = "REVERSE"
    EMERGENCY = "EMERGENCY"
    LIQUIDATION = "LIQUIDATION"
    MANUAL = "MANUAL"
    SYNC = "SYNC"
    END_OF_DATA = "END_OF_DATA"


#: integer codes used inside compiled kernels
CLOSE_REASON_CODES: tuple[CloseReason, ...] = (
    CloseReason.SL,
    CloseReason.TP,
    CloseReason.REVERSE,
    CloseReason.END_OF_DATA,
    CloseReason.EMERGENCY,
    CloseReason.LIQUIDATION,
    CloseReason.MANUAL,
    CloseReason.SYNC,
)
