"""Archive CSVs -> checked frames: klines (12 columns), fundingRate (3), metrics (8).

Rules (spec "bulk history" §2, §3, §5): a header line is detected per file (its first field is not an integer);
every field must parse; timestamps ≥ 10^15 are microseconds and converted, anything else outside the plausible
millisecond range rejects the file; every row lies inside the file's day or month (metrics: inside the labelling
window of its era) and on its grid; identical duplicate rows are dropped and counted; the same time with other
values rejects a klines or funding file and makes that metrics observation missing; missing slots are listed.
Metrics labels become observation times: the label itself before 2026-06-25, the label + 5 minutes from then on.
Numbers are parsed with correct rounding, so stored values equal the published decimals exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv as pacsv

from trader_runtime.domain.schema import BAR_MS, OHLCV_COLUMNS
from trader_runtime.market.bulk.layout import FileRef, Kind
from trader_runtime.market.bulk.verify import RejectedFile, VerifiedFile
from trader_runtime.market.quality import ohlc_violations

KLINE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
                 "taker_buy_volume", "taker_buy_quote_volume", "ignore")
FUNDING_COLUMNS = ("calc_time", "funding_interval_hours", "last_funding_rate")
METRICS_COLUMNS = ("create_time", "symbol", "sum_open_interest", "sum_open_interest_value",
                   "count_toptrader_long_short_ratio", "sum_toptrader_long_short_ratio", "count_long_short_ratio",
                   "sum_taker_long_short_vol_ratio")
#: metrics columns as stored (warehouse table metrics_5m), in file order after `symbol`
METRIC_VALUES = ("sum_open_interest", "sum_open_interest_value", "top_acct_ls_ratio", "top_pos_ls_ratio",
                 "global_ls_ratio", "taker_ls_vol_ratio")
#: from this label on, a metrics row labelled T describes T + 5 minutes (binance-public-data#491)
METRICS_RELABEL = pd.Timestamp("2026-06-25", tz="UTC")
METRICS_STEP_MS = 5 * 60 * 1000
MIN_MS, MAX_MS = 1_420_070_400_000, 4_102_444_800_000  # 2015-01-01 .. 2100-01-01
CANDLE_SPAN_MS = BAR_MS - 1
#: kline columns as read: the two times are integers, every other field a decimal
_KLINE_KINDS = ("int", "float", "float", "float", "float", "float", "int", "float", "float", "float", "float", "float")
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


@dataclass
class ParsedFile:
    """Checked rows of one file plus what the report needs; `frame` layout depends on the kind."""

    ref: FileRef
    sha256: str
    frame: pd.DataFrame
    rows_read: int
    duplicates: int = 0
    conflicts: int = 0
    missing: list[int] = field(default_factory=list)  # missing slot times, ms
    header: bool = False
    microseconds: bool = False

    @property
    def expected(self) -> int:
        return len(self.frame) + len(self.missing)


def parse_file(verified: VerifiedFile) -> ParsedFile:
    """Parse and check one verified CSV; RejectedFile when the file must not be used."""
    parser = {Kind.KLINES: _klines, Kind.FUNDING: _funding, Kind.METRICS: _metrics}[verified.ref.kind]
    return parser(verified)


# --------------------------------------------------------------------------------------------------------- helpers


def _has_header(csv: bytes) -> bool:
    first = csv.split(b"\n", 1)[0].split(b",", 1)[0].strip()
    return not first.lstrip(b"-").isdigit()


def _columns(verified: VerifiedFile, names: tuple[str, ...],
             kinds: tuple[str, ...]) -> tuple[dict[str, np.ndarray], int, bool]:
    """Typed columns (kinds: int, float, float? = blank allowed, str) and the row count.

    Arrow's CSV reader (correctly rounded numbers, like numpy's) reads a well-formed file in one call; a file it
    cannot read as typed goes through the strict line-by-line reader, which names the offending line or field."""
    header = _has_header(verified.csv)
    if header:
        given = verified.csv.split(b"\n", 1)[0].rstrip(b"\r").split(b",")
        if len(given) != len(names):
            raise _reject(verified, f"header has {len(given)} columns, expected {len(names)}")
    fast = _arrow_columns(verified.csv, names, kinds, header)
    if fast is not None:
        return fast[0], fast[1], header
    strings, rows, header = _read(verified, names)
    typed = {}
    for name, kind in zip(names, kinds):
        if kind == "str":
            typed[name] = np.char.strip(strings[name])
        else:
            dtype = np.int64 if kind == "int" else np.float64
            typed[name] = _numbers(verified, strings[name], name, dtype, blank_ok=kind == "float?")
    return typed, rows, header


_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "float?": pa.float64(), "str": pa.string()}


def _arrow_columns(csv: bytes, names: tuple[str, ...], kinds: tuple[str, ...],
                   header: bool) -> tuple[dict[str, np.ndarray], int] | None:
    """The typed columns of a well-formed file, or None (the strict reader then explains what is wrong)."""
    try:
        table = pacsv.read_csv(
            pa.py_buffer(csv),
            read_options=pacsv.ReadOptions(column_names=list(names), skip_rows=int(header), use_threads=False),
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: _ARROW_TYPES[k] for n, k in zip(names, kinds)}, null_values=[""],
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out: dict[str, np.ndarray] = {}
    for name, kind in zip(names, kinds):
        column = table.column(name)
        if column.null_count and kind != "float?":
            return None
        if kind == "str":
            out[name] = np.char.strip(np.asarray(column.to_pylist(), dtype=str)) if len(column) else np.array([], dtype=str)
        else:
            values = column.to_numpy()
            out[name] = values.astype(np.float64 if kind != "int" else np.int64, copy=False)
    return out, table.num_rows


def _read(verified: VerifiedFile, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], int, bool]:
    """Split the CSV into string columns (a plain split: the archive quotes nothing); every line needs all fields."""
    text = verified.csv.decode("utf-8", "replace")
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    header = _has_header(verified.csv)
    if header:
        lines = lines[1:]
    rows = [ln.split(",") for ln in lines]
    short = [i for i, r in enumerate(rows) if len(r) != len(names)]
    if short:
        raise _reject(verified, f"line {short[0] + 1 + header} has {len(rows[short[0]])} fields, expected {len(names)}")
    if not rows:
        return {n: np.array([], dtype=str) for n in names}, 0, header
    columns = {n: np.array(col, dtype=str) for n, col in zip(names, zip(*rows))}
    return columns, len(rows), header


def _numbers(verified: VerifiedFile, values: np.ndarray, what: str, dtype: type, blank_ok: bool = False) -> np.ndarray:
    """Text -> numbers (float parsing is correctly rounded, so the published decimals are kept exactly)."""
    values = np.char.strip(values)
    if blank_ok:
        values = np.where(values == "", "nan", values)
    try:
        return values.astype(dtype)
    except (ValueError, OverflowError):
        bad = next((v for v in values if not _parses(v, dtype)), "?")
        raise _reject(verified, f"{what}: {bad!r} is not a number") from None


def _parses(value: str, dtype: type) -> bool:
    try:
        np.array([value]).astype(dtype)
        return True
    except (ValueError, OverflowError):
        return False


def _reject(verified: VerifiedFile, reason: str) -> RejectedFile:
    return RejectedFile(verified.ref, reason, verified.sha256, verified.sha256)


def _ms(verified: VerifiedFile, values: np.ndarray, what: str) -> tuple[np.ndarray, bool]:
    """Times (int64) as ms; µs (≥ 10^15) converted; anything else implausible rejects the file."""
    raw = values
    micro = raw >= 10**15
    if micro.any():
        raw = np.where(micro, raw // 1000, raw)  # a close time ends in 999 µs; the grid checks catch the rest
    bad = (raw < MIN_MS) | (raw >= MAX_MS)
    if bad.any():
        raise _reject(verified, f"{what}={values[int(np.argmax(bad))]} is not a plausible time in ms or µs")
    return raw, bool(micro.any())


def _inside(verified: VerifiedFile, ms: np.ndarray, lo: int, hi: int, what: str, right_closed: bool = False) -> None:
    outside = (ms <= lo) | (ms > hi) if right_closed else (ms < lo) | (ms >= hi)
    if outside.any():
        when = pd.Timestamp(int(ms[outside][0]), unit="ms", tz="UTC")
        raise _reject(verified, f"{what} {when} lies outside the file's {verified.ref.period} period")


def _unique_rows(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Sort by key, drop identical repeated rows; returns keys, values, identical dropped, keys still repeated."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    if len(keys) < 2:
        return keys, values, 0, np.array([], dtype=keys.dtype)
    same_key = keys[1:] == keys[:-1]
    equal = (values[1:] == values[:-1]) | (np.isnan(values[1:]) & np.isnan(values[:-1]))
    identical = same_key & equal.all(axis=1)
    keep = np.concatenate([[True], ~identical])
    keys, values = keys[keep], values[keep]
    repeated = np.unique(keys[1:][keys[1:] == keys[:-1]])
    return keys, values, int(identical.sum()), repeated


def _bounds(ref: FileRef) -> tuple[int, int]:
    return ref.start.value // 1_000_000, ref.end.value // 1_000_000


# --------------------------------------------------------------------------------------------------------- klines


def _klines(verified: VerifiedFile) -> ParsedFile:
    ref = verified.ref
    frame, rows, header = _columns(verified, KLINE_COLUMNS, _KLINE_KINDS)
    open_ms, micro_o = _ms(verified, frame["open_time"], "open_time")
    close_ms, micro_c = _ms(verified, frame["close_time"], "close_time")
    lo, hi = _bounds(ref)
    _inside(verified, open_ms, lo, hi, "candle")
    if (open_ms % BAR_MS).any():
        bad = pd.Timestamp(int(open_ms[(open_ms % BAR_MS) != 0][0]), unit="ms", tz="UTC")
        raise _reject(verified, f"open time {bad} is not on the 15-minute grid")
    if ((close_ms - open_ms) != CANDLE_SPAN_MS).any():
        raise _reject(verified, "close_time - open_time is not 899,999 ms on every row")
    values = np.column_stack([frame[c] for c in KLINE_COLUMNS[1:6]])
    if not np.isfinite(values).all():
        raise _reject(verified, "non-finite price or volume")
    open_ms, values, dups, repeated = _unique_rows(open_ms, values.reshape(-1, 5))
    if len(repeated):
        raise _reject(verified, f"two different candles open at {pd.Timestamp(int(repeated[0]), unit='ms', tz='UTC')}")
    index = pd.DatetimeIndex(open_ms.astype("datetime64[ms]"), name="timestamp").tz_localize("UTC")
    candles = pd.DataFrame(values, columns=list(OHLCV_COLUMNS), index=index)
    violations = ohlc_violations(candles)
    if violations:
        ts, why = violations[0]
        raise _reject(verified, f"{len(violations)} candle(s) fail the OHLC sanity check, first {ts}: {why}")
    expected = np.arange(lo, hi, BAR_MS, dtype=np.int64)
    missing = np.setdiff1d(expected, open_ms, assume_unique=True)
    return ParsedFile(ref, verified.sha256, candles, rows, dups, 0, missing.tolist(), header, micro_o or micro_c)


# --------------------------------------------------------------------------------------------------------- funding


def _funding(verified: VerifiedFile) -> ParsedFile:
    ref = verified.ref
    frame, rows, header = _columns(verified, FUNDING_COLUMNS, ("int", "int", "float"))
    calc, micro = _ms(verified, frame["calc_time"], "calc_time")
    lo, hi = _bounds(ref)
    _inside(verified, calc, lo, hi, "settlement")
    settle = calc - calc % MINUTE_MS
    if (settle % HOUR_MS).any():
        bad = pd.Timestamp(int(calc[(settle % HOUR_MS) != 0][0]), unit="ms", tz="UTC")
        raise _reject(verified, f"settlement {bad} is not on the hour")
    interval = frame["funding_interval_hours"]
    if ((interval < 1) | (interval > 24)).any():
        raise _reject(verified, f"funding interval {interval[(interval < 1) | (interval > 24)][0]} h is not 1..24")
    rate = frame["last_funding_rate"]
    if not np.isfinite(rate).all():
        raise _reject(verified, "blank or non-finite funding rate")
    stacked = np.column_stack([calc, interval, rate]).astype(np.float64)
    settle, stacked, dups, repeated = _unique_rows(settle, stacked)
    if len(repeated):
        raise _reject(verified, f"two different settlements at {pd.Timestamp(int(repeated[0]), unit='ms', tz='UTC')}")
    body = pd.DataFrame({"calc_time": stacked[:, 0].astype(np.int64), "settlement": settle,
                         "interval_hours": stacked[:, 1].astype(np.int64), "rate": stacked[:, 2]})
    missing: list[int] = []
    expect = lo
    for n, hours in zip(body["settlement"].to_numpy(), body["interval_hours"].to_numpy()):
        while expect < n:
            missing.append(int(expect))
            expect += int(hours) * HOUR_MS
        expect = int(n) + int(hours) * HOUR_MS
    last_hours = int(body["interval_hours"].iloc[-1]) if len(body) else 8
    while expect < hi:
        missing.append(int(expect))
        expect += last_hours * HOUR_MS
    out = pd.DataFrame({
        "calc_time": pd.to_datetime(body["calc_time"].to_numpy(), unit="ms", utc=True).as_unit("ms"),
        "interval_hours": body["interval_hours"].astype("int32").to_numpy(),
        "funding_rate": body["rate"].to_numpy(),
    })
    return ParsedFile(ref, verified.sha256, out, rows, dups, 0, missing, header, micro)


# --------------------------------------------------------------------------------------------------------- metrics


def _metrics(verified: VerifiedFile) -> ParsedFile:
    ref = verified.ref
    frame, rows, header = _columns(verified, METRICS_COLUMNS, ("str", "str", *("float?",) * 6))
    try:
        labels = frame["create_time"].astype("datetime64[s]")
    except ValueError as exc:
        raise _reject(verified, f"create_time: {str(exc).splitlines()[0][:120]}") from None
    texts = frame["create_time"]
    if len(texts) and (np.char.str_len(texts) != 19).any():
        raise _reject(verified, "create_time is not written YYYY-MM-DD HH:MM:SS on every row")
    symbols = np.unique(frame["symbol"])
    if len(symbols) and (len(symbols) > 1 or symbols[0] != ref.symbol):
        raise _reject(verified, f"symbol column holds {sorted(symbols)[:3]}, expected {ref.symbol}")
    label_ms = labels.astype("datetime64[ms]").astype(np.int64)
    if (label_ms % METRICS_STEP_MS).any():
        bad = texts[(label_ms % METRICS_STEP_MS) != 0][0]
        raise _reject(verified, f"create_time {bad} is not on the 5-minute grid")
    lo, hi = _bounds(ref)
    new_era = ref.start >= METRICS_RELABEL
    _inside(verified, label_ms, lo, hi, "create_time", right_closed=not new_era)
    obs = label_ms + (METRICS_STEP_MS if new_era else 0)
    values = np.column_stack([frame[c] for c in METRICS_COLUMNS[2:]])
    values = values.reshape(-1, len(METRIC_VALUES))
    if np.isinf(values).any():
        raise _reject(verified, "infinite metric value")
    obs, values, dups, repeated = _unique_rows(obs, values)
    clash = np.isin(obs, repeated)
    conflicts = len(repeated)
    obs, values = obs[~clash], values[~clash]
    expected = np.arange(lo, hi, METRICS_STEP_MS, dtype=np.int64) + METRICS_STEP_MS
    missing = np.setdiff1d(expected, obs, assume_unique=True)
    out = pd.DataFrame(values, columns=list(METRIC_VALUES))
    out.insert(0, "obs_time", pd.DatetimeIndex(obs.astype("datetime64[ms]")).tz_localize("UTC"))
    return ParsedFile(ref, verified.sha256, out, rows, dups, conflicts, missing.tolist(), header, False)
