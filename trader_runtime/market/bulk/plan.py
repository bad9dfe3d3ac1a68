"""Which archive files fill which days (spec "bulk history" §6), as an ordered list per month.

- klines: the monthly file, except for the current month (not published yet) — daily files for every closed day
  of the month when the monthly file is absent or refused;
- funding: the monthly file (none for the current month: REST fills it);
- metrics: the daily file of every closed day;
- the first month also reads its neighbours: the previous month's funding file and the previous day's metrics,
  because its first candle needs the last settlement and the last observation before it.
A day D is closed when D + 1 day <= now.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from trader_runtime.market.bulk.layout import FileRef, Kind, Month, daily, monthly


def closed_days(month: Month, now: pd.Timestamp) -> list[date]:
    return [d for d in month.days() if pd.Timestamp(d + timedelta(days=1), tz="UTC") <= now]


def is_current(month: Month, now: pd.Timestamp) -> bool:
    return month == Month.of(now.tz_convert("UTC"))


def kline_monthly(symbol: str, month: Month, now: pd.Timestamp) -> FileRef | None:
    """The monthly klines file to try first; None for the current month or a month not over yet."""
    return None if month.end > now else monthly(Kind.KLINES, symbol, month)


def kline_dailies(symbol: str, month: Month, now: pd.Timestamp) -> list[FileRef]:
    return [daily(Kind.KLINES, symbol, d) for d in closed_days(month, now)]


def funding_files(symbol: str, month: Month, now: pd.Timestamp, first: bool) -> list[FileRef]:
    months = ([month.previous()] if first else []) + [month]
    return [monthly(Kind.FUNDING, symbol, m) for m in months if m.end <= now]


def metrics_files(symbol: str, month: Month, now: pd.Timestamp, first: bool) -> list[FileRef]:
    days = closed_days(month, now)
    if first:
        days = [month.first_day - timedelta(days=1), *days]
    return [daily(Kind.METRICS, symbol, d) for d in days]
