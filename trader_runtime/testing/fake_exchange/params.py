"""Request-parameter parsing with Binance's error codes for missing or malformed values."""

from __future__ import annotations

from typing import Mapping, Sequence

from trader_runtime.testing.fake_exchange.api_errors import ApiError


def required(p: Mapping[str, str], name: str) -> str:
    value = p.get(name)
    if value is None or value == "":
        raise ApiError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def optional_int(p: Mapping[str, str], name: str, *, default: int | None = None, lo: int | None = None, hi: int | None = None) -> int | None:
    raw = p.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ApiError(400, -1130, f"Invalid data sent for a parameter: {name}={value} outside [{lo}, {hi}].")
    return value


def limit(p: Mapping[str, str], *, default: int, maximum: int) -> int:
    value = optional_int(p, "limit", default=default, lo=1, hi=maximum)
    assert value is not None
    return value


def flag(p: Mapping[str, str], name: str) -> bool:
    raw = p.get(name)
    if raw is None or raw == "":
        return False
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise ApiError(400, -1130, f"Invalid data sent for a parameter: {name}={raw!r} must be true or false.")
    return text == "true"


def one_of(p: Mapping[str, str], name: str, allowed: Sequence[str], *, code: int = -1130) -> str:
    value = required(p, name).upper()
    if value not in allowed:
        raise ApiError(400, code, f"Invalid {name}: {value!r}; allowed {list(allowed)}.")
    return value
