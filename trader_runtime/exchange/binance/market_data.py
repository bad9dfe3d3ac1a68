"""Binance USD-M public market data over REST (python-binance `Client`): klines, open interest, funding, L/S ratios.

Used by the Dagster market-data assets and by the runtime's paper mode. Each call either returns the complete
requested range or raises — never a partial result — so a caller that writes only after a successful call never
stores half a fetch (spec 10 §1.2 fixed: the reference kept the pages collected before a failure).

Retries (through tenacity): HTTP 429/418, 5xx, timeouts, connection errors and unreadable bodies are retried with
exponential back-off (a `Retry-After` header wins when it is longer); after the last attempt a `TemporaryExchangeError`
names the endpoint, symbol, attempts and the last error. Any other refusal (e.g. -1121 invalid symbol) is a
`ConfigError` at once. Request weight: after every answer the `X-MBX-USED-WEIGHT-1M` header is read and, above
`weight_budget`, the fetcher waits for the next minute window. Time (`now`), `sleep` and the clock are injected.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd
import requests
from binance import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from trader_runtime.domain.schema import BAR, BAR_MS
from trader_runtime.errors import ConfigError, DataError, TemporaryExchangeError
from trader_runtime.exchange.binance import market_parsing as parsing

logger = logging.getLogger(__name__)

#: Binance serves open-interest and long/short statistics for the most recent 30 days only
STATS_WINDOW = pd.Timedelta(days=30)
KLINE_PAGE = 1500
STATS_PAGE = 500
FUNDING_PAGE = 1000
RETRYABLE_STATUS = frozenset({418, 429, 500, 502, 503, 504})
WEIGHT_LIMIT_1M = 2400


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` tries per request; waits base·2^k seconds (capped), or Retry-After when the server asks longer.
    The settings of the tenacity `Retrying` that `BinanceMarketData` runs each request through."""

    attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After (an IP ban) fails at once instead of sleeping

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"attempts={self.attempts} must be >= 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ConfigError("retry delays must be >= 0")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        return max(backoff, retry_after or 0.0)


def public_client(rest_base: str | None = None, timeout_s: float = 10.0) -> Client:
    """An unauthenticated client (market data needs no keys); `rest_base` points it elsewhere (a local fake)."""
    client = Client(None, None, ping=False, requests_params={"timeout": timeout_s})
    if rest_base:
        base = rest_base.rstrip("/")
        client.FUTURES_URL = f"{base}/fapi"
        client.FUTURES_DATA_URL = f"{base}/futures/data"
    return client


def _ms(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).tz_convert("UTC").value // 1_000_000)


def _utc(ts: Any, name: str) -> pd.Timestamp:
    out = pd.Timestamp(ts)
    if out.tzinfo is None:
        raise ConfigError(f"{name}={out} is timezone-naive; pass a UTC timestamp")
    return out.tz_convert("UTC")


class BinanceMarketData:
    """Paginated, retried public REST fetches for one client; every method returns domain frames."""

    def __init__(
        self,
        client: Client,
        *,
        retry: RetryPolicy = RetryPolicy(),
        page_pause_s: float = 0.3,
        weight_budget: int = 2000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.retry = retry
        self.page_pause_s = page_pause_s
        self.weight_budget = weight_budget
        self._sleep = sleep
        self._clock = clock
        self.requests_made = 0

    # ------------------------------------------------------------------------------------------------ fetches

    def server_time(self) -> pd.Timestamp:
        """The exchange clock (`GET /fapi/v1/time`): the `now` that decides which candles have closed."""
        payload = self._call("time", self.client.futures_time, {})
        try:
            return pd.Timestamp(int(payload["serverTime"]), unit="ms", tz="UTC")
        except (KeyError, TypeError, ValueError):
            raise DataError(f"Binance GET time: unexpected body {str(payload)[:120]}") from None

    def klines(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        """Closed 15m candles with open time in [start, now): OHLCV frame indexed by UTC open time."""
        start, now = _utc(start, "start"), _utc(now, "now")
        last_open = _ms(now.floor(BAR)) - BAR_MS  # the newest candle that has closed by `now`
        cursor = -(-_ms(start) // BAR_MS) * BAR_MS
        pages: list[pd.DataFrame] = []
        while cursor <= last_open:
            rows = self._call(
                "klines", self.client.futures_klines,
                {"symbol": symbol, "interval": "15m", "startTime": cursor, "endTime": last_open, "limit": KLINE_PAGE},
            )
            pages.append(parsing.parse_klines(rows, now, symbol))
            if not rows:
                break
            newest = int(rows[-1][0])
            if newest >= last_open or len(rows) < KLINE_PAGE:
                break
            cursor = newest + 1
            self._pause()
        return _concat_indexed(pages, parsing.empty_klines())

    def open_interest(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        """15m open-interest history in [max(start, now − 30 days), now]: `timestamp, sum_open_interest`."""
        start, now = self._stats_start(start, now)
        rows = self._paginate_stats("openInterestHist", symbol, self.client.futures_open_interest_hist, start, now)
        return parsing.parse_open_interest(rows, symbol)

    def funding_rates(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        """Settled funding rates with funding time in [start, now]: `funding_time, funding_rate`."""
        start, now = _utc(start, "start"), _utc(now, "now")
        cursor, end = _ms(start), _ms(now)
        rows: list[Any] = []
        while cursor <= end:
            page = self._call(
                "fundingRate", self.client.futures_funding_rate,
                {"symbol": symbol, "startTime": cursor, "endTime": end, "limit": FUNDING_PAGE},
            )
            if not isinstance(page, list) or not page:
                parsing.parse_funding(page, symbol)  # raises on a non-list body
                break
            rows.extend(page)
            newest = int(page[-1].get("fundingTime", end))
            if len(page) < FUNDING_PAGE or newest >= end:
                break
            cursor = newest + 1
            self._pause()
        return parsing.parse_funding(rows, symbol)

    def ls_ratios(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        """Top-account and global long/short account ratios (15m), backfilled up to 30 days (BT-20)."""
        start, now = self._stats_start(start, now)
        top = self._paginate_stats(
            "topLongShortAccountRatio", symbol, self.client.futures_top_longshort_account_ratio, start, now
        )
        glob = self._paginate_stats(
            "globalLongShortAccountRatio", symbol, self.client.futures_global_longshort_ratio, start, now
        )
        return parsing.parse_ls_ratio(top, glob, symbol)

    # ------------------------------------------------------------------------------------------------ plumbing

    def _stats_start(self, start: pd.Timestamp, now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        start, now = _utc(start, "start"), _utc(now, "now")
        oldest = (now - STATS_WINDOW).ceil(BAR) + BAR  # stay inside the window the exchange serves
        return max(start, oldest), now

    def _paginate_stats(
        self, endpoint: str, symbol: str, method: Callable[..., Any], start: pd.Timestamp, now: pd.Timestamp
    ) -> list[Any]:
        cursor, end = _ms(start), _ms(now)
        rows: list[Any] = []
        while cursor <= end:
            page = self._call(
                endpoint, method,
                {"symbol": symbol, "period": "15m", "startTime": cursor, "endTime": end, "limit": STATS_PAGE},
            )
            if not isinstance(page, list):
                return page  # the parser names the bad body
            if not page:
                break
            rows.extend(page)
            newest = int(page[-1].get("timestamp", end))
            if len(page) < STATS_PAGE or newest >= end:
                break
            cursor = newest + 1
            self._pause()
        return rows

    def _pause(self) -> None:
        if self.page_pause_s > 0:
            self._sleep(self.page_pause_s)

    def _call(self, endpoint: str, method: Callable[..., Any], params: dict[str, Any]) -> Any:
        symbol = params.get("symbol", "")
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(endpoint, symbol, state),
            reraise=True,
        )
        try:
            result = retrying(self._request, endpoint, method, params)
        except _Retryable as exc:
            raise TemporaryExchangeError(
                f"Binance GET {endpoint} for {symbol} failed after {self.retry.attempts} attempts: {exc}"
            ) from None
        self._respect_weight()
        return result

    def _request(self, endpoint: str, method: Callable[..., Any], params: dict[str, Any]) -> Any:
        """One request; a failure worth retrying becomes `_Retryable`, any other refusal a `ConfigError`."""
        symbol = params.get("symbol", "")
        self.requests_made += 1
        try:
            return method(**params)
        except BinanceAPIException as exc:
            if exc.status_code not in RETRYABLE_STATUS:
                raise ConfigError(
                    f"Binance refused GET {endpoint} for {symbol}: HTTP {exc.status_code} code {exc.code} "
                    f"{exc.message}"
                ) from None
            retry_after = _retry_after(exc.response)
            error = f"HTTP {exc.status_code} code {exc.code} {exc.message}"
            if retry_after is not None and retry_after > self.retry.max_retry_after_s:
                raise TemporaryExchangeError(
                    f"Binance GET {endpoint} for {symbol}: {error}; Retry-After {retry_after:.0f}s exceeds "
                    f"{self.retry.max_retry_after_s:.0f}s, giving up"
                ) from None
            raise _Retryable(error, retry_after) from None
        except (requests.Timeout, requests.ConnectionError, BinanceRequestException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        retry_after = failure.retry_after if isinstance(failure, _Retryable) else None
        return self.retry.delay(state.attempt_number - 1, retry_after)

    def _log_retry(self, endpoint: str, symbol: str, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "Binance GET %s %s failed (%s); retry %d/%d in %.1fs",
            endpoint, symbol, failure, state.attempt_number, self.retry.attempts - 1, wait,
        )

    def _respect_weight(self) -> None:
        response = getattr(self.client, "response", None)
        headers = getattr(response, "headers", None) or {}
        used = headers.get("X-MBX-USED-WEIGHT-1M") or headers.get("x-mbx-used-weight-1m")
        try:
            weight = int(used) if used is not None else 0
        except ValueError:
            return
        if weight >= self.weight_budget:
            wait = 60.0 - (self._clock() % 60.0) + 1.0
            logger.warning("Binance request weight %d/%d used this minute; waiting %.0fs", weight, WEIGHT_LIMIT_1M, wait)
            self._sleep(wait)


class _Retryable(Exception):
    """A failed request worth another attempt; `retry_after` = the server's Retry-After in seconds, if any."""

    def __init__(self, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.retry_after = retry_after


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _concat_indexed(pages: list[pd.DataFrame], empty: pd.DataFrame) -> pd.DataFrame:
    pages = [p for p in pages if not p.empty]
    if not pages:
        return empty
    out = pd.concat(pages)
    return out[~out.index.duplicated(keep="last")].sort_index()
