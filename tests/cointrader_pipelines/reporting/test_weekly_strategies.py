"""The weekly report's account section says which strategy traded each symbol: the shared-account walk-forward
runs every symbol with its configured strategy (XRP weighted signal, DOGE MTF pullback here), and the live section
names the strategy the journal's trader ran."""

from __future__ import annotations

import json

import pandas as pd

from cointrader_pipelines.reporting.html import render_weekly_html
from cointrader_pipelines.reporting.journal_trades import read_journal_strategies
from cointrader_pipelines.reporting.weekly import build_weekly_report, report_window
from cointrader_pipelines.reporting.weekly_run import prepare_weekly_inputs
from trader_runtime.backtest.config import BacktestConfig
from trader_runtime.config import StrategyParams, WalkForwardConfig
from trader_runtime.market.synthetic import generate_market
from trader_runtime.storage.journal import Journal
from trader_runtime.strategy.mtf_pullback import MTFParams
from trader_runtime.strategy.mtf_pullback.account import run_mtf_account
from trader_runtime.strategy.pipeline import prepare_market

NOW = pd.Timestamp("2025-12-28 00:00", tz="UTC")
RELAXED = StrategyParams(1.0, 2.0, 2, 0.0, 1.5)
MTF = MTFParams(dry_ratio=0.7, tp_mult=3.0)


def test_mixed_account_section_names_each_symbols_strategy(synthetic, make_journal, known_trades, report_date, tmp_path):
    doge = generate_market("DOGEUSDT", 200, 11).combined
    journal = make_journal(known_trades)
    j = Journal(journal, durable=False)
    with j.transaction() as tx:  # what the trader records about itself while it runs
        tx.set_status("", {"strategies": "XRPUSDT=weighted-signal,DOGEUSDT=mtf-pullback"}, 0)
    j.close()
    window = report_window(report_date)
    markets = {"XRPUSDT": synthetic.combined, "DOGEUSDT": doge}
    inputs = prepare_weekly_inputs(window, markets, {"XRPUSDT": RELAXED, "DOGEUSDT": RELAXED}, tmp_path / "out", journal,
                                   sweep=False, strategies={"DOGEUSDT": "mtf-pullback"}, mtf_params={"DOGEUSDT": MTF})  # fmt: skip
    data = json.loads(json.dumps(build_weekly_report(inputs, NOW).to_json_dict(), allow_nan=False))
    expected = {"DOGEUSDT": "mtf-pullback", "XRPUSDT": "weighted-signal"}
    assert data["config"]["strategies"] == expected and data["config"]["mtf_params"]["DOGEUSDT"]["tp_mult"] == 3.0
    bt = data["backtest"]
    assert bt["strategies"] == expected
    assert {s: g["strategy"] for s, g in data["figures"]["by_symbol"].items()} == expected
    doge_trades = [t for t in bt["trades"] if t["symbol"] == "DOGEUSDT"]
    assert doge_trades and all(
        abs(abs(t["tp"] - t["entry_price"]) / abs(t["entry_price"] - t["sl"]) - 3.0 / 1.5) < 5e-3 for t in doge_trades)
    # the account's trades are those of the mixed-account backtest on the candles known at report time
    known = {s: f[f.index + pd.Timedelta(minutes=15) <= window.end] for s, f in markets.items()}
    cfg = BacktestConfig(symbol="DOGEUSDT", symbols=("DOGEUSDT", "XRPUSDT"), quantity_steps=(("DOGEUSDT", 1.0), ("XRPUSDT", 0.1)))
    run = run_mtf_account({"DOGEUSDT": known["DOGEUSDT"]}, cfg, {"DOGEUSDT": MTF}, wf=WalkForwardConfig(),
                          fixed={"XRPUSDT": prepare_market(known["XRPUSDT"], "XRPUSDT")}, fixed_params={"XRPUSDT": RELAXED})  # fmt: skip
    # sized as the trader sizes: DOGE in whole coins (its exchange lot step), XRP in tenths
    assert all(float(t["quantity"]).is_integer() for t in doge_trades)
    assert all(abs(t["quantity"] * 10 - round(t["quantity"] * 10)) < 1e-9 for t in bt["trades"] if t["symbol"] == "XRPUSDT")
    assert len(bt["trades"]) == len(run.result.trades)
    assert [t["net_pnl"] for t in bt["trades"]] == list(run.result.trades["net_pnl"])
    assert data["live"]["strategies"] == {"XRPUSDT": "weighted-signal", "DOGEUSDT": "mtf-pullback"}
    html = render_weekly_html(data)
    assert "<td class=\"text\">DOGEUSDT</td><td class=\"text\">MTF pullback</td>" in html
    assert "this week XRPUSDT (weighted signal)" in html


def test_weighted_only_configuration_is_labelled_and_unchanged(synthetic, report_date, tmp_path):
    window = report_window(report_date)
    inputs = prepare_weekly_inputs(window, {"XRPUSDT": synthetic.combined}, {"XRPUSDT": RELAXED}, tmp_path / "out", None,
                                   sweep=False)  # fmt: skip
    data = build_weekly_report(inputs, NOW).data
    assert data["backtest"]["strategies"] == {"XRPUSDT": "weighted-signal"}
    assert data["config"]["strategies"] == {"XRPUSDT": "weighted-signal"} and data["config"]["mtf_params"] == {}
    assert read_journal_strategies(tmp_path / "missing.sqlite") == {}

