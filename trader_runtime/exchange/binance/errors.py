"""The one place where Binance/python-binance failures become the platform's error tree (STYLE 2.7).

By Binance error code first, then by HTTP status and transport failure:
- retry (TemporaryExchangeError): rate limits (-1003/-1015, HTTP 418/429), backend timeouts (-1001/-1007, 5xx),
  clock drift (-1021), connection errors and timeouts — retried a bounded number of times by `call`;
- stop and call a human (ConfigError): bad or unauthorised keys (-2014/-2015), bad signature (-1022);
- refuse this order only (OrderRejected): everything else the exchange answers with a code, e.g. insufficient
  margin (-2019), would trigger immediately (-2021), reduce-only rejected (-2022), min notional (-4164), precision
  (-1111), tick (-4014), margin type with open orders (-4047), unknown order (-2011/-2013).
`NO_CHANGE_CODES` (-4046 "No need to change margin type", -4059 "No need to change position side") mean success.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from binance.exceptions import BinanceAPIException, BinanceRequestException
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential

from trader_runtime.errors import CoinTraderError, ConfigError, OrderRejected, TemporaryExchangeError
from trader_runtime.logs import redact

logger = logging.getLogger(__name__)
T = TypeVar("T")

TEMPORARY_CODES = frozenset({-1000, -1001, -1003, -1006, -1007, -1008, -1015, -1021})
AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
NO_CHANGE_CODES = frozenset({-4046, -4059})
UNKNOWN_ORDER_CODES = frozenset({-2011, -2013})
TEMPORARY_STATUS = frozenset({418, 429, 500, 502, 503, 504})


def error_code(exc: BaseException) -> int | None:
    return getattr(exc, "code", None) if isinstance(exc, BinanceAPIException) else None


def map_error(exc: BaseException, what: str) -> CoinTraderError:
    """The platform error for a failed call `what` (e.g. "XRPUSDT market BUY 100")."""
    if isinstance(exc, CoinTraderError):
        return exc
    if isinstance(exc, BinanceAPIException):
        code, status = exc.code, exc.status_code
        if not code:  # no JSON error body: an HTTP-level failure
            text = f"{what}: HTTP {status}" + (" (endpoint not available)" if status == 404 else "")
            return TemporaryExchangeError(text) if status in TEMPORARY_STATUS or status >= 500 else OrderRejected(text)
        text = f"{what}: Binance {code}: {redact(str(exc.message))}"
        if code in AUTH_CODES or status == 401:
            return ConfigError(f"{text} — check the API key, its permissions and IP whitelist")
        if code in TEMPORARY_CODES or status in TEMPORARY_STATUS:
            return TemporaryExchangeError(text)
        return OrderRejected(text)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ClientError, ConnectionError, OSError, BinanceRequestException)):
        return TemporaryExchangeError(f"{what}: {type(exc).__name__}: {redact(str(exc))[:200]}")
    return OrderRejected(f"{what}: unexpected {type(exc).__name__}: {redact(str(exc))[:200]}")


async def call(fn: Callable[[], Awaitable[T]], what: str, *, attempts: int = 3, base_delay_s: float = 0.5,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:  # fmt: skip
    """Run one REST call; retry TemporaryExchangeError with exponential back-off (tenacity), map everything else at once.

    Only idempotent calls should be retried this way: order placement passes attempts=1 (a timeout there is an
    unknown outcome to be looked up, never a reason to send the order again).
    """

    async def once() -> T:
        try:
            return await fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped right here
            raise map_error(exc, what) from None

    def log_retry(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning("%s; retry %d/%d in %.1f s", failure, state.attempt_number, attempts - 1, wait)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=base_delay_s, exp_base=2, min=0),
        retry=retry_if_exception_type(TemporaryExchangeError),
        sleep=sleep,
        before_sleep=log_retry,
        reraise=True,
    )
    return await retrying(once)
