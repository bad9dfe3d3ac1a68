"""Reference check (spec 00 "Reference results", 20 §11): our engine vs the original backtester, side by side.

For R1–R5 (XRPUSDT) and R7 (SOLUSDT), walk-forward train 3 / test 1 / step 3 months, ML off, prints
original | ours with EngineRules.legacy() | ours with the platform default. Then, for the platform default, a
ladder starting from the legacy rules switches one rule at a time to its fixed value (rules.RULE_FIXES) and lists
every trade that appears, disappears or closes differently, labelled with the decision/bug ID that caused it.

    .venv/bin/python bench/reference_check.py [--data-dir ../shared/data/binance-um-15m] [--only R1,R4,R-P2]

Then the multi-symbol references of spec 40 §A.10 (R-P1, R-P2 walk-forward 3/1, R-P3: one shared account), legacy
rules against the original's figures and first five trades, next to the platform default, with the same
one-rule-at-a-time ladder (trades keyed by symbol + entry time + side).
Exit code 1 when a legacy run misses the reference (trade count exact, PF within ±0.01, first five trades).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trader_runtime.backtest.compare import diff_trades  # noqa: E402
from trader_runtime.backtest.engine import BacktestResult  # noqa: E402
from trader_runtime.backtest.portfolio import run_portfolio, run_portfolio_walk_forward  # noqa: E402
from trader_runtime.backtest.rules import RULE_FIXES, EngineRules  # noqa: E402
from trader_runtime.backtest.walk_forward import run_walk_forward  # noqa: E402
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig  # noqa: E402
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "binance-um-15m"
WF = WalkForwardConfig(train_months=3, test_months=1, step_months=3)


@dataclass(frozen=True)
class Reference:
    rid: str
    symbol: str
    params: StrategyParams
    trades: int
    pf: float
    pnl: float | None
    legacy_mdd: float | None = None
    legacy_sharpe: float | None = None
    folds: tuple[int, ...] | None = None
    return_pct: float | None = None


REFERENCES = (
    Reference("R1", "XRPUSDT", StrategyParams(2.0, 2.0, 3, 25.0, 2.5), 27, 1.57, 217.60, 12.03, 40.13, (9, 10, 8)),
    Reference("R2", "XRPUSDT", StrategyParams(1.5, 4.0, 3, 30.0, 2.5), 19, 2.39, 469.95, 7.02, 73.56, (9, 5, 5)),
    Reference("R3", "XRPUSDT", StrategyParams(1.5, 4.0, 3, 25.0, 2.5), 28, 1.75, 381.07, 13.11),
    Reference("R4", "XRPUSDT", StrategyParams(1.5, 3.0, 3, 0.0, 1.5), 47, 0.71, -286.23, 33.35, None, (15, 15, 17)),
    Reference("R5", "XRPUSDT", StrategyParams(1.5, 3.0, 2, 15.0, 1.5), 53, 1.16, 121.66, 25.63, return_pct=12.17),
    Reference("R7", "SOLUSDT", StrategyParams(1.0, 4.0, 3, 20.0, 2.5), 31, 2.82, None, 10.77, return_pct=90.56),
)


@dataclass(frozen=True)
class PortfolioReference:
    rid: str
    symbols: tuple[str, ...]
    walk_forward: bool
    trades: int
    pf: float
    pnl: float
    fees: float
    legacy_mdd: float
    legacy_sharpe: float
    kill: str
    first: tuple[tuple[str, str, str, float, float, str, float], ...]  # entry, symbol, side, qty, entry, reason, net


PORTFOLIO_PARAMS = StrategyParams(1.5, 4.0, 3, 25.0, 2.5)
PORTFOLIO_WF = WalkForwardConfig(train_months=3, test_months=1)  # the original's step = train (3) is BT-09; §A.10 uses 3/1
PORTFOLIO_REFERENCES = (
    PortfolioReference("R-P1", ("XRPUSDT", "TRXUSDT", "DOGEUSDT"), False, 15, 0.27, -141.3275, 18.4901, 12.05, -108.47,
                       "slow, trade 15, 2025-04-01", (
        ("2025-03-06 14:30", "DOGEUSDT", "LONG", 8200.9, 0.203250, "SL", -23.736531),
        ("2025-03-07 13:30", "DOGEUSDT", "LONG", 7874.9, 0.206641, "SL", -20.191797),
        ("2025-03-07 14:45", "DOGEUSDT", "LONG", 7733.7, 0.206061, "SL", -24.398817),
        ("2025-03-08 22:00", "TRXUSDT", "SHORT", 6362.6, 0.244026, "TP", 11.921462),
        ("2025-03-11 00:15", "DOGEUSDT", "SHORT", 10459.3, 0.150345, "SL", -39.062946))),
    PortfolioReference("R-P2", ("XRPUSDT", "TRXUSDT", "DOGEUSDT"), True, 53, 0.92, -33.4232, 69.3982, 11.76, -6.21,
                       "fold 1 fast (8), fold 2 slow (17)", (
        ("2025-06-09 09:45", "DOGEUSDT", "SHORT", 9041.8, 0.184312, "SL", -13.462104),
        ("2025-06-11 17:00", "TRXUSDT", "LONG", 5811.2, 0.282968, "SL", -13.988269),
        ("2025-06-12 11:15", "XRPUSDT", "SHORT", 728.8, 2.223978, "SL", -8.939620),
        ("2025-06-12 15:45", "DOGEUSDT", "SHORT", 8643.8, 0.185781, "SL", -15.953454),
        ("2025-06-12 20:30", "XRPUSDT", "LONG", 722.5, 2.186419, "SL", -13.469191))),
    PortfolioReference("R-P3", ("XRPUSDT", "SOLUSDT"), False, 35, 1.11, 64.9443, 67.2140, 14.93, 8.42,
                       "slow, trade 35, 2025-05-20", (
        ("2025-03-24 00:15", "SOLUSDT", "SHORT", 18.6, 134.396559, "SL", -20.476021),
        ("2025-03-24 10:30", "SOLUSDT", "LONG", 17.3, 141.704169, "SL", -23.225391),
        ("2025-03-26 13:45", "XRPUSDT", "LONG", 989.9, 2.415342, "SL", -17.530052),
        ("2025-03-29 11:15", "SOLUSDT", "SHORT", 18.8, 125.037495, "SL", -22.188927),
        ("2025-03-29 09:30", "XRPUSDT", "SHORT", 1122.2, 2.091091, "SL", -31.170196))),
)  # fmt: skip


def _portfolio_run(ref: PortfolioReference, markets: list[PreparedMarket], rules: EngineRules) -> BacktestResult:
    wf = WalkForwardConfig(3, 1, 3) if rules.is_legacy or not rules.continuous_walk_forward else PORTFOLIO_WF
    cfg = BacktestConfig(params=PORTFOLIO_PARAMS, rules=rules, symbols=ref.symbols)
    if ref.walk_forward:
        return run_portfolio_walk_forward(markets, cfg, WalkForwardConfig(3, 1, 3) if rules.is_legacy else wf)
    return run_portfolio(markets, cfg)


def _first_five(r: BacktestResult) -> tuple:
    return tuple(
        (t.entry_time.strftime("%Y-%m-%d %H:%M"), t.symbol, t.side, t.quantity, round(t.entry_price, 6), t.close_reason,
         round(t.net_pnl, 6))
        for t in r.trades.head(5).itertuples()
    )  # fmt: skip


def portfolio_section(ref: PortfolioReference, markets: list[PreparedMarket]) -> tuple[bool, list[str]]:
    legacy = _portfolio_run(ref, markets, EngineRules.legacy())
    fixed = _portfolio_run(ref, markets, EngineRules())
    ls, fs = legacy.summary, fixed.summary
    ok = (
        int(ls["total_trades"]) == ref.trades and abs(float(ls["profit_factor"]) - ref.pf) <= 0.01 + 1e-9
        and _first_five(legacy) == ref.first
    )  # fmt: skip
    kind = "walk-forward 3/1" + (" (legacy: step 3, folds restart; default: continuous account, step 1)" if ref.walk_forward else "")
    lines = [f"{ref.rid} {','.join(ref.symbols)} SL 1.5 / TP 4.0 / signal 3 / ADX 25 / vol 2.5, ML off, {kind if ref.walk_forward else 'full period'}"]
    lines.append(_row("", "original", "ours legacy", "ours platform"))
    lines.append(_row("trades", ref.trades, ls["total_trades"], fs["total_trades"]))
    lines.append(_row("profit factor", ref.pf, ls["profit_factor"], fs["profit_factor"]))
    lines.append(_row("net PnL USDT", ref.pnl, ls["total_pnl"], fs["total_pnl"]))
    lines.append(_row("fees USDT", ref.fees, ls["total_fees"], fs["total_fees"]))
    lines.append(_row("funding USDT", 0.0, ls["total_funding"], fs["total_funding"]))
    lines.append(_row("MDD % per trade (ref.)", ref.legacy_mdd, ls["legacy_metrics"]["max_drawdown_pct"], fs["legacy_metrics"]["max_drawdown_pct"]))
    lines.append(_row("Sharpe ×√35040 (ref.)", ref.legacy_sharpe, ls["legacy_metrics"]["sharpe_ratio"], fs["legacy_metrics"]["sharpe_ratio"]))
    lines.append(_row("MDD % equity (D13)", None, ls["max_drawdown_pct"], fs["max_drawdown_pct"]))
    lines.append(_row("lowest equity USDT", None, ls["min_equity"], fs["min_equity"]))
    lines.append(_row("liquidations", None, ls["liquidations"], fs["liquidations"]))
    for sym in sorted(ref.symbols):
        a, b = legacy.per_symbol[sym], fixed.per_symbol[sym]
        lines.append(_row(f"  {sym} trades / PF", None, f"{a['total_trades']} / {_f(a['profit_factor'])}", f"{b['total_trades']} / {_f(b['profit_factor'])}"))
    lines.append(f"  {'kill switch (original)':<24}{ref.kill}")
    for name, r in (("legacy", legacy), ("platform", fixed)):
        halts = "; ".join(f"{h['scope']} {h['kind']} {h['start']:%Y-%m-%d} → {h['end']:%Y-%m-%d}"
                          for h in r.halted_periods if h["kind"] != "daily_loss_limit") or "-"  # fmt: skip
        daily = sum(1 for h in r.halted_periods if h["kind"] == "daily_loss_limit")
        lines.append(f"  halted ({name}): {halts}; daily-limit days {daily}")
    lines.append(f"  first five trades: {'MATCH' if _first_five(legacy) == ref.first else 'MISMATCH'}")
    lines.append(f"  legacy vs original: {'MATCH' if ok else 'MISMATCH'} (trades exact, PF ±0.01, first five trades)")
    lines.append("  platform default vs legacy, one rule at a time (trades keyed by symbol + entry time + side):")
    rules = EngineRules.legacy()
    prev = legacy
    for fix in RULE_FIXES:
        rules = fix.apply(rules)
        cur = _portfolio_run(ref, markets, rules)
        d = diff_trades(prev.trades, cur.trades)
        head = f"    {fix.label:<14} {fix.field}={fix.fixed_value!s:<11}"
        if d.empty:
            lines.append(f"{head} no trade changes")
        else:
            lines.append(
                f"{head} +{len(d.added)} added, -{len(d.removed)} removed, {len(d.changed_exit)} exit changed, "
                f"{len(d.resized)} resized/repriced; trades {prev.summary['total_trades']} → {cur.summary['total_trades']}, "
                f"PnL Δ {d.pnl_delta:+.2f}  ({fix.description})"
            )
        prev = cur
    return ok, lines


def legacy_matches(ref: Reference, result: BacktestResult) -> bool:
    s = result.summary
    return int(s["total_trades"]) == ref.trades and abs(float(s["profit_factor"]) - ref.pf) <= 0.01 + 1e-9


def _f(x: object, nd: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "inf" if math.isinf(x) else f"{x:.{nd}f}"
    return str(x)


def _row(name: str, *cells: object) -> str:
    return f"  {name:<24}" + "".join(f"{_f(c):>16}" for c in cells)


def side_by_side(ref: Reference, legacy: BacktestResult, fixed: BacktestResult) -> list[str]:
    def folds(r: BacktestResult) -> str:
        return "/".join(str(f.summary["total_trades"]) for f in r.folds)

    def kills(r: BacktestResult) -> str:
        return "/".join((h["kill_switch"] or "-") for h in r.halts)

    ls, fs = legacy.summary, fixed.summary
    lines = [_row("", "original", "ours legacy", "ours platform")]
    lines.append(_row("trades", ref.trades, ls["total_trades"], fs["total_trades"]))
    lines.append(_row("profit factor", ref.pf, ls["profit_factor"], fs["profit_factor"]))
    lines.append(_row("net PnL USDT", ref.pnl, ls["total_pnl"], fs["total_pnl"]))
    lines.append(_row("return %", ref.return_pct, ls["return_pct"], fs["return_pct"]))
    lines.append(_row("MDD % per trade (ref.)", ref.legacy_mdd, ls["legacy_metrics"]["max_drawdown_pct"], fs["legacy_metrics"]["max_drawdown_pct"]))
    lines.append(_row("Sharpe ×√35040 (ref.)", ref.legacy_sharpe, ls["legacy_metrics"]["sharpe_ratio"], fs["legacy_metrics"]["sharpe_ratio"]))
    lines.append(_row("MDD % equity (D13)", None, ls["max_drawdown_pct"], fs["max_drawdown_pct"]))
    lines.append(_row("Sharpe daily (D13)", None, ls["sharpe"], fs["sharpe"]))
    lines.append(_row("trades per fold", "/".join(map(str, ref.folds)) if ref.folds else None, folds(legacy), folds(fixed)))
    lines.append(_row("kill switch per fold", None, kills(legacy), kills(fixed)))
    return lines


def _trade_line(tag: str, row: pd.Series, suffix: str = "") -> str:
    g = (lambda c: row[c + suffix]) if suffix else (lambda c: row[c])
    return (
        f"      {tag} fold {int(g('fold'))} {row['side']:<5} entry {row['entry_time']:%Y-%m-%d %H:%M} "
        f"exit {g('exit_time'):%Y-%m-%d %H:%M} {g('close_reason'):<11} net {g('net_pnl'):+9.2f}"
    )


def ladder(prepared: PreparedMarket, base: BacktestConfig, legacy: BacktestResult) -> list[str]:
    """Switch the legacy rules to the fixed ones one at a time; attribute each trade difference to that rule."""
    lines: list[str] = []
    rules = EngineRules.legacy()
    prev = legacy
    for fix in RULE_FIXES:
        rules = fix.apply(rules)
        cur = run_walk_forward(prepared, replace(base, rules=rules), WF)
        d = diff_trades(prev.trades, cur.trades)
        head = f"    {fix.label:<14} {fix.field}={fix.fixed_value!s:<11}"
        if d.empty:
            lines.append(f"{head} no trade changes")
        else:
            lines.append(
                f"{head} +{len(d.added)} added, -{len(d.removed)} removed, {len(d.changed_exit)} exit changed, "
                f"{len(d.resized)} resized/repriced; PnL Δ {d.pnl_delta:+.2f}  ({fix.description})"
            )
            for _, r in d.removed.iterrows():
                lines.append(_trade_line("-", r))
            for _, r in d.added.iterrows():
                lines.append(_trade_line("+", r))
            for _, r in d.changed_exit.iterrows():
                lines.append(_trade_line("~ was", r, "_old"))
                lines.append(_trade_line("  now", r, "_new"))
            if len(d.resized):
                dq = (d.resized["quantity_new"] - d.resized["quantity_old"]).abs()
                dp = (d.resized["exit_price_new"] - d.resized["exit_price_old"]).abs()
                lines.append(
                    f"      {len(d.resized)} trade(s) same entry/exit: max |Δqty| {dq.max():.4g}, "
                    f"{int((dp > 1e-12).sum())} with a different fill price, Σ net Δ "
                    f"{(d.resized['net_pnl_new'] - d.resized['net_pnl_old']).sum():+.4f}"
                )
        prev = cur
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--only", default="", help="comma list of reference IDs, e.g. R1,R4")
    args = ap.parse_args(argv)
    wanted = {x.strip().upper() for x in args.only.split(",") if x.strip()}
    markets: dict[str, PreparedMarket] = {}
    failures = 0

    def load(symbol: str) -> PreparedMarket | None:
        path = args.data_dir / f"{symbol.lower()}_combined_15m.parquet"
        if not path.exists():
            return None
        if symbol not in markets:
            markets[symbol] = prepare_market(pd.read_parquet(path), symbol)
        return markets[symbol]

    for ref in REFERENCES:
        if wanted and ref.rid not in wanted:
            continue
        path = args.data_dir / f"{ref.symbol.lower()}_combined_15m.parquet"
        if not path.exists():
            print(f"{ref.rid}: skipped, {path} not found")
            continue
        if ref.symbol not in markets:
            markets[ref.symbol] = prepare_market(pd.read_parquet(path), ref.symbol)
        prepared = markets[ref.symbol]
        p = ref.params
        base = BacktestConfig(symbol=ref.symbol, params=p)
        legacy = run_walk_forward(prepared, replace(base, rules=EngineRules.legacy()), WF)
        fixed = run_walk_forward(prepared, base, WF)
        ok = legacy_matches(ref, legacy)
        failures += 0 if ok else 1
        title = (
            f"{ref.rid} {ref.symbol} SL {p.atr_sl_mult} / TP {p.atr_tp_mult} / signal {p.signal_threshold} / "
            f"ADX {p.adx_threshold:g} / vol {p.volume_multiplier}  (WF 3/1 step 3, ML off)"
        )
        print("=" * len(title))
        print(title)
        print("\n".join(side_by_side(ref, legacy, fixed)))
        print(f"  legacy vs original: {'MATCH' if ok else 'MISMATCH'} (trades exact, PF ±0.01)")
        print("  platform default vs legacy, one rule at a time (trades keyed by entry time + side):")
        print("\n".join(ladder(prepared, base, legacy)))
        print(
            "  metrics: D13 MDD is measured on the mark-to-market equity with the peak starting at the initial balance"
            " (the reference uses closed trades from the first trade on); D13 Sharpe uses daily equity returns × √365"
            " (reference: per-trade PnL × √35040)."
        )
    for pref in PORTFOLIO_REFERENCES:
        if wanted and pref.rid not in wanted:
            continue
        ms = [load(sym) for sym in pref.symbols]
        if any(m is None for m in ms):
            print(f"{pref.rid}: skipped, data not found in {args.data_dir}")
            continue
        ok, lines = portfolio_section(pref, ms)  # type: ignore[arg-type]
        failures += 0 if ok else 1
        print("=" * len(lines[0]))
        print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
