from __future__ import annotations

import copy

from cointrader_pipelines.reporting.discord import DISCORD_LIMIT, format_weekly_summary


def test_summary_sections_and_checklist_show_the_backtest_pf(full_report):
    text = format_weekly_summary(full_report, link="file:///r/report_2025-12-28.html")
    pf = full_report["backtest"]["summary"]["profit_factor"]
    assert text.startswith("📊 **Weekly strategy report (2025-12-28)**")
    assert f"PF < 1.0: yes (current {pf:.2f})" in text  # BT-18: not a kill-switch figure
    assert "**[Simulated trades (this week)]**\n3 trades | net +12.00 USDT | win rate 33.3% | cumulative 5" in text
    assert "XRP: consecutive losses 0/8 | 15-trade PF -.-- (4 trades)" in text
    assert "**[Trend (last 3 weeks)]**" in text and "PF: 1.30 → 0.90 → " in text
    assert "not applied automatically" in text
    assert text.endswith("Full report: file:///r/report_2025-12-28.html")


def test_infinite_values_are_formatted_not_compared_as_text(full_report):
    report = copy.deepcopy(full_report)
    report["backtest"]["summary"]["profit_factor"] = None
    report["backtest"]["summary"]["profit_factor_infinite"] = True
    report["trend"]["points"][0]["profit_factor"] = "inf"  # a file of the original tool
    text = format_weekly_summary(report)
    assert "PF ∞ |" in text and "PF: ∞ → " in text


def test_long_messages_stay_within_the_discord_limit(full_report):
    report = copy.deepcopy(full_report)
    report["kill_switch"] = {f"SYM{i}USDT": report["kill_switch"]["XRPUSDT"] for i in range(200)}
    text = format_weekly_summary(report, link="https://example.invalid/report")
    assert len(text) <= DISCORD_LIMIT and text.endswith("Full report: https://example.invalid/report")
