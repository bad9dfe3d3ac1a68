"""Write archive trees in the exact layout of Binance's public USD-M data (zips + `.CHECKSUM`), for tests and benches.

`write_klines`, `write_funding`, `write_metrics` turn frames into monthly/daily files; `synthetic_mirror` builds a
whole mirror (symbol + BTCUSDT/ETHUSDT klines, funding, 5-minute metrics) from the seeded synthetic market.
Numbers are written as plain decimals (shortest round-trip form), so parsing them gives the same float64 values.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BAR_MS, OHLCV_COLUMNS
from trader_runtime.market.bulk.layout import FileRef, Kind, Month, daily, monthly
from trader_runtime.market.bulk.parse import FUNDING_COLUMNS, KLINE_COLUMNS, METRICS_COLUMNS, METRICS_RELABEL
from trader_runtime.market.synthetic import DEFAULT_END, generate_market

def _plain(x: float) -> str:
    if x != x:  # NaN: a blank field, as the archive writes missing metrics
        return ""
    text = repr(x)
    return np.format_float_positional(x, unique=True, trim="-") if "e" in text else text


def decimals(values: np.ndarray) -> np.ndarray:
    """Plain decimal text, shortest form that parses back to the same float64 ('' for NaN)."""
    return np.array([_plain(x) for x in np.asarray(values, dtype=np.float64).tolist()], dtype=object)


def write_file(root: Path, ref: FileRef, csv_text: str, *, checksum: bool = True) -> Path:
    """Zip `csv_text` as the file's one member and write the `.CHECKSUM` beside it."""
    target = root / ref.path
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(ref.csv_name, csv_text)
    data = buffer.getvalue()
    target.write_bytes(data)
    if checksum:
        (root / ref.checksum_path).write_text(f"{hashlib.sha256(data).hexdigest()}  {ref.name}\n")
    return target


def _rows(columns: list[np.ndarray]) -> str:
    return "".join(",".join(map(str, row)) + "\n" for row in zip(*columns))


def kline_csv(candles: pd.DataFrame, header: bool) -> str:
    """12-column kline CSV from an OHLCV frame indexed by open time."""
    open_ms = pd.DatetimeIndex(candles.index).as_unit("ms").asi8
    volume = candles["volume"].to_numpy(np.float64)
    close = candles["close"].to_numpy(np.float64)
    cols = [open_ms, *[decimals(candles[c].to_numpy()) for c in OHLCV_COLUMNS], open_ms + BAR_MS - 1,
            decimals(np.round(volume * close, 4)), np.full(len(candles), 1000), decimals(np.round(volume / 2, 3)),
            decimals(np.round(volume * close / 2, 4)), np.zeros(len(candles), dtype=np.int64)]
    return (",".join(KLINE_COLUMNS) + "\n" if header else "") + _rows(cols)


def write_klines(root: Path, symbol: str, candles: pd.DataFrame, *, months: Iterable[Month] = (),
                 days: Iterable[date] = (), header: bool | None = None) -> list[Path]:
    """Monthly files for `months` and daily files for `days`; header: None = as the archive (from 2022-05 on)."""
    out = []
    refs = [monthly(Kind.KLINES, symbol, m) for m in months] + [daily(Kind.KLINES, symbol, d) for d in days]
    for ref in refs:
        part = candles[(candles.index >= ref.start) & (candles.index < ref.end)]
        with_header = ref.start >= pd.Timestamp("2022-05-01", tz="UTC") if header is None else header
        out.append(write_file(root, ref, kline_csv(part, with_header)))
    return out


def funding_csv(settlements: pd.DataFrame) -> str:
    """`calc_time, funding_interval_hours, last_funding_rate` rows (calc_time as datetimes)."""
    calc = pd.DatetimeIndex(settlements["calc_time"]).as_unit("ms").asi8
    cols = [calc, settlements["interval_hours"].to_numpy(np.int64), decimals(settlements["funding_rate"].to_numpy())]
    return ",".join(FUNDING_COLUMNS) + "\n" + _rows(cols)


def write_funding(root: Path, symbol: str, settlements: pd.DataFrame, months: Iterable[Month]) -> list[Path]:
    out = []
    for month in months:
        ref = monthly(Kind.FUNDING, symbol, month)
        ts = settlements["calc_time"]
        out.append(write_file(root, ref, funding_csv(settlements[(ts >= ref.start) & (ts < ref.end)])))
    return out


def metrics_csv(symbol: str, obs: pd.DataFrame, day: date) -> str:
    """One day of metrics from rows indexed by observation time, labelled as the archive of that day labels them."""
    start = pd.Timestamp(day, tz="UTC")
    part = obs[(obs.index > start) & (obs.index <= start + pd.Timedelta(days=1))]
    labels = part.index - (pd.Timedelta(minutes=5) if start >= METRICS_RELABEL else pd.Timedelta(0))
    cols = [labels.strftime("%Y-%m-%d %H:%M:%S").to_numpy(), np.full(len(part), symbol)]
    cols += [decimals(part[c].to_numpy()) for c in ("sum_open_interest", "sum_open_interest_value",
                                                     "top_acct_ls_ratio", "top_pos_ls_ratio", "global_ls_ratio",
                                                     "taker_ls_vol_ratio")]
    return ",".join(METRICS_COLUMNS) + "\n" + _rows(cols)


def write_metrics(root: Path, symbol: str, obs: pd.DataFrame, days: Iterable[date]) -> list[Path]:
    return [write_file(root, daily(Kind.METRICS, symbol, d), metrics_csv(symbol, obs, d)) for d in days]


# ----------------------------------------------------------------------------------------------------- synthetic


@dataclass(frozen=True)
class SyntheticMirror:
    root: Path
    symbol: str
    first: Month
    last: Month
    candles: pd.DataFrame  # the combined table the mirror encodes
    metrics: pd.DataFrame  # 5-minute observations, indexed by obs time


def synthetic_metrics(market_oi: pd.DataFrame, ls: pd.DataFrame, index: pd.DatetimeIndex, seed: int,
                      close: np.ndarray | None = None) -> pd.DataFrame:
    """5-minute observations: OI at each candle's close is the synthetic level of that candle, the two observations
    inside a candle are geometric steps between its neighbours; ratios hold their 15-minute values; the OI value
    in USDT is OI × the candle's close (OI × 1 without `close`)."""
    level = market_oi["sum_open_interest"].to_numpy(np.float64)
    close_times = index + pd.Timedelta(minutes=15)
    prev = np.concatenate([[level[0]], level[:-1]])
    steps = []
    for k in (1, 2):  # close - 10 min, close - 5 min
        steps.append(prev * (level / prev) ** (k / 3))
    obs_time = np.concatenate([close_times - pd.Timedelta(minutes=10), close_times - pd.Timedelta(minutes=5),
                               close_times])
    oi = np.concatenate([steps[0], steps[1], level])
    top = np.tile(ls["top_acct_ls_ratio"].to_numpy(np.float64), 3)
    glob = np.tile(ls["global_ls_ratio"].to_numpy(np.float64), 3)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sum_open_interest": np.round(oi, 3),
        "top_acct_ls_ratio": top, "top_pos_ls_ratio": np.round(top * 0.9, 4), "global_ls_ratio": glob,
        "taker_ls_vol_ratio": np.round(np.exp(rng.normal(0, 0.15, len(oi))), 4),
    }, index=pd.DatetimeIndex(obs_time, name="obs_time").as_unit("ms"))
    price = np.tile(np.ones(len(index)) if close is None else np.asarray(close, dtype=np.float64), 3)
    frame["sum_open_interest_value"] = np.round(oi * price, 2)
    return frame.sort_index()


def synthetic_mirror(root: Path, symbol: str = "XRPUSDT", days: int = 365, seed: int = 42,
                     end: pd.Timestamp = DEFAULT_END, daily_tail_days: int = 0,
                     until: pd.Timestamp | None = None) -> SyntheticMirror:
    """A mirror of `days` of synthetic market ending at `end` (whole months as monthly files; the last
    `daily_tail_days` closed days and any partial last month as daily files). `until` (a UTC midnight) cuts the
    archive short, as if the newest days were not published yet."""
    market = generate_market(symbol, days, seed, end=end)
    frame = market.combined
    if until is not None:
        end = min(end, until)
        frame = frame[frame.index < end]
    index = pd.DatetimeIndex(frame.index)
    months = sorted({Month.of(t) for t in index})
    full = [m for m in months if m.end <= end]
    tail_days = sorted({t.date() for t in index if t >= end - pd.Timedelta(days=daily_tail_days)}) if daily_tail_days else []
    monthly_months = [m for m in full if not any(Month.of(d) == m for d in tail_days)]
    day_list = sorted({t.date() for t in index if Month.of(t) not in monthly_months})
    for sym, cols in ((symbol, list(OHLCV_COLUMNS)), ("BTCUSDT", [f"{c}_btc" for c in OHLCV_COLUMNS]),
                      ("ETHUSDT", [f"{c}_eth" for c in OHLCV_COLUMNS])):
        candles = frame[cols].set_axis(list(OHLCV_COLUMNS), axis=1)
        write_klines(root, sym, candles, months=monthly_months, days=day_list)
    funding = market.funding.rename(columns={"funding_time": "calc_time"})
    funding = funding[funding["calc_time"] < end]
    funding["calc_time"] = pd.DatetimeIndex(funding["calc_time"]) + pd.Timedelta(milliseconds=5)
    funding["interval_hours"] = 8
    write_funding(root, symbol, funding, full)
    metrics = synthetic_metrics(market.open_interest.iloc[: len(index)], market.ls_ratio.iloc[: len(index)], index, seed,
                                close=frame["close"].to_numpy())
    write_metrics(root, symbol, metrics, sorted({t.date() for t in index}))
    return SyntheticMirror(root, symbol, months[0], months[-1], frame, metrics)
