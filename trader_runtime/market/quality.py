"""Data-quality report for a combined 15m table: what is wrong with it, not a repair.

Why: the reference stored still-forming candles and never noticed gaps or frozen partial candles (spec 10 §1.5,
W-01). This report is what the Dagster checks, `cointrader data quality` and import metadata show. Pure: frames in,
a dataclass out; `now` is passed in.

`admit_candles` is the one gate every entry point that reads market data passes its frame through (data import,
backtest, sweep, weekly report, the trader's replay source, the pipelines' parquet source): schema, UTC, the 15-minute
grid, finite positive prices, duplicates (identical rows dropped, conflicting rows refused with their timestamps) —
the hard rules live in `domain.schema.validate_combined_frame`, so internal paths apply the same ones — and a
quality report whose gaps the caller shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import (
    BAR,
    BTC_COLUMNS,
    ETH_COLUMNS,
    OHLCV_COLUMNS,
    OI_FUNDING_COLUMNS,
    count_duplicate_rows,
    validate_combined_frame,
)
from trader_runtime.errors import DataError

#: W-01 check: a candle whose volume is below this share of the median of the preceding candles looks partial
PARTIAL_VOLUME_SHARE = 0.05
PARTIAL_WINDOW = 96
PARTIAL_MIN_PERIODS = 20

_GROUPS = (("", OHLCV_COLUMNS), ("btc", BTC_COLUMNS), ("eth", ETH_COLUMNS))


@dataclass(frozen=True)
class QualityReport:
    """Findings for one table. `gaps` are (first missing open time, last missing open time, missing count)."""

    rows: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    duplicates: list[pd.Timestamp] = field(default_factory=list)
    gaps: list[tuple[pd.Timestamp, pd.Timestamp, int]] = field(default_factory=list)
    misaligned: list[pd.Timestamp] = field(default_factory=list)
    non_utc: bool = False
    forming_candle: bool = False
    ohlc_violations: list[tuple[pd.Timestamp, str]] = field(default_factory=list)
    partial_candles: list[tuple[pd.Timestamp, str]] = field(default_factory=list)
    coverage: dict[str, float] = field(default_factory=dict)

    @property
    def missing_candles(self) -> int:
        return sum(count for _, _, count in self.gaps)

    @property
    def ok(self) -> bool:
        """True when the table is usable as-is: non-empty, UTC, regular, closed candles, sane OHLC, no partials."""
        return (
            self.rows > 0
            and not self.non_utc
            and not self.forming_candle
            and not (self.duplicates or self.gaps or self.misaligned or self.ohlc_violations or self.partial_candles)
        )

    def issues(self) -> list[str]:
        """One human-readable line per kind of problem (empty when `ok`)."""
        out: list[str] = []
        if self.rows == 0:
            out.append("no rows")
        if self.non_utc:
            out.append("timestamps are not timezone-aware UTC")
        if self.duplicates:
            out.append(f"{len(self.duplicates)} duplicate timestamp(s), first {self.duplicates[0]}")
        if self.gaps:
            first = self.gaps[0]
            out.append(f"{len(self.gaps)} gap(s), {self.missing_candles} missing candle(s), first {first[0]}..{first[1]}")
        if self.misaligned:
            out.append(f"{len(self.misaligned)} timestamp(s) off the 15-minute grid, first {self.misaligned[0]}")
        if self.forming_candle:
            out.append(f"last candle {self.end} is still forming")
        if self.ohlc_violations:
            ts, why = self.ohlc_violations[0]
            out.append(f"{len(self.ohlc_violations)} OHLC sanity violation(s), first {ts}: {why}")
        if self.partial_candles:
            ts, col = self.partial_candles[0]
            out.append(
                f"{len(self.partial_candles)} suspected partial candle(s) (volume < {PARTIAL_VOLUME_SHARE:.0%} of the "
                f"{PARTIAL_WINDOW}-candle median), first {ts} ({col})"
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary for metadata (counts plus the first few examples)."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "duplicates": len(self.duplicates),
            "gaps": len(self.gaps),
            "missing_candles": self.missing_candles,
            "misaligned": len(self.misaligned),
            "non_utc": self.non_utc,
            "forming_candle": self.forming_candle,
            "ohlc_violations": len(self.ohlc_violations),
            "partial_candles": len(self.partial_candles),
            "partial_candle_examples": [f"{ts.isoformat()} {col}" for ts, col in self.partial_candles[:5]],
            "coverage": dict(self.coverage),
            "issues": self.issues(),
        }


def quality_report(df: pd.DataFrame, now: pd.Timestamp | None = None) -> QualityReport:
    """Inspect a combined table (`timestamp` index or column); `now` enables the forming-candle check."""
    frame = df.set_index("timestamp") if "timestamp" in df.columns else df
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(f"quality_report needs a DatetimeIndex or a 'timestamp' column, got {type(frame.index).__name__}")
    idx = frame.index
    tz = idx.tz
    non_utc = not _is_utc(tz)
    if tz is None:
        idx = idx.tz_localize("UTC")
    else:
        idx = idx.tz_convert("UTC")
    frame = frame.set_axis(idx, axis=0)
    if len(frame) == 0:
        return QualityReport(rows=0, start=None, end=None, non_utc=non_utc, coverage=_coverage(frame))

    dup_mask = idx.duplicated(keep="first")
    duplicates = sorted(set(idx[dup_mask]))
    unique = frame[~dup_mask].sort_index()
    uidx = unique.index
    ns = uidx.as_unit("ns").asi8
    bar_ns = int(BAR.value)
    misaligned = list(uidx[ns % bar_ns != 0])
    start, end = uidx[0], uidx[-1]
    forming = False
    if now is not None:
        now_ts = pd.Timestamp(now)
        if now_ts.tzinfo is None:
            raise DataError(f"now={now_ts} is timezone-naive; pass a UTC timestamp")
        forming = bool(end + BAR > now_ts)
    return QualityReport(
        rows=len(frame),
        start=start,
        end=end,
        duplicates=duplicates,
        gaps=_gaps(uidx),
        misaligned=misaligned,
        non_utc=non_utc,
        forming_candle=forming,
        ohlc_violations=ohlc_violations(unique),
        partial_candles=_partial_candles(unique),
        coverage=_coverage(unique),
    )


def _is_utc(tz: Any) -> bool:
    """Offset zero in winter and summer (accepts UTC, Etc/UTC, zoneinfo/pytz/datetime UTC)."""
    if tz is None:
        return False
    return all(pd.Timestamp(day, tz=tz).utcoffset() == pd.Timedelta(0) for day in ("2001-01-15", "2001-07-15"))


def _gaps(idx: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    if len(idx) < 2:
        return []
    step = np.diff(idx.as_unit("ns").asi8)
    bar_ns = int(BAR.value)
    out = []
    for i in np.flatnonzero(step > bar_ns):
        missing = int((step[i] + bar_ns - 1) // bar_ns) - 1
        if missing > 0:
            out.append((idx[i] + BAR, idx[i] + BAR * missing, missing))
    return out


def ohlc_violations(frame: pd.DataFrame) -> list[tuple[pd.Timestamp, str]]:
    """(time, reason) of every candle whose prices or volume are not sane, oldest first."""
    found: list[tuple[pd.Timestamp, str]] = []
    for prefix, cols in _GROUPS:
        if not all(c in frame.columns for c in cols):
            continue
        o, h, l, c, v = (frame[name].to_numpy(dtype="float64") for name in cols)
        label = f"{prefix}: " if prefix else ""
        checks = (
            (h < np.fmax(o, c), "high < max(open, close)"),
            (l > np.fmin(o, c), "low > min(open, close)"),
            ((o <= 0) | (h <= 0) | (l <= 0) | (c <= 0), "non-positive price"),
            (v < 0, "negative volume"),
        )
        for mask, why in checks:
            found.extend((frame.index[i], label + why) for i in np.flatnonzero(mask))
    return sorted(found, key=lambda item: item[0])


def _partial_candles(frame: pd.DataFrame) -> list[tuple[pd.Timestamp, str]]:
    """Volume far below the median of the preceding 96 candles: a candle captured before it closed (W-01)."""
    found: list[tuple[pd.Timestamp, str]] = []
    for prefix, cols in _GROUPS:
        vol_col = cols[4]
        if vol_col not in frame.columns:
            continue
        vol = frame[vol_col]
        median = vol.shift(1).rolling(PARTIAL_WINDOW, min_periods=PARTIAL_MIN_PERIODS).median()
        mask = (vol < PARTIAL_VOLUME_SHARE * median).to_numpy()
        found.extend((frame.index[i], vol_col) for i in np.flatnonzero(mask))
    return sorted(found, key=lambda item: item[0])


def _coverage(frame: pd.DataFrame) -> dict[str, float]:
    """Share of rows with a real value; NaN and the legacy 0.0 'missing' marker (spec 10 §1.3) count as missing."""
    out: dict[str, float] = {}
    for col in OI_FUNDING_COLUMNS:
        if col not in frame.columns or len(frame) == 0:
            out[col] = 0.0
            continue
        values = frame[col].to_numpy(dtype="float64")
        out[col] = float(np.mean(np.isfinite(values) & (values != 0.0)))
    return out


@dataclass(frozen=True)
class AdmittedCandles:
    """A frame that passed the gate: canonical (UTC `timestamp` index, float64, sorted, unique) plus its report."""

    frame: pd.DataFrame
    report: QualityReport
    dropped_duplicates: int

    def notes(self) -> list[str]:
        """What the caller should tell the user about data it accepted (identical duplicates, gaps)."""
        out = []
        if self.dropped_duplicates:
            out.append(f"{self.dropped_duplicates} identical duplicate row(s) dropped")
        if self.report.gaps:
            first = self.report.gaps[0]
            out.append(f"{len(self.report.gaps)} gap(s), {self.report.missing_candles} missing candle(s), "
                       f"first {first[0]}..{first[1]}")  # fmt: skip
        return out


def admit_candles(df: pd.DataFrame, *, source: str, now: pd.Timestamp | None = None) -> AdmittedCandles:
    """The data gate: refuse (DataError naming `source`) or return the canonical frame with its quality report."""
    if len(df) == 0:
        raise DataError(f"{source}: no rows; a market file needs at least one closed 15-minute candle")
    dropped = count_duplicate_rows(df)
    frame = validate_combined_frame(df, source=source)
    return AdmittedCandles(frame=frame, report=quality_report(frame, now=now), dropped_duplicates=dropped)
