"""`cointrader ml walk-forward` through the real root parser on the synthetic market, a Parquet file and a warehouse."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from trader_runtime.cli import main as cli_main
from trader_runtime.market.synthetic import generate_market
from trader_runtime.storage.warehouse import Warehouse


@pytest.fixture()
def run_ml(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("trader_runtime.cli.ml",))
    return lambda *argv: cli_main.main([str(a) for a in argv])


def test_walk_forward_prints_fold_metrics_and_the_ml_on_off_comparison(run_ml, capsys, tmp_path):
    out_json = tmp_path / "wf.json"
    assert run_ml("ml", "walk-forward", "--days", "150", "--folds", "3", "--train-months", "2",
                  "--json", out_json) == 0
    out = capsys.readouterr().out
    assert "walk-forward validation (3 folds" in out
    assert "AUC signal" in out and "AUC all" in out and "precision" in out and "recall" in out
    assert "ML on/off walk-forward backtest" in out and "profit_factor" in out and "verdict:" in out
    data = json.loads(out_json.read_text())
    assert len(data["walk_forward"]["folds"]) == 3
    assert data["ml_comparison"]["verdict"] in {"worth deploying", "conditional", "negligible", "undecided",
                                                "cannot judge"}


def test_walk_forward_on_a_file_and_on_a_warehouse_agree(run_ml, capsys, tmp_path):
    frame = generate_market("XRPUSDT", 120, 4).combined
    path = tmp_path / "x.parquet"
    frame.to_parquet(path)
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.upsert_candles("XRPUSDT", frame, now=frame.index[-1] + pd.Timedelta(minutes=15), source="parquet", batch="t")
    assert run_ml("ml", "walk-forward", "--data", path, "--folds", "2", "--no-backtest") == 0
    from_file = capsys.readouterr().out
    assert run_ml("ml", "walk-forward", "--warehouse", wh.path, "--folds", "2", "--no-backtest") == 0
    from_wh = capsys.readouterr().out
    assert from_file.split("walk-forward validation")[1].split("s):")[1] == \
        from_wh.split("walk-forward validation")[1].split("s):")[1]


@pytest.mark.parametrize("argv, message", [
    (("--folds", "1"), "--folds=1"),
    (("--min-recall", "1.5"), "--min-recall"),
    (("--symbol", "XRP/USDT"), "XRP/USDT"),
    (("--days", "5"), "--days=5"),
    (("--data", "/nonexistent.parquet"), "not found"),
])
def test_bad_arguments_exit_2(run_ml, capsys, argv, message):
    assert run_ml("ml", "walk-forward", *argv) == 2
    assert message in capsys.readouterr().err
