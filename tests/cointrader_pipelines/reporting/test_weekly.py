from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from cointrader_pipelines.reporting.discord import format_weekly_summary
from cointrader_pipelines.reporting.html import render_weekly_html
from cointrader_pipelines.reporting.journal_trades import read_closed_trades
from cointrader_pipelines.reporting.performance import combined_summary
from cointrader_pipelines.reporting.weekly import (
    WeeklyInputs,
    WeeklyReport,
    build_weekly_report,
    latest_report_date,
    load_latest_checklist,
    load_reports,
    report_window,
    write_report_json,
)
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, PRODUCTION_PARAMS, StrategyParams, WalkForwardConfig
from trader_runtime.strategy.pipeline import prepare_market

NOW = pd.Timestamp("2025-12-28 00:00", tz="UTC")


def _strict(text: str) -> dict:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _inputs(synthetic, report_date, **changes) -> WeeklyInputs:
    base = dict(
        window=report_window(report_date),
        markets={"XRPUSDT": synthetic.combined},
        params={"XRPUSDT": PRODUCTION_PARAMS},
        ls_ratios={"xrp": synthetic.ls_ratio},
    )
    base.update(changes)
    return WeeklyInputs(**base)


def _previous(date: str, pf: float) -> dict:
    return {"report_date": date, "backtest": {"summary": {"profit_factor": pf, "win_rate": 40.0, "max_drawdown_pct": 10.0}}}


def test_report_window_and_schedule_dates():
    w = report_window(dt.date(2025, 12, 28))
    assert w.start == pd.Timestamp("2025-12-20 18:00", tz="UTC") and w.end == pd.Timestamp("2025-12-27 18:00", tz="UTC")
    assert latest_report_date(w.end) == dt.date(2025, 12, 28)
    assert latest_report_date(w.end - pd.Timedelta(seconds=1)) == dt.date(2025, 12, 21)
    assert latest_report_date(pd.Timestamp("2026-01-01 00:00", tz="UTC")) == dt.date(2025, 12, 28)


def test_report_from_synthetic_market_and_known_journal(synthetic, make_journal, known_trades, report_date, tmp_path):
    live = read_closed_trades(make_journal(known_trades))
    previous = [_previous("2025-12-14", 1.2), _previous("2025-12-21", 0.9)]
    report = build_weekly_report(_inputs(synthetic, report_date, live_trades=live, previous_reports=previous), NOW)
    data = _strict(json.dumps(report.to_json_dict(), allow_nan=False))

    assert data["schema_version"] == 1 and data["report_date"] == "2025-12-28"
    assert data["status"] == "complete" and data["issues"] == []
    assert data["week"] == {"start_time": "2025-12-20T18:00:00+00:00", "end_time": "2025-12-27T18:00:00+00:00",
                            "timezone": "Asia/Seoul"}  # fmt: skip

    # backtest: the walk-forward of the candles known at report time, combined figures from its trades
    end = report_window(report_date).end
    known = synthetic.combined[synthetic.combined.index + pd.Timedelta(minutes=15) <= end]
    wf = run_walk_forward(prepare_market(known, "XRPUSDT"), BacktestConfig(symbol="XRPUSDT", params=PRODUCTION_PARAMS), WalkForwardConfig())
    summary = data["backtest"]["summary"]
    expected = combined_summary(wf.trades, 1000.0, wf.equity)
    for key in ("total_trades", "total_pnl", "win_rate", "profit_factor", "max_drawdown_pct", "sharpe", "total_fees"):
        assert summary[key] == expected[key], key
    assert len(data["backtest"]["trades"]) == summary["total_trades"] == len(wf.trades)
    folds = data["backtest"]["per_symbol"]["XRPUSDT"]["folds"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    assert all(f["market_context"]["ls_ratio"]["xrp"]["top_acct_avg"] > 0 for f in folds)
    assert data["backtest"]["per_symbol"]["XRPUSDT"]["data"]["last_time"] == "2025-12-27T17:45:00+00:00"

    # live statistics from the journal: this week and cumulative, each trade once (BT-16)
    week, cum = data["live"]["week"], data["live"]["cumulative"]
    assert (week["total_trades"], week["total_pnl"], week["win_rate"], week["profit_factor"]) == (3, 12.0, 33.33, 2.5)
    assert (cum["total_trades"], cum["total_pnl"], cum["win_rate"], cum["profit_factor"]) == (5, 22.0, 40.0, 3.75)
    assert [t["net_pnl"] for t in data["live"]["week_trades"]] == [-5.0, 20.0, -3.0]
    assert data["kill_switch"]["XRPUSDT"] == {
        "total_trades": 4, "consec_loss": 0, "fast_streak": 8, "recent_pf": None, "slow_window": 15,
        "slow_min_pf": 0.75, "killed": False, "reason": None,
    }  # fmt: skip
    assert data["kill_switch"]["SOLUSDT"]["consec_loss"] == 1

    # trend over previous reports + this week, and the checklist the retrain sensor reads
    assert [p["report_date"] for p in data["trend"]["points"]] == ["2025-12-14", "2025-12-21", "2025-12-28"]
    pf = summary["profit_factor"]
    assert data["trend"]["pf_declining_3w"] is (pf < 0.9)
    trigger = data["ml_trigger"]
    assert trigger["cumulative_trades"] == 5 and trigger["conditions"]["cumulative_trades_enough"] is False
    assert trigger["conditions"]["pf_below_1"] is (pf < 1.0)
    assert trigger["recommend"] is (trigger["met_count"] >= 2)

    # PF < 1 on this market: a suggestion sweep ran and nothing was applied
    sweep = data["sweep"]
    assert pf < 1.0 and sweep["ran"] is True and sweep["applied"] is False
    assert 1 <= len(sweep["alternatives"]) <= 3
    assert all(a["params"] != PRODUCTION_PARAMS.as_dict() for a in sweep["alternatives"])
    assert sweep["evaluated"] + sweep["pruned_dead"] + 1 == sweep["grid_size"]

    path = write_report_json(report, tmp_path)
    assert path.name == "report_2025-12-28.json" and _strict(path.read_text()) == data
    checklist = load_latest_checklist(tmp_path)
    assert checklist["recommend"] is trigger["recommend"] and checklist["report_date"] == "2025-12-28"
    assert checklist["report_path"] == str(path) and checklist["schema_version"] == 1


def _render_all(report: WeeklyReport) -> dict:
    data = report.to_json_dict()
    html = render_weekly_html(data)
    text = format_weekly_summary(data)
    assert "<!DOCTYPE html>" in html and len(text) <= 2000
    return data


def test_no_journal_gives_a_partial_report(synthetic, report_date):
    inputs = _inputs(synthetic, report_date, live_error="runtime journal not found at x", sweep_below_pf=0.0)
    report = build_weekly_report(inputs, NOW)
    data = _render_all(report)
    assert data["status"] == "partial"
    assert {"section": "live", "message": "runtime journal not found at x"} in data["issues"]
    assert data["live"] == {"available": False, "source": "runtime journal", "reason": "runtime journal not found at x",
                            "journal_kind": "unknown"}
    assert data["kill_switch"] == {} and data["ml_trigger"]["unknown"] == ["cumulative_trades_enough"]
    assert data["backtest"]["summary"]["total_trades"] > 0


def test_empty_journal_and_no_previous_report(synthetic, make_journal, report_date):
    live = read_closed_trades(make_journal([]))
    data = _render_all(build_weekly_report(_inputs(synthetic, report_date, live_trades=live, sweep_below_pf=0.0), NOW))
    assert data["status"] == "partial"
    sections = [i["section"] for i in data["issues"]]
    assert sections == ["live", "trend"]
    assert data["live"]["week"]["total_trades"] == 0 and data["live"]["cumulative"]["total_trades"] == 0
    assert data["ml_trigger"]["cumulative_trades"] == 0 and data["ml_trigger"]["unknown"] == []
    assert data["trend"]["weeks"] == 1 and data["sweep"]["ran"] is False


def test_no_backtest_trades(synthetic, report_date):
    never = StrategyParams(signal_threshold=6)
    data = _render_all(build_weekly_report(_inputs(synthetic, report_date, params={"XRPUSDT": never}), NOW))
    assert data["backtest"]["summary"]["total_trades"] == 0 and data["backtest"]["trades"] == []
    assert any("no trades" in i["message"] for i in data["issues"])
    assert data["sweep"] == {"ran": False, "applied": False, "reason": "no backtest trades to judge the parameters by"}
    assert "pf_below_1" in data["ml_trigger"]["unknown"] and data["ml_trigger"]["conditions"]["pf_below_1"] is False


@pytest.mark.parametrize(
    "markets, message",
    [
        ({}, "no market data"),
        ({"XRPUSDT": "short"}, "no walk-forward fold fits"),
        ({"XRPUSDT": "late"}, "no candles closed before"),
        ({"XRPUSDT": "broken"}, "missing required column"),
    ],
)
def test_missing_or_malformed_market_data(synthetic, report_date, markets, message):
    frames = {
        "short": synthetic.combined.iloc[-96 * 20 :],
        "late": synthetic.combined[synthetic.combined.index > pd.Timestamp("2025-12-30", tz="UTC")],
        "broken": synthetic.combined.drop(columns=["close"]),
    }
    markets = {k: frames[v] for k, v in markets.items()}
    data = _render_all(build_weekly_report(_inputs(synthetic, report_date, markets=markets), NOW))
    assert data["status"] == "partial" and data["backtest"]["summary"] is None
    assert any(message in i["message"] for i in data["issues"] if i["section"] == "backtest")
    assert data["backtest"]["equity_daily"] == [] and data["sweep"]["ran"] is False


def test_malformed_live_frame_is_reported_not_raised(synthetic, report_date):
    bad = pd.DataFrame({"symbol": ["XRPUSDT"], "net_pnl": [1.0]})
    data = _render_all(build_weekly_report(_inputs(synthetic, report_date, live_trades=bad, sweep_below_pf=0.0), NOW))
    assert data["live"]["available"] is False and "missing column" in data["live"]["reason"]


def test_load_reports_and_latest_checklist_skip_unreadable_files(tmp_path):
    assert load_latest_checklist(tmp_path / "missing") is None and load_latest_checklist(tmp_path) is None
    trigger = {"conditions": {}, "met_count": 2, "recommend": True, "cumulative_trades": 160, "threshold": 150}
    (tmp_path / "report_2025-12-21.json").write_text(json.dumps({"report_date": "2025-12-21", "ml_trigger": trigger}))
    (tmp_path / "report_2025-12-28.json").write_text("{ truncated")
    (tmp_path / "report_2025-12-14.json").write_text(json.dumps({"report_date": "2025-12-14", "backtest": {}}))
    latest = load_latest_checklist(tmp_path)
    assert latest["report_date"] == "2025-12-21" and latest["recommend"] is True and latest["met_count"] == 2
    assert [r["report_date"] for r in load_reports(tmp_path)] == ["2025-12-14", "2025-12-21"]
    assert [r["report_date"] for r in load_reports(tmp_path, before="2025-12-21")] == ["2025-12-14"]


def test_two_symbols_share_one_account_whose_equity_never_goes_below_zero(synthetic, report_date):
    """The report's equity is one account (as the trader runs it): losing parameters on a year of two symbols
    trip kill switches that stay tripped, listed as halted periods, instead of a curve that runs below zero."""
    from trader_runtime.market.synthetic import generate_market

    relaxed = StrategyParams(1.0, 2.0, 2, 0.0, 1.5)
    doge = generate_market("DOGEUSDT", 365, 11).combined
    inputs = _inputs(synthetic, report_date, markets={"XRPUSDT": synthetic.combined, "DOGEUSDT": doge},
                     params={"XRPUSDT": relaxed, "DOGEUSDT": relaxed}, sweep=False)  # fmt: skip
    data = _strict(json.dumps(build_weekly_report(inputs, NOW).to_json_dict(), allow_nan=False))
    bt = data["backtest"]
    assert bt["summary"]["account"] == "shared" and bt["summary"]["initial_balance"] == 1000.0
    assert min(p["equity"] for p in bt["equity_daily"]) >= 0 and bt["summary"]["min_equity"] >= 0
    assert {t["symbol"] for t in bt["trades"]} == {"XRPUSDT", "DOGEUSDT"}
    kinds = {h["kind"] for h in bt["halted_periods"]}
    assert kinds & {"kill_switch_fast", "kill_switch_slow", "daily_loss_limit", "ruin"}
    html = render_weekly_html(data)
    assert "Halted periods" in html, "halted"
    assert "Liquidations:" in html, "liq"
