"""`BulkSource`: the market-data source of `COINTRADER_MARKET_SOURCE=bulk` — Binance's public archive (a mirror
folder or a base URL) read through the bulk importer's checksum-first verification and parsing.

Why a source and not only the importer: with it the whole asset graph (klines, OI, funding, L/S, combined table,
dataset, training) runs on years of history with the same ingestion code as the other sources. It has no 30-day
statistics window (`stats_window = None`). Its clock is the end of the newest klines file of the reference symbol
(a folder) or today's UTC midnight (a URL); the REST source can follow it for the newest days (the tail).
A refused file is logged and skipped: its candles stay a gap, which the data checks report.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from trader_runtime.domain.schema import BAR, OHLCV_COLUMNS
from trader_runtime.exchange.binance import market_parsing as parsing
from trader_runtime.market.bulk import plan
from trader_runtime.market.bulk.align import ls_ratio_rows
from trader_runtime.market.bulk.layout import FileRef, Kind, Month, daily, monthly, months_between
from trader_runtime.market.bulk.parse import ParsedFile, parse_file
from trader_runtime.market.bulk.store import ArchiveStore, MirrorFolder
from trader_runtime.market.bulk.verify import RejectedFile, verify_zip

logger = logging.getLogger(__name__)

_STAMP = re.compile(r"-(\d{4}-\d{2})(?:-(\d{2}))?\.zip$")


def mirror_end(store: ArchiveStore, symbol: str) -> pd.Timestamp:
    """End of the newest klines file of `symbol` in a mirror folder; today 00:00 UTC for other stores."""
    today = pd.Timestamp.now(tz="UTC").floor("D")
    if not isinstance(store, MirrorFolder):
        return today
    ends = []
    for period in ("monthly", "daily"):
        for path in (store.root / period / "klines" / symbol / "15m").glob("*.zip"):
            match = _STAMP.search(path.name)
            if match is None:
                continue
            year, month = (int(x) for x in match.group(1).split("-"))
            if match.group(2):
                ends.append(pd.Timestamp(date(year, month, int(match.group(2))) + timedelta(days=1), tz="UTC"))
            else:
                ends.append(Month(year, month).end)
    return min(max(ends), today) if ends else today


@dataclass
class BulkSource:
    """MarketSource over the archive layout (frames in the shapes of `market_parsing`)."""

    store: ArchiveStore
    end: pd.Timestamp
    name: str = "bulk"
    stats_window: pd.Timedelta | None = None
    _cache: dict[str, ParsedFile | None] = field(default_factory=dict, repr=False)

    def now(self) -> pd.Timestamp:
        return self.end

    def _file(self, ref: FileRef) -> ParsedFile | None:
        if ref.path not in self._cache:
            self._cache[ref.path] = self._load(ref)
        return self._cache[ref.path]

    def _load(self, ref: FileRef) -> ParsedFile | None:
        data = self.store.get(ref.path)
        if data is None:
            return None
        try:
            return parse_file(verify_zip(ref, data, self.store.get(ref.checksum_path)))
        except RejectedFile as exc:
            logger.error("refused %s: %s", self.store.describe(ref.path), exc.reason)
            return None

    def _months(self, start: pd.Timestamp, now: pd.Timestamp) -> list[Month]:
        stop = min(now, self.end)
        return months_between(Month.of(start), Month.of(stop - pd.Timedelta(milliseconds=1))) if stop > start else []

    def klines(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        parts = []
        for month in self._months(start, now):
            whole = self._file(monthly(Kind.KLINES, symbol, month)) if month.end <= self.end else None
            files = [whole] if whole is not None else [self._file(r) for r in plan.kline_dailies(symbol, month, self.end)]
            parts += [f.frame for f in files if f is not None]
        if not parts:
            return parsing.empty_klines()
        frame = pd.concat(parts)
        frame = frame[~frame.index.duplicated(keep="last")].sort_index()
        idx = frame.index
        return frame[(idx >= start) & (idx + BAR <= min(now, self.end))][list(OHLCV_COLUMNS)]

    def _metrics(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        first, stop = start.floor("D") - pd.Timedelta(days=1), min(now, self.end)
        days = pd.date_range(first, stop - pd.Timedelta(days=1), freq="D") if stop > first else []
        parts = [f.frame for d in days if (f := self._file(daily(Kind.METRICS, symbol, d.date()))) is not None]
        if not parts:
            return pd.DataFrame(columns=["obs_time", "sum_open_interest", "top_acct_ls_ratio", "global_ls_ratio"])
        frame = pd.concat(parts, ignore_index=True)
        ts = frame["obs_time"]
        return frame[(ts >= start - BAR) & (ts <= stop)].reset_index(drop=True)

    def open_interest(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        frame = self._metrics(symbol, start, now)
        out = pd.DataFrame({"timestamp": pd.DatetimeIndex(frame["obs_time"]).as_unit("ms"),
                            "sum_open_interest": frame["sum_open_interest"].astype("float64")})
        return out.dropna().reset_index(drop=True) if len(out) else parsing.empty_open_interest()

    def funding_rates(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        months = self._months(start - pd.Timedelta(days=1), now)
        parts = [f.frame for m in months if m.end <= self.end
                 and (f := self._file(monthly(Kind.FUNDING, symbol, m))) is not None]
        if not parts:
            return parsing.empty_funding()
        frame = pd.concat(parts, ignore_index=True).rename(columns={"calc_time": "funding_time"})
        ts = frame["funding_time"]
        return frame[(ts >= start) & (ts <= now)].reset_index(drop=True)

    def ls_ratios(self, symbol: str, start: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
        frame = self._metrics(symbol, start, now)
        if frame.empty:
            return parsing.empty_ls_ratio()
        rows = ls_ratio_rows(frame)
        ts = rows["timestamp"]
        return rows[(ts >= start) & (ts <= now)].reset_index(drop=True)
