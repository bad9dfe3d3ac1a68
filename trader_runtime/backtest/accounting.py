"""Account-level inputs of the engine that come from exchange facts: maintenance-margin brackets and funding.

Brackets (D19): a per-symbol table of (notional cap, maintenance margin rate) shipped in
`data/maintenance_brackets.json` (source and caveats in the file); a caller may pass another file. The
maintenance amount `cum` of each bracket is derived from the caps, so the maintenance margin is continuous.

Funding (D20, spec 50 §4 "Decision (Q4)"): a settlement at time N is booked at N (the close of the candle opening
at N − 15 min) with the rate of that settlement. The stored `funding_rate` column follows the raw `calc_time` rule,
and `calc_time` lies milliseconds after N, so the settlement's rate is the column's value on the candle opening
at N + 15 min. Settlements fall every `interval_hours` (8 h unless the exchange says otherwise).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from trader_runtime.errors import ConfigError

BRACKETS_FILE = Path(__file__).with_name("data") / "maintenance_brackets.json"
BAR_MS = 15 * 60 * 1000
HOUR_MS = 3_600_000


@lru_cache(maxsize=8)
def _table(path: str) -> dict[str, list[list[float]]]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"maintenance brackets {path}: unreadable ({exc})") from None
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def brackets_for(symbol: str, path: Path | str | None = None) -> np.ndarray:
    """(cap, rate, cum) rows for `symbol` (falls back to the file's DEFAULT rows)."""
    table = _table(str(path or BRACKETS_FILE))
    rows = table.get(symbol.upper()) or table.get("DEFAULT")
    if not rows:
        raise ConfigError(f"maintenance brackets: no rows for {symbol} and no DEFAULT")
    out = np.zeros((len(rows), 3), dtype=np.float64)
    prev_cap, prev_rate, cum = 0.0, 0.0, 0.0
    for i, (cap, rate) in enumerate(rows):
        if not (float(cap) > prev_cap and 0.0 <= float(rate) < 1.0):
            raise ConfigError(f"maintenance brackets {symbol}: row {i} ({cap}, {rate}) must have ascending caps and 0 <= rate < 1")
        cum += prev_cap * (float(rate) - prev_rate)
        out[i] = (float(cap), float(rate), cum)
        prev_cap, prev_rate = float(cap), float(rate)
    return out


def stack_brackets(tables: list[np.ndarray]) -> np.ndarray:
    """Per-symbol tables padded to one (S, B, 3) array (padding repeats the last row)."""
    b = max(t.shape[0] for t in tables)
    out = np.zeros((len(tables), b, 3), dtype=np.float64)
    for s, t in enumerate(tables):
        out[s, : t.shape[0]] = t
        out[s, t.shape[0] :] = t[-1]
    return out


def settlement_rates(time_ms: np.ndarray, funding_rate: np.ndarray, interval_hours: int = 8) -> np.ndarray:
    """Per candle: the funding rate settled at its close, NaN when no settlement falls there or the rate is unknown."""
    time_ms = np.asarray(time_ms, dtype=np.int64)
    rate = np.asarray(funding_rate, dtype=np.float64)
    out = np.full(time_ms.shape[0], np.nan)
    if time_ms.size == 0:
        return out
    close_ms = time_ms + BAR_MS
    settles = np.flatnonzero(close_ms % (interval_hours * HOUR_MS) == 0)
    nxt = np.searchsorted(time_ms, close_ms[settles])  # the candle opening at N (rate not yet switched) ...
    nxt = nxt + 1  # ... and the one at N + 15 min carries the settlement's rate under the calc_time rule
    ok = nxt < time_ms.size
    settles, nxt = settles[ok], nxt[ok]
    ok = time_ms[nxt] == close_ms[settles] + BAR_MS
    out[settles[ok]] = rate[nxt[ok]]
    return out


def frame_settlement_rates(frame: pd.DataFrame, interval_hours: int = 8) -> np.ndarray:
    if "funding_rate" not in frame.columns:
        return np.full(len(frame), np.nan)
    idx = pd.DatetimeIndex(frame.index)
    return settlement_rates(idx.as_unit("ms").asi8, frame["funding_rate"].to_numpy(np.float64), interval_hours)
