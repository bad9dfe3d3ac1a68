"""Robust Monte-Carlo position sizing from walk-forward trades (spec 20 §6.2, with the BT-14 fix).

Steps: R-multiples of the trades (net PnL over the money at risk, |entry − SL| × quantity); observed win rate and
average win/loss in R; Kelly; an uncertainty box around those estimates; a consecutive-loss table; a robust
Monte Carlo per risk level (parameters drawn from the box per simulation, compounding, ruin at 20 % of the start)
and a worst-case one (box pinned to its pessimistic corner); then the recommendation = the smallest positive of
{best robust risk, best worst-case risk, worst-case Kelly / 2}, default 1 %, clamped to [0.5 %, 5 %].
BT-14: the margin hint uses the symbol's own leverage, SL multiple and observed ATR %, not fixed 10× / 1 ATR.
Random draws follow the reference order per simulation (win rate, win R, loss R, then one uniform per trade)
from `numpy.random.default_rng(seed)` re-created for every risk level, so results are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.pipeline import PreparedMarket


@dataclass(frozen=True)
class SizingParams:
    """Knobs of the analysis; the defaults are the reference script's."""

    risks: tuple[float, ...] = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.07)
    streak_risks: tuple[float, ...] = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05)
    streaks: tuple[int, ...] = (4, 6, 8, 10, 12)
    n_sims: int = 10_000
    n_trades: int = 200
    start_balance: float = 1000.0
    ruin_fraction: float = 0.20
    seed: int = 42
    max_ruin_pct: float = 1.0
    max_p95_dd_pct: float = 30.0
    min_trades: int = 5
    default_risk: float = 0.01
    risk_bounds: tuple[float, float] = (0.005, 0.05)
    atr_pcts: tuple[float, ...] = (1.0, 1.2, 1.5)
    max_margin_ratio: float = 0.50


Box = dict[str, tuple[float, float]]


def r_multiples(trades: pd.DataFrame) -> np.ndarray:
    """net PnL / (|entry − SL| × quantity) per trade; trades without money at risk are skipped."""
    risk = (trades["entry_price"] - trades["sl"]).abs().to_numpy(np.float64) * trades["quantity"].to_numpy(np.float64)
    net = trades["net_pnl"].to_numpy(np.float64)
    ok = risk > 0
    return net[ok] / risk[ok]


def kelly(wr: float, win_r: float, loss_r_abs: float) -> float:
    """(wr·W − (1−wr)·|L|) / W, 0 when W ≤ 0 or the edge is not positive."""
    if win_r <= 0:
        return 0.0
    edge = wr * win_r - (1.0 - wr) * loss_r_abs
    return edge / win_r if edge > 0 else 0.0


def observed(r: np.ndarray) -> dict[str, float]:
    wins, losses = r[r > 0], r[r <= 0]
    wr = wins.size / r.size
    w = float(wins.mean()) if wins.size else 0.0
    l_ = float(losses.mean()) if losses.size else 0.0
    return {"trades": int(r.size), "win_rate": wr, "win_r": w, "loss_r": l_, "expectancy_r": wr * w + (1 - wr) * l_,
            "kelly": kelly(wr, w, abs(l_))}  # fmt: skip


def uncertainty_box(wr: float, win_r: float, loss_r: float) -> Box:
    """Ranges around the estimates (reference bounds; the loss range's first bound is the more negative)."""
    return {
        "win_rate": (max(0.25, wr - 0.10), min(0.55, wr + 0.07)),
        "win_r": (max(2.0, win_r - 1.0), win_r + 1.2),
        "loss_r": (loss_r - 0.3, min(-0.8, loss_r + 0.3)),
    }


def worst_box(box: Box, loss_r: float) -> Box:
    wr_lo, w_lo, l_lo = box["win_rate"][0], box["win_r"][0], loss_r - 0.3
    return {"win_rate": (wr_lo, wr_lo + 0.001), "win_r": (w_lo, w_lo + 0.001), "loss_r": (l_lo, l_lo + 0.001)}


def consecutive_loss_table(risks: tuple[float, ...], streaks: tuple[int, ...]) -> list[dict[str, Any]]:
    """Balance left (% of start) after n straight 1R losses at each risk level."""
    return [{"risk": r, **{str(n): round((1 - r) ** n * 100.0, 1) for n in streaks}} for r in risks]


def simulate(box: Box, risk: float, p: SizingParams) -> dict[str, float]:
    """Monte Carlo of `p.n_sims` paths of `p.n_trades` trades at fixed fractional `risk` (compounding)."""
    rng = np.random.default_rng(p.seed)
    u = rng.random((p.n_sims, 3 + p.n_trades))
    params = [lo + (hi - lo) * u[:, i] for i, (lo, hi) in enumerate((box["win_rate"], box["win_r"], box["loss_r"]))]
    wr, win_r, loss_r = params
    outcome = np.where(u[:, 3:] < wr[:, None], win_r[:, None], loss_r[:, None])
    balance = p.start_balance * np.cumprod(1.0 + risk * outcome, axis=1)
    ruined = np.any(balance <= p.ruin_fraction * p.start_balance, axis=1)
    peak = np.maximum.accumulate(np.concatenate((np.full((p.n_sims, 1), p.start_balance), balance), axis=1), axis=1)[:, 1:]
    max_dd = np.max((peak - balance) / peak, axis=1) * 100.0
    final = np.where(ruined, 0.0, balance[:, -1])
    max_dd = np.where(ruined, 100.0, max_dd)
    ret = (final - p.start_balance) / p.start_balance * 100.0
    q = np.percentile(ret, [5, 25, 50, 75, 95])
    return {
        "risk": risk,
        "ruin_pct": round(float(ruined.mean()) * 100.0, 2),
        "p5_return_pct": round(float(q[0]), 1),
        "p25_return_pct": round(float(q[1]), 1),
        "median_return_pct": round(float(q[2]), 1),
        "p75_return_pct": round(float(q[3]), 1),
        "p95_return_pct": round(float(q[4]), 1),
        "median_max_dd_pct": round(float(np.median(max_dd)), 1),
        "p95_max_dd_pct": round(float(np.percentile(max_dd, 95)), 1),
    }


def best_risk(rows: list[dict[str, float]], p: SizingParams) -> float | None:
    """Highest median return among risks with ruin ≤ limit and p95 drawdown ≤ limit."""
    ok = [r for r in rows if r["ruin_pct"] <= p.max_ruin_pct and r["p95_max_dd_pct"] <= p.max_p95_dd_pct]
    return max(ok, key=lambda r: r["median_return_pct"])["risk"] if ok else None


def recommend(candidates: list[float | None], p: SizingParams) -> float:
    positive = [c for c in candidates if c is not None and c > 0]
    value = min(positive) if positive else p.default_risk
    return float(min(max(value, p.risk_bounds[0]), p.risk_bounds[1]))


def margin_hint(risk: float, leverage: float, sl_mult: float, atr_pcts: list[float], cap: float) -> list[dict[str, float]]:
    """MARGIN_MAX_RATIO that risks `risk` of the balance when the stop is `sl_mult` ATR away (BT-14):
    loss at the stop = margin × leverage × sl_mult × ATR% → margin = risk / (leverage × sl_mult × ATR%)."""
    return [
        {"atr_pct": round(a, 3), "margin_max_ratio": round(min(risk / (leverage * sl_mult * a / 100.0), cap), 4)}
        for a in atr_pcts
        if a > 0
    ]


def sizing_analysis(
    trades: pd.DataFrame, symbol: str, leverage: float, sl_mult: float, observed_atr_pct: float | None,
    p: SizingParams = SizingParams(),
) -> dict[str, Any]:  # fmt: skip
    """The whole analysis for one symbol's trades; fewer than `p.min_trades` usable trades → DataError."""
    r = r_multiples(trades)
    if r.size < p.min_trades:
        raise DataError(f"{symbol}: {r.size} trades with a stop-loss; position sizing needs at least {p.min_trades}")
    obs = observed(r)
    box = uncertainty_box(obs["win_rate"], obs["win_r"], obs["loss_r"])
    worst = worst_box(box, obs["loss_r"])
    worst_kelly = kelly(box["win_rate"][0], box["win_r"][0], abs(obs["loss_r"] - 0.3))
    robust = [simulate(box, risk, p) for risk in p.risks]
    pessimistic = [simulate(worst, risk, p) for risk in p.risks]
    best, worst_best = best_risk(robust, p), best_risk(pessimistic, p)
    rec = recommend([best, worst_best, worst_kelly / 2.0], p)
    atrs = list(p.atr_pcts) + ([observed_atr_pct] if observed_atr_pct else [])
    return {
        "symbol": symbol,
        "observed": obs,
        "box": {k: list(v) for k, v in box.items()},
        "kelly": {
            "observed": obs["kelly"],
            "worst_case": worst_kelly,
            "best_case": kelly(box["win_rate"][1], box["win_r"][1], abs(box["loss_r"][1])),
        },
        "consecutive_losses": consecutive_loss_table(p.streak_risks, p.streaks),
        "robust": robust,
        "worst_case": pessimistic,
        "best_risk": best,
        "worst_case_best_risk": worst_best,
        "recommended_risk": rec,
        "balance_after_losses": {str(n): round(p.start_balance * (1 - rec) ** n, 2) for n in (6, 10)},
        "margin_hint": {"leverage": leverage, "sl_mult": sl_mult, "observed_atr_pct": observed_atr_pct,
                        "rows": margin_hint(rec, leverage, sl_mult, atrs, p.max_margin_ratio)},
        "r_multiples": [round(float(x), 4) for x in r],
        "simulation": {"n_sims": p.n_sims, "n_trades": p.n_trades, "seed": p.seed},
    }  # fmt: skip


def observed_atr_pct(market: PreparedMarket, trades: pd.DataFrame) -> float | None:
    """Median ATR / close (%) at the trades' entries: the volatility the stops were actually set in."""
    if trades.empty:
        return None
    rows = market.frame.loc[pd.DatetimeIndex(trades["entry_time"])]
    ratio = (rows["atr"] / rows["close"]).to_numpy(np.float64)
    ratio = ratio[np.isfinite(ratio)]
    return round(float(np.median(ratio)) * 100.0, 3) if ratio.size else None


def sizing_for_market(
    market: PreparedMarket, cfg: BacktestConfig, wf: WalkForwardConfig, p: SizingParams = SizingParams()
) -> dict[str, Any]:
    """Walk-forward trades of `cfg` (ML off) → `sizing_analysis` with the symbol's leverage and SL multiple."""
    result = run_walk_forward(market, cfg, wf)
    analysis = sizing_analysis(
        result.trades, cfg.symbol, cfg.leverage, cfg.params.atr_sl_mult, observed_atr_pct(market, result.trades), p
    )
    analysis["params"] = cfg.params.as_dict()
    analysis["backtest_summary"] = result.summary
    return analysis
