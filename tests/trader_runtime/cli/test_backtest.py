"""`cointrader backtest` / `cointrader sweep`: outputs and error paths (exit 2, clear message, nothing written)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from trader_runtime.cli.main import main
from trader_runtime.market.synthetic import generate_market

TRADE_FIELDS = {"entry_time", "exit_time", "side", "entry_price", "exit_price", "quantity", "fees", "net_pnl", "close_reason"}
SUMMARY_FIELDS = {"total_trades", "profit_factor", "win_rate", "return_pct", "max_drawdown_pct", "sharpe", "close_reasons"}


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "xrpusdt_combined_15m.parquet"
    generate_market("XRPUSDT", 200, 7).combined.to_parquet(path)
    return path


def test_walk_forward_backtest_prints_and_writes_json(parquet, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(["backtest", "--symbol", "xrpusdt", "--data", str(parquet), "--walk-forward", "--step-months", "1",
               "--sl", "1.5", "--tp", "4.0", "--json", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "profit factor" in text and "fold" in text and "validation" in text
    for label in ("sortino", "calmar", "SQN", "longest drawdown", "by exit reason", "by symbol"):
        assert label in text
    data = json.loads(out.read_text())
    assert SUMMARY_FIELDS <= set(data["summary"]) and "legacy_metrics" in data["summary"]
    assert data["trades"] and TRADE_FIELDS <= set(data["trades"][0])
    assert data["symbol"] == "XRPUSDT" and len(data["folds"]) == 3
    assert data["config"]["params"]["atr_tp_mult"] == 4.0
    assert data["walk_forward"] == {"train_months": 3, "test_months": 1, "step_months": 1}
    figures = data["figures"]
    assert {"sortino", "calmar", "sqn", "longest_drawdown"} <= set(figures)
    assert sum(g["trades"] for g in figures["by_exit_reason"].values()) == data["summary"]["total_trades"]


def test_single_run_on_the_synthetic_market_with_legacy_rules(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["backtest", "--days", "60", "--legacy", "--json", str(out)]) == 0
    assert "legacy" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["mode"] == "single" and data["config"]["rules"]["fold_history"] == "slice"
    assert data["data"]["source"].startswith("synthetic")


def _fails(argv, capsys, out):
    rc = main(argv + ["--json", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists() and list(out.parent.iterdir()) == []
    return err


def test_missing_file(tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    err = _fails(["backtest", "--data", str(tmp_path / "none.parquet")], capsys, out_dir / "r.json")
    assert "not found" in err


def test_wrong_schema(tmp_path, capsys, parquet):
    bad = tmp_path / "bad.parquet"
    pd.read_parquet(parquet).drop(columns=["close"]).to_parquet(bad)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    err = _fails(["backtest", "--data", str(bad)], capsys, out_dir / "r.json")
    assert "close" in err


def test_not_a_parquet_file(tmp_path, capsys):
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert "parquet" in _fails(["backtest", "--data", str(junk)], capsys, out_dir / "r.json")


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--sl", "-1"], "--sl="),
        (["--signal-threshold", "9"], "--signal-threshold="),
        (["--leverage", "0"], "leverage"),
        (["--symbol", "XRP/USDT"], "symbol"),
        (["--walk-forward", "--train-months", "0"], "--train-months="),
    ],
)
def test_bad_parameters(tmp_path, capsys, parquet, extra, needle):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert needle in _fails(["backtest", "--data", str(parquet)] + extra, capsys, out_dir / "r.json")


def test_walk_forward_longer_than_data(tmp_path, capsys, parquet):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    err = _fails(["backtest", "--data", str(parquet), "--walk-forward", "--train-months", "12"], capsys, out_dir / "r.json")
    assert "no walk-forward fold" in err


def test_sweep_writes_every_row(parquet, tmp_path, capsys):
    out = tmp_path / "sweep.json"
    rc = main(["sweep", "--data", str(parquet), "--workers", "1", "--no-progress", "--top", "5", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "324 combos" in text and "rank" in text
    data = json.loads(out.read_text())
    assert len(data["rows"]) == 324 and data["min_trades"] == 20
    assert [r["rank"] for r in data["rows"]] == list(range(1, 325))
    assert sum(r["current"] for r in data["rows"]) == 1


def test_sweep_bad_workers(tmp_path, capsys, parquet):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert "workers" in _fails(["sweep", "--data", str(parquet), "--workers", "0"], capsys, out_dir / "r.json")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("portfolio")
    for k, sym in enumerate(("XRPUSDT", "DOGEUSDT")):
        generate_market(sym, 200, 7 + k).combined.to_parquet(folder / f"{sym.lower()}_combined_15m.parquet")
    return folder


def test_portfolio_walk_forward_on_one_account_writes_account_and_symbol_summaries(data_dir, tmp_path, capsys):
    out = tmp_path / "p.json"
    rc = main(["backtest", "--symbols", "XRPUSDT,dogeusdt", "--data-dir", str(data_dir), "--walk-forward",
               "--sl", "1.5", "--tp", "3.0", "--signal-threshold", "2", "--adx", "15", "--vol-mult", "1.5",
               "--kill-reset", "after:3", "--json", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "DOGEUSDT" in text and "XRPUSDT" in text and "lowest equity" in text
    data = json.loads(out.read_text())
    assert data["symbols"] == ["DOGEUSDT", "XRPUSDT"] and set(data["per_symbol"]) == {"DOGEUSDT", "XRPUSDT"}
    assert {t["symbol"] for t in data["trades"]} == {"DOGEUSDT", "XRPUSDT"}
    assert all("funding" in t for t in data["trades"]) and data["config"]["kill_reset"] == "after:3"
    assert data["account"]["min_equity"] >= 0 and all(p["equity"] >= 0 for p in data["equity_daily"])
    assert all(f["per_symbol"] is not None for f in data["folds"])
    assert sum(s["total_trades"] for s in data["per_symbol"].values()) == data["summary"]["total_trades"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--symbols", "XRPUSDT,SOLUSDT"], "not found"),
        (["--symbols", "XRPUSDT,XRPUSDT"], "twice"),
        (["--symbols", "XRPUSDT,DOGEUSDT", "--kill-reset", "sometimes"], "--kill-reset"),
    ],
)
def test_portfolio_bad_input_exits_2_and_writes_nothing(data_dir, tmp_path, capsys, extra, message):
    out = tmp_path / "never.json"
    rc = main(["backtest", "--data-dir", str(data_dir), *extra, "--json", str(out)])
    assert rc == 2 and message in capsys.readouterr().err and not out.exists()
