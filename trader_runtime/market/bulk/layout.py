"""Where Binance's public USD-M archive keeps each file (monthly/daily klines, monthly funding, daily metrics).

Why: the importer, the mirror generator of the tests and benches, and the Dagster asset must agree on one layout:
`<period>/<type>/<SYMBOL>/[15m/]<SYMBOL>-<type or 15m>-<YYYY-MM[-DD]>.zip`, each with a `.CHECKSUM` sibling.
Days and months are UTC. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import pandas as pd

from trader_runtime.errors import ConfigError

INTERVAL = "15m"


class Kind(StrEnum):
    """One data type of the archive; the value is its folder name."""

    KLINES = "klines"
    FUNDING = "fundingRate"
    METRICS = "metrics"


@dataclass(frozen=True, order=True)
class Month:
    """A UTC calendar month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2100:
            raise ConfigError(f"{self.year}-{self.month:02d} is not a month between 2000-01 and 2100-12")

    @classmethod
    def parse(cls, text: str) -> "Month":
        try:
            year, month = (int(part) for part in str(text).strip().split("-"))
        except ValueError:
            raise ConfigError(f"{text!r} is not a month written YYYY-MM, e.g. 2022-01") from None
        return cls(year, month)

    @classmethod
    def of(cls, ts: pd.Timestamp | date) -> "Month":
        return cls(ts.year, ts.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.first_day, tz="UTC")

    @property
    def end(self) -> pd.Timestamp:
        return self.next().start

    def days(self) -> list[date]:
        first, stop = self.first_day, self.next().first_day
        return [first + timedelta(days=i) for i in range((stop - first).days)]


def months_between(first: Month, last: Month) -> list[Month]:
    """Inclusive list of months; empty when `last` is before `first`."""
    out: list[Month] = []
    month = first
    while month <= last:
        out.append(month)
        month = month.next()
    return out


@dataclass(frozen=True)
class FileRef:
    """One archive file: its kind, symbol and the month (monthly file) or day (daily file) it covers."""

    kind: Kind
    symbol: str
    month: Month
    day: date | None = None  # None: monthly file

    @property
    def period(self) -> str:
        return "monthly" if self.day is None else "daily"

    @property
    def stamp(self) -> str:
        return str(self.month) if self.day is None else self.day.isoformat()

    @property
    def name(self) -> str:
        label = INTERVAL if self.kind is Kind.KLINES else self.kind.value
        return f"{self.symbol}-{label}-{self.stamp}.zip"

    @property
    def csv_name(self) -> str:
        return self.name[: -len(".zip")] + ".csv"

    @property
    def path(self) -> str:
        """Path below the archive root (`.../data/futures/um/`)."""
        sub = f"{self.symbol}/{INTERVAL}" if self.kind is Kind.KLINES else self.symbol
        return f"{self.period}/{self.kind.value}/{sub}/{self.name}"

    @property
    def checksum_path(self) -> str:
        return self.path + ".CHECKSUM"

    @property
    def start(self) -> pd.Timestamp:
        return self.month.start if self.day is None else pd.Timestamp(self.day, tz="UTC")

    @property
    def end(self) -> pd.Timestamp:
        return self.month.end if self.day is None else self.start + pd.Timedelta(days=1)


def monthly(kind: Kind, symbol: str, month: Month) -> FileRef:
    if kind is Kind.METRICS:
        raise ConfigError("metrics are published as daily files only")
    return FileRef(kind, symbol, month)


def daily(kind: Kind, symbol: str, day: date) -> FileRef:
    if kind is Kind.FUNDING:
        raise ConfigError("funding rates are published as monthly files only")
    return FileRef(kind, symbol, Month.of(day), day)
