"""Seeded synthetic USD-M futures market in the combined 15m schema: the embedded default data source.

Why: every command must run offline and deterministically, and the strategy must actually trade on the data, so
the generator reproduces the features the signal gates react to (volatility clustering, fat tails, volume surges,
trends strong enough for ADX >= 25, ranges that mean-revert).

Model, per 15-minute candle, in log-returns (all parameters in `SyntheticParams`):

1. Regimes. A Markov chain over RANGE / TREND_UP / TREND_DOWN with geometric durations (means `range_bars`,
   `trend_bars`). A trend adds a drift of +-`trend_drift` x sigma per candle and raises volatility; a range pulls the
   price back towards its level at range entry (`range_reversion` per candle) and lowers volatility. A range
   turns into either trend with equal odds; a trend ends in a range (`trend_to_range`) or reverses.
2. BTC volatility. sigma_t = `btc_sigma` x hour(t) x weekday(t) x regime(t) x exp(slow_t) x sqrt(h_t), where h_t is
   a GARCH(1,1) variance (unit long-run level) driven by standardised Student-t innovations (`t_df_btc`) and
   slow_t a slow AR(1) log-volatility factor (half-life `slow_vol_halflife_bars`) that adds the multi-day memory
   seen in real |returns|. hour() is a multi-session intraday profile (quiet Asian early morning, peak at the US
   open) and the weekend is quieter.
3. ETH = beta_eth x r_btc + idiosyncratic noise; the symbol = beta x r_btc + its own drift regime + its own noise.
   Idiosyncratic noise is sigma_t(BTC) x idio x a GARCH-t factor of (own shock mixed with a common altcoin shock,
   `alt_factor_share` of the variance), so volatility clusters jointly with BTC and separately, and alts move
   together beyond BTC. Betas and idio levels give real-data correlations (BTC/ETH ~0.83, BTC/XRP ~0.75,
   ETH/XRP ~0.76). BTCUSDT and ETHUSDT as the traded symbol reuse the BTC/ETH paths exactly.
4. Candles. open = previous close; high/low extend max/min(open, close) by exponential wicks proportional to the
   asset's sigma_t, so high >= max(open, close) and low <= min(open, close) by construction. Each path is scaled so
   its last close equals the symbol's reference level (XRP ~2, BTC ~90k, ETH ~3k; unknown symbols get a level,
   beta and liquidity derived from a hash of the name).
5. Volume (base asset) = notional / close, with log-notional = log base + log hour/weekday activity
   + a x log(sigma_t / seasonal sigma) + b x |standardised return| + c x |standardised 8-candle move|
   + slow AR(1) noise + one-sided fat-tailed spikes (centred). Volume therefore surges on large moves and on
   sell-offs/breakouts that build over a few candles (what the signal's volume gate looks for), and bursts
   without a move, but never collapses to the near-empty candles the W-01 partial-candle check flags.
6. Open interest: log level is an AR(1) fed by orderly moves (positions build up) and unwound by shocks
   (|z| > 2.5); `oi_change` is its relative change (first candle missing = NaN). Funding settles every 8 h
   (00/08/16 UTC) as Binance computes it, F = P + clamp(0.01 % - P, +-0.05 %), with the premium P an AR(1) around a
   small discount moved by the 3-day trend; rounded to 1e-8, never exactly 0.0, carried by every candle from the
   last settlement at or before it. Long/short account ratios are contrarian AR(1) processes around per-symbol
   levels (they rise when price falls), rounded to 4 decimals like Binance.

Calibration (bench/bench_synthetic.py --compare, XRPUSDT, seeds 1/2/3/42 vs the real 2025-26 file): 15m return
std 0.0033-0.0041 (real 0.0042), BTC return kurtosis 11-23 (real 16; real XRP's 145 comes from a few crashes that
the model does not inject), acf |r| lag 1 0.25-0.30 (0.36), lag 96 0.08-0.11 (0.10), share of candles with
volume > 2.5 x MA20 4.1-4.3 % (4.3 %), ADX >= 25 41-43 % (45 %), signals per year at 3/25/2.5 86-103 (104) and
at 2/15/1.5 2,700-2,800 (2,930).

Determinism: two random streams. The market stream (BTC, ETH, BTC regimes) depends only on `seed`, so symbols
generated with the same seed, days and end share identical BTC/ETH columns; the symbol stream also depends on the
symbol name (SHA-256, not Python's salted hash). Python loops are used only for the scalar recursions
(GARCH, AR(1)); one year for one symbol takes well under a second (see bench/bench_synthetic.py).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trader_runtime.domain.schema import BAR, BAR_MS, COMBINED_COLUMNS, LS_RATIO_COLUMNS, validate_combined_frame
from trader_runtime.errors import ConfigError
from trader_runtime.market.processes import (
    RANGE,
    REGIME_NAMES,
    TREND_DOWN,
    TREND_UP,
    ar1,
    ar1_filter,
    blend,
    garch_scale,
    halflife_phi,
    mean_reverting_returns,
    regime_path,
    student_t,
)
from trader_runtime.market.symbols import normalize_symbol


def _exp(x: np.ndarray | float) -> np.ndarray:
    """Element-wise exp through the C library: numpy's vectorised exp gives different last bits with AVX512
    than with AVX2, and the synthetic market must be the same file on every machine."""
    a = np.asarray(x, dtype=np.float64)
    return np.array([math.exp(v) for v in a.ravel().tolist()], dtype=np.float64).reshape(a.shape)


def _log(x: np.ndarray | float) -> np.ndarray:
    """Element-wise log through the C library (same reason as `_exp`)."""
    a = np.asarray(x, dtype=np.float64)
    return np.array([math.log(v) for v in a.ravel().tolist()], dtype=np.float64).reshape(a.shape)

__all__ = [
    "DEFAULT_END",
    "RANGE",
    "REGIME_NAMES",
    "TREND_DOWN",
    "TREND_UP",
    "SymbolProfile",
    "SyntheticMarket",
    "SyntheticParams",
    "generate_market",
    "symbol_profile",
]

DEFAULT_END = pd.Timestamp("2026-01-01 00:00", tz="UTC")
BARS_PER_DAY = 96
FUNDING_INTERVAL = pd.Timedelta(hours=8)


# Relative trading activity by UTC hour (0..23): Asian evening/early session, quiet 03-06 UTC, European open,
# the US open at 13-16 UTC as the daily peak, and a quiet late US evening. Normalised to mean 1 below.
_HOUR_ACTIVITY = np.array(
    [1.00, 0.90, 0.85, 0.78, 0.72, 0.74, 0.80, 0.86, 0.95, 0.92, 0.86, 0.88,
     1.02, 1.35, 1.75, 1.65, 1.45, 1.25, 1.08, 1.00, 0.96, 0.80, 0.76, 0.74]
)
# Monday..Sunday: the weekend trades noticeably less.
_WEEKDAY_ACTIVITY = np.array([1.15, 1.08, 1.02, 1.05, 1.08, 0.70, 0.82])


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Per-symbol level and dynamics: price at `end`, BTC loading, idiosyncratic volatility, liquidity, L/S levels."""

    price: float
    beta: float
    idio: float
    bar_notional_usdt: float
    top_ls: float
    global_ls: float
    t_df: float = 4.0


_PROFILES: dict[str, SymbolProfile] = {
    "BTCUSDT": SymbolProfile(90_000.0, 1.00, 0.00, 95e6, 1.35, 1.60, 4.5),
    "ETHUSDT": SymbolProfile(3_000.0, 1.29, 0.87, 100e6, 1.90, 2.15),
    "XRPUSDT": SymbolProfile(2.0, 1.32, 1.16, 12e6, 2.70, 2.45, 3.5),
    "SOLUSDT": SymbolProfile(130.0, 1.42, 0.95, 30e6, 2.40, 2.90),
    "DOGEUSDT": SymbolProfile(0.15, 1.45, 1.20, 8e6, 2.50, 2.80, 3.5),
    "TRXUSDT": SymbolProfile(0.28, 0.45, 0.90, 2e6, 1.80, 1.70),
    "BNBUSDT": SymbolProfile(850.0, 0.80, 0.80, 6e6, 1.60, 1.90),
    "LINKUSDT": SymbolProfile(13.0, 1.35, 1.10, 4e6, 2.20, 2.60),
    "AVAXUSDT": SymbolProfile(13.0, 1.40, 1.15, 3e6, 2.30, 2.70),
    "ADAUSDT": SymbolProfile(0.40, 1.35, 1.05, 4e6, 2.60, 2.90),
}


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    """Knobs of the model in the module docstring; defaults are tuned against one year of real XRPUSDT data."""

    btc_sigma: float = 0.0021
    garch_alpha: float = 0.07
    garch_beta: float = 0.91
    t_df_btc: float = 4.5
    z_clip: float = 15.0
    slow_vol_sd: float = 0.30
    slow_vol_halflife_bars: float = 4 * BARS_PER_DAY
    range_bars: float = 2.0 * BARS_PER_DAY
    trend_bars: float = 1.5 * BARS_PER_DAY
    trend_to_range: float = 0.75
    trend_drift: float = 0.08
    own_trend_drift: float = 0.04
    range_reversion: float = 0.01
    alt_factor_share: float = 0.40
    range_vol: float = 0.85
    trend_vol: float = 1.15
    wick_scale: float = 0.40
    volume_vol_loading: float = 0.8
    volume_move_loading: float = 0.50
    volume_burst_loading: float = 0.50
    volume_burst_bars: int = 8
    volume_noise_sd: float = 0.25
    volume_noise_phi: float = 0.95
    volume_spike_sd: float = 0.40
    volume_spike_df: float = 5.0

    def __post_init__(self) -> None:
        if not (self.garch_alpha >= 0 and self.garch_beta >= 0 and self.garch_alpha + self.garch_beta < 1):
            raise ConfigError(
                f"garch_alpha={self.garch_alpha}, garch_beta={self.garch_beta}: need both >= 0 and alpha + beta < 1"
            )
        if self.t_df_btc <= 2:
            raise ConfigError(f"t_df_btc={self.t_df_btc} must be > 2 (finite variance)")
        for name in ("btc_sigma", "range_bars", "trend_bars", "slow_vol_halflife_bars", "wick_scale"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)} must be > 0")
        if not 0 <= self.trend_to_range <= 1:
            raise ConfigError(f"trend_to_range={self.trend_to_range} must be in [0, 1]")
        if self.volume_spike_df <= 2 or self.volume_burst_bars < 1:
            raise ConfigError(f"volume_spike_df={self.volume_spike_df} must be > 2 and volume_burst_bars >= 1")
        if not 0 <= self.range_reversion < 1 or not 0 <= self.volume_noise_phi < 1:
            raise ConfigError("range_reversion and volume_noise_phi must be in [0, 1)")


@dataclass(frozen=True)
class SyntheticMarket:
    """One generated market: the combined table plus the raw series a replay exchange can serve."""

    symbol: str
    seed: int
    combined: pd.DataFrame  # UTC ms `timestamp` index, COMBINED_COLUMNS, float64
    ls_ratio: pd.DataFrame  # LS_RATIO_COLUMNS, one row per candle
    open_interest: pd.DataFrame  # timestamp, sum_open_interest (base asset)
    funding: pd.DataFrame  # funding_time, funding_rate (every 8 h)
    regime: pd.Series = field(repr=False)  # BTC regime per candle (REGIME_NAMES)


def symbol_profile(symbol: str) -> SymbolProfile:
    """Known profile, or a deterministic one derived from the SHA-256 of the name."""
    symbol = normalize_symbol(symbol)
    if symbol in _PROFILES:
        return _PROFILES[symbol]
    u = [b / 255.0 for b in hashlib.sha256(symbol.encode()).digest()[:6]]
    top = 1.2 + 1.8 * u[4]
    return SymbolProfile(
        price=float(f"{10 ** (-2 + 5 * u[0]):.4g}"),
        beta=0.8 + 0.7 * u[1],
        idio=0.8 + 0.6 * u[2],
        bar_notional_usdt=10 ** (6 + 1.3 * u[3]),
        top_ls=top,
        global_ls=top * (0.85 + 0.3 * u[5]),
    )


def generate_market(
    symbol: str,
    days: int,
    seed: int,
    end: pd.Timestamp = DEFAULT_END,
    params: SyntheticParams = SyntheticParams(),
) -> SyntheticMarket:
    """Generate `days` x 96 closed candles ending at `end` (exclusive, UTC, on a 15-minute boundary)."""
    symbol = normalize_symbol(symbol)
    n, index = _time_axis(days, seed, end)
    profile = symbol_profile(symbol)
    market_rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    symbol_rng = np.random.default_rng(np.random.SeedSequence([seed, 1, _name_key(symbol)]))

    season = _seasonality(index)
    regime = regime_path(market_rng, n, params.range_bars, params.trend_bars, params.trend_to_range)
    trend_dir = np.select([regime == TREND_UP, regime == TREND_DOWN], [1.0, -1.0], 0.0)
    regime_vol = np.where(regime == RANGE, params.range_vol, params.trend_vol)
    slow = ar1(market_rng.standard_normal(n), halflife_phi(params.slow_vol_halflife_bars), params.slow_vol_sd)
    z_btc = student_t(market_rng, params.t_df_btc, n, params.z_clip)
    sigma_btc = params.btc_sigma * season["vol"] * regime_vol * _exp(slow - params.slow_vol_sd**2 / 2)
    sigma_btc = sigma_btc * garch_scale(z_btc, params.garch_alpha, params.garch_beta)
    reversion = np.where(regime == RANGE, params.range_reversion, 0.0)
    r_btc = mean_reverting_returns(trend_dir * params.trend_drift * params.btc_sigma, sigma_btc * z_btc, reversion)

    eth = _PROFILES["ETHUSDT"]
    z_alt = student_t(market_rng, eth.t_df, n, params.z_clip)
    z_eth = blend(student_t(market_rng, eth.t_df, n, params.z_clip), z_alt, params.alt_factor_share)
    idio_eth = eth.idio * sigma_btc * garch_scale(z_eth, params.garch_alpha, params.garch_beta)
    r_eth = eth.beta * r_btc + idio_eth * z_eth
    sigma_eth = np.hypot(eth.beta * sigma_btc, idio_eth)

    btc_cols = _candles(market_rng, r_btc, sigma_btc, _PROFILES["BTCUSDT"], season, params)
    eth_cols = _candles(market_rng, r_eth, sigma_eth, eth, season, params)
    if symbol == "BTCUSDT":
        r_sym, sigma_sym, sym_cols = r_btc, sigma_btc, btc_cols
    elif symbol == "ETHUSDT":
        r_sym, sigma_sym, sym_cols = r_eth, sigma_eth, eth_cols
    else:
        own_regime = regime_path(symbol_rng, n, params.range_bars, params.trend_bars, params.trend_to_range)
        own_dir = np.select([own_regime == TREND_UP, own_regime == TREND_DOWN], [1.0, -1.0], 0.0)
        z_sym = blend(student_t(symbol_rng, profile.t_df, n, params.z_clip), z_alt, params.alt_factor_share)
        idio = profile.idio * sigma_btc * garch_scale(z_sym, params.garch_alpha, params.garch_beta)
        drift = own_dir * params.own_trend_drift * params.btc_sigma * profile.idio
        r_sym = profile.beta * r_btc + drift + idio * z_sym
        sigma_sym = np.hypot(profile.beta * sigma_btc, idio)
        sym_cols = _candles(symbol_rng, r_sym, sigma_sym, profile, season, params)

    data: dict[str, np.ndarray] = {}
    for suffix, cols in (("", sym_cols), ("_btc", btc_cols), ("_eth", eth_cols)):
        data.update({f"{name}{suffix}": values for name, values in cols.items()})
    oi_level = _open_interest(symbol_rng, r_sym, sigma_sym, profile)
    oi_change = np.empty(n)
    oi_change[0] = np.nan
    oi_change[1:] = oi_level[1:] / oi_level[:-1] - 1.0
    data["oi_change"] = oi_change
    funding = _funding(symbol_rng, index, np.cumsum(r_sym))
    slot = np.searchsorted(pd.DatetimeIndex(funding["funding_time"]).asi8, index.asi8, side="right") - 1
    data["funding_rate"] = funding["funding_rate"].to_numpy()[slot]

    combined = validate_combined_frame(pd.DataFrame(data, index=index)[list(COMBINED_COLUMNS)], source="synthetic")
    return SyntheticMarket(
        symbol=symbol,
        seed=seed,
        combined=combined,
        ls_ratio=_ls_ratio(symbol_rng, index, r_sym, profile),
        open_interest=pd.DataFrame({"timestamp": index, "sum_open_interest": oi_level}),
        funding=funding,
        regime=pd.Series(regime, index=index, name="regime"),
    )


# --------------------------------------------------------------------------------------------------------------
# building blocks (pure functions of a Generator and arrays)
# --------------------------------------------------------------------------------------------------------------


def _time_axis(days: int, seed: int, end: pd.Timestamp) -> tuple[int, pd.DatetimeIndex]:
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise ConfigError(f"days={days!r} must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r} must be a non-negative integer")
    end = pd.Timestamp(end)
    if end.tzinfo is None:
        raise ConfigError(f"end={end} is timezone-naive; pass a UTC timestamp")
    end = end.tz_convert("UTC")
    if end.value % (BAR_MS * 1_000_000):
        raise ConfigError(f"end={end} is not on a 15-minute boundary")
    n = int(days) * BARS_PER_DAY
    grid = pd.date_range(end=end - BAR, periods=n, freq=BAR, name="timestamp").as_unit("ms")
    return n, pd.DatetimeIndex(grid, freq=None)  # no freq, like frames read from Parquet or the warehouse


def _name_key(symbol: str) -> int:
    return int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "little")


def _seasonality(index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Activity multipliers per candle: volume follows activity, volatility its square root (unit mean square)."""
    hour = _HOUR_ACTIVITY / _HOUR_ACTIVITY.mean()
    weekday = _WEEKDAY_ACTIVITY / _WEEKDAY_ACTIVITY.mean()
    activity = hour[index.hour.to_numpy()] * weekday[index.day_of_week.to_numpy()]
    vol = np.sqrt(activity)
    return {"activity": activity, "vol": vol / math.sqrt(float(np.mean(vol**2)))}


def _candles(
    rng: np.random.Generator,
    r: np.ndarray,
    sigma: np.ndarray,
    profile: SymbolProfile,
    season: dict[str, np.ndarray],
    p: SyntheticParams,
) -> dict[str, np.ndarray]:
    """OHLCV from log-returns: continuous opens, exponential wicks, volume tied to volatility and move size."""
    n = len(r)
    log_close = np.cumsum(r)
    log_close += math.log(profile.price) - log_close[-1]
    close = _exp(log_close)
    open_ = np.empty(n)
    open_[0] = close[0] * math.exp(-r[0])
    open_[1:] = close[:-1]
    wick_up = rng.exponential(1.0, n) * p.wick_scale * sigma
    wick_dn = rng.exponential(1.0, n) * p.wick_scale * sigma
    high = np.maximum(open_, close) * _exp(wick_up)
    low = np.minimum(open_, close) * _exp(-wick_dn)
    move = np.abs(r / sigma)
    window = p.volume_burst_bars
    cum = np.cumsum(np.concatenate([np.zeros(window), r]))
    burst = np.abs(cum[window:] - cum[:-window]) / (sigma * math.sqrt(window))
    noise = ar1(rng.standard_normal(n), p.volume_noise_phi, p.volume_noise_sd)
    spikes = np.abs(student_t(rng, p.volume_spike_df, n, p.z_clip))
    noise += p.volume_spike_sd * (spikes - spikes.mean())  # one-sided: bursts up, never near-empty candles
    log_notional = (
        math.log(profile.bar_notional_usdt)
        + _log(season["activity"])
        + p.volume_vol_loading * (_log(sigma / season["vol"]) - _log(sigma / season["vol"]).mean())
        + p.volume_move_loading * (move - move.mean())
        + p.volume_burst_loading * (burst - burst.mean())
        + noise
    )
    return {"open": open_, "high": high, "low": low, "close": close, "volume": _exp(log_notional) / close}


def _open_interest(rng: np.random.Generator, r: np.ndarray, sigma: np.ndarray, profile: SymbolProfile) -> np.ndarray:
    """OI (base asset): orderly moves add positions, shocks (|z| > 2.5) liquidate them; slowly mean-reverting."""
    n = len(r)
    move = np.abs(r)
    shock = np.abs(r / sigma) > 2.5
    innovation = 0.0012 * rng.standard_normal(n) + 0.25 * move * ~shock - 1.5 * move * shock
    innovation -= innovation.mean()
    x = ar1_filter(innovation, halflife_phi(20 * BARS_PER_DAY))
    oi_notional = 150.0 * profile.bar_notional_usdt
    return oi_notional / profile.price * _exp(x)


def _funding(rng: np.random.Generator, index: pd.DatetimeIndex, log_price: np.ndarray) -> pd.DataFrame:
    """Settled funding every 8 h (premium index + clamped interest, as Binance), starting at the last settlement
    at or before the first candle so every candle has a rate."""
    first = index[0].floor(FUNDING_INTERVAL)
    times = pd.date_range(first, index[-1], freq=FUNDING_INTERVAL, name="funding_time").as_unit("ms")
    pos = np.clip(np.searchsorted(index.asi8, times.asi8, side="right") - 1, 0, None)
    lookback = 3 * BARS_PER_DAY
    momentum = log_price[pos] - log_price[np.clip(pos - lookback, 0, None)]
    premium = -5.0e-4 + 0.001 * momentum + ar1(rng.standard_normal(len(times)), 0.8, 1.2e-4)
    interest = 1e-4
    rate = premium + np.clip(interest - premium, -5e-4, 5e-4)  # Binance: F = P + clamp(I - P, +-0.05 %)
    rate = np.round(np.clip(rate, -3e-3, 3e-3), 8)
    rate = np.where(rate == 0.0, 1e-8, rate)
    return pd.DataFrame({"funding_time": times, "funding_rate": rate.astype("float64")})


def _ls_ratio(
    rng: np.random.Generator, index: pd.DatetimeIndex, r: np.ndarray, profile: SymbolProfile
) -> pd.DataFrame:
    """Contrarian account ratios: more accounts go long after price falls; rounded like Binance (4 decimals)."""
    n = len(r)
    top_log = ar1_filter(-1.5 * r + 0.004 * rng.standard_normal(n), halflife_phi(BARS_PER_DAY))
    spread = ar1(rng.standard_normal(n), halflife_phi(BARS_PER_DAY / 2), 0.02)
    top = np.round(profile.top_ls * _exp(top_log), 4)
    glob = np.round(profile.global_ls * _exp(1.1 * top_log + spread), 4)
    frame = pd.DataFrame({"timestamp": index, "top_acct_ls_ratio": top, "global_ls_ratio": glob})
    return frame[list(LS_RATIO_COLUMNS)].reset_index(drop=True)
