"""Binance error responses: the exception the fake raises inside handlers and the catalogue of real codes.

Codes and messages are the exchange's, so code under test can map them (`exchange/binance/errors.py`) exactly as it
will in production. The REST layer turns `ApiError` into `{"code": ..., "msg": ...}` with the HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass

#: code -> (HTTP status, message) for the errors the fake produces by itself or offers as injectable faults
BINANCE_ERRORS: dict[int, tuple[int, str]] = {
    -1003: (429, "Too many requests; current limit of IP is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API."),
    -1007: (503, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."),
    -1021: (400, "Timestamp for this request is outside of the recvWindow."),
    -1022: (400, "Signature for this request is not valid."),
    -1102: (400, "Mandatory parameter was not sent, was empty/null, or malformed."),
    -1111: (400, "Precision is over the maximum defined for this asset."),
    -1116: (400, "Invalid orderType."),
    -1120: (400, "Invalid interval."),
    -1121: (400, "Invalid symbol."),
    -1125: (400, "This listenKey does not exist."),
    -2011: (400, "Unknown order sent."),
    -2013: (400, "Order does not exist."),
    -2014: (401, "API-key format invalid."),
    -2015: (401, "Invalid API-key, IP, or permissions for action."),
    -2019: (400, "Margin is insufficient."),
    -2021: (400, "Order would immediately trigger."),
    -2022: (400, "ReduceOnly Order is rejected."),
    -4046: (400, "No need to change margin type."),
    -4047: (400, "Margin type cannot be changed if there exists open orders."),
    -4048: (400, "Margin type cannot be changed if there exists position."),
    -4120: (400, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."),
    -4164: (400, "Order's notional must be no smaller than 5 (unless you choose reduce only)."),
}


@dataclass(slots=True)
class ApiError(Exception):
    """An error answer: HTTP status plus Binance's `{"code", "msg"}` body (code None = no JSON body)."""

    status: int
    code: int | None
    msg: str
    retry_after: int | None = None

    def __str__(self) -> str:
        return f"HTTP {self.status} code={self.code}: {self.msg}"

    @classmethod
    def of(cls, code: int, msg: str | None = None) -> "ApiError":
        """The catalogued error for `code` (optionally with a more specific message)."""
        status, default = BINANCE_ERRORS[code]
        return cls(status, code, msg or default)

    def body(self) -> dict[str, object] | None:
        return None if self.code is None else {"code": self.code, "msg": self.msg}
