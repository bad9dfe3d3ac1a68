"""Scriptable fault injection: ordered, counted rules that the fake consults at five hooks.

A rule pairs a match (hook, HTTP method and path, a subset of parameters) with one action. Rules are tried in the
order they were added; the first one that matches and still has budget fires, and only that one. Every rule counts
how often it matched and how often it fired, so a soak test can report injected faults next to what survived them.

Hooks and what `params` is matched against:
    "http"          a REST request: its query and body parameters           (HttpError, Delay)
    "fill"          an order about to fill: symbol, side, reduceOnly, type   (PartialFill)
                    (type: MARKET, LIQUIDATION, or STOP_MARKET/TAKE_PROFIT_MARKET for a triggered order)
    "user_event"    a user-stream event: `e` plus the fields of `o`         (Duplicate/Reorder/Drop/EditEvent, stream actions)
    "market_event"  a market-stream event: `stream`, `s` and `x` (closed)    (stream actions)
    "advance"       each candle closed by advance(): `index`, `open_time`    (stream actions)

Example::

    fx.faults.add(FaultRule(method="POST", path="/fapi/v1/order", times=1, error=HttpError(429, retry_after=1)))
    fx.faults.add(FaultRule(path="/fapi/v1/algoOrder", params={"type": "TAKE_PROFIT_MARKET"}, times=3,
                            error=order_rejected(-2021)))
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Mapping

from trader_runtime.testing.fake_exchange.api_errors import BINANCE_ERRORS

Hook = Literal["http", "fill", "user_event", "market_event", "advance"]
StreamKind = Literal["market", "user", "all"]


class FaultAction:
    """Base of every action; `hook` is where the action can act unless a rule names another one."""

    hook: ClassVar[Hook]


# ------------------------------------------------------------------------------------------------ http
@dataclass(frozen=True, slots=True)
class HttpError(FaultAction):
    """Answer with this HTTP status and Binance error body instead of executing the request."""

    hook: ClassVar[Hook] = "http"
    status: int
    code: int | None = None
    msg: str | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        """429/418 without a code get Binance's -1003 body; a code without a message gets the catalogued one."""
        if self.code is None and self.status in (418, 429):
            object.__setattr__(self, "code", -1003)
        if self.msg is None:
            default = BINANCE_ERRORS.get(self.code, (self.status, ""))[1] if self.code is not None else ""
            object.__setattr__(self, "msg", default or f"HTTP {self.status}")


@dataclass(frozen=True, slots=True)
class Delay(FaultAction):
    """Hold the answer `seconds` (beyond the client's timeout = a timeout).

    execute=True: the exchange executes the request at once and only the answer is late (an order placed whose
    confirmation never arrived: its state must be reconciled, STYLE 2.7). execute=False: nothing is executed and the
    late answer is `503 / -1007` ("execution status unknown").
    """

    hook: ClassVar[Hook] = "http"
    seconds: float
    execute: bool = True


# ------------------------------------------------------------------------------------------------ fills
@dataclass(frozen=True, slots=True)
class PartialFill(FaultAction):
    """Fill the order in several trades with these fractions of its quantity (PARTIALLY_FILLED … FILLED)."""

    hook: ClassVar[Hook] = "fill"
    fractions: tuple[float, ...] = (0.5, 0.5)

    def __post_init__(self) -> None:
        if len(self.fractions) < 2 or any(f <= 0 for f in self.fractions) or abs(sum(self.fractions) - 1.0) > 1e-9:
            raise ValueError(f"PartialFill fractions must be >= 2 positive parts summing to 1, got {self.fractions}")


# ------------------------------------------------------------------------------------------------ user events
@dataclass(frozen=True, slots=True)
class Duplicate(FaultAction):
    """Deliver the event `copies` extra times."""

    hook: ClassVar[Hook] = "user_event"
    copies: int = 1


@dataclass(frozen=True, slots=True)
class Reorder(FaultAction):
    """Hold the event back until `after` later user events were delivered (flushed at the end of the batch)."""

    hook: ClassVar[Hook] = "user_event"
    after: int = 1


@dataclass(frozen=True, slots=True)
class DropEvent(FaultAction):
    """Never deliver the event (a fill missed by the stream: only reconciliation can find it)."""

    hook: ClassVar[Hook] = "user_event"


@dataclass(frozen=True, slots=True)
class EditEvent(FaultAction):
    """Set or remove fields of the event's order object `o` (e.g. remove `ap`, INC-08)."""

    hook: ClassVar[Hook] = "user_event"
    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------ streams
@dataclass(frozen=True, slots=True)
class DropConnection(FaultAction):
    """Cut the websocket connections of `stream` (abort = no close frame, like a network drop)."""

    hook: ClassVar[Hook] = "advance"
    stream: StreamKind = "all"
    abort: bool = True


@dataclass(frozen=True, slots=True)
class Silence(FaultAction):
    """Keep the current connections of `stream` open (pings answered) but send them nothing until `fx.unsilence()`.

    Only connections open now are silenced: a client that reconnects gets a healthy stream (INC-19's cure)."""

    hook: ClassVar[Hook] = "advance"
    stream: StreamKind = "all"


@dataclass(frozen=True, slots=True)
class ExpireListenKey(FaultAction):
    """Expire the live listen key(s): `listenKeyExpired` is pushed, then no more user events on that key."""

    hook: ClassVar[Hook] = "advance"
    close_connection: bool = False


STREAM_ACTIONS = (DropConnection, Silence, ExpireListenKey)


# ------------------------------------------------------------------------------------------------ factories
def binance_error(code: int, msg: str | None = None, *, retry_after: int | None = None) -> HttpError:
    """The catalogued error `code` with its real HTTP status and message."""
    status, default = BINANCE_ERRORS[code]
    return HttpError(status, code, msg or default, retry_after)


def rate_limited(retry_after: int = 1) -> HttpError:
    return binance_error(-1003, retry_after=retry_after)


def ip_banned(retry_after: int = 120) -> HttpError:
    return HttpError(418, -1003, f"Way too many requests; IP banned until {retry_after} s from now.", retry_after)


def server_error(status: int = 503) -> HttpError:
    if status == 503:
        return HttpError(503, None, "Service Unavailable.")
    return HttpError(status, None, "Internal error; unable to process your request. Please try again.")


def order_rejected(code: int = -2021) -> HttpError:
    """A business rejection of an order (-2021 would trigger, -2019 margin, -1111 precision, -2022 reduce-only)."""
    return binance_error(code)


# ------------------------------------------------------------------------------------------------ rules
@dataclass(eq=False)
class FaultRule:
    """Match + action + budget. `error=` is an alias of `action=` that reads well for HTTP errors.

    times: how many times the rule fires (None = unlimited); skip: let the first `skip` matches pass untouched.
    path accepts shell wildcards (`/fapi/v1/*`). `on` overrides the action's default hook (stream actions can fire
    on "user_event" or "market_event" instead of "advance").
    """

    action: FaultAction | None = None
    method: str | None = None
    path: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    symbol: str | None = None
    on: Hook | None = None
    times: int | None = 1
    skip: int = 0
    name: str = ""
    error: FaultAction | None = None
    matched: int = field(default=0, init=False)
    injected: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if (self.action is None) == (self.error is None):
            raise ValueError("FaultRule needs exactly one of action= or error=")
        if self.action is None:
            self.action = self.error
        self.error = None
        assert self.action is not None
        if self.on is None:
            self.on = self.action.hook
        if self.on != self.action.hook and not isinstance(self.action, STREAM_ACTIONS):
            raise ValueError(f"{type(self.action).__name__} acts at hook {self.action.hook!r}, not {self.on!r}")
        if not self.name:
            where = " ".join(p for p in (self.method, self.path) if p) or self.on
            self.name = f"{type(self.action).__name__}@{where}"

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.injected)

    def _matches(self, hook: Hook, method: str | None, path: str | None, subject: Mapping[str, Any]) -> bool:
        if hook != self.on:
            return False
        if self.method is not None and (method or "").upper() != self.method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(path or "", self.path):
            return False
        if self.symbol is not None and str(subject.get("symbol", subject.get("s", ""))).upper() != self.symbol.upper():
            return False
        return all(_as_text(subject.get(k)) == _as_text(v) for k, v in self.params.items())


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class FaultCount:
    """One line of the injection report."""

    name: str
    hook: str
    matched: int
    injected: int
    remaining: int | None


class FaultBook:
    """The ordered rule list of one fake exchange (thread-safe: tests add rules while the server consults them)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def match(self, hook: Hook, subject: Mapping[str, Any], *, method: str | None = None, path: str | None = None) -> FaultAction | None:
        """The action of the first live rule matching this hook and subject (counts it), or None."""
        with self._lock:
            for rule in self._rules:
                if rule.remaining == 0 or not rule._matches(hook, method, path, subject):
                    continue
                rule.matched += 1
                if rule.matched <= rule.skip:
                    continue
                rule.injected += 1
                return rule.action
        return None

    def report(self) -> list[FaultCount]:
        with self._lock:
            return [FaultCount(r.name, str(r.on), r.matched, r.injected, r.remaining) for r in self._rules]

    def injected_total(self) -> int:
        with self._lock:
            return sum(r.injected for r in self._rules)
