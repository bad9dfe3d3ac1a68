"""`cointrader trader run --mode replay` with the MTF pullback strategy trades, and `trader status` shows it."""

from __future__ import annotations

import json
from pathlib import Path

from trader_runtime.cli.main import main as cli
from trader_runtime.storage.journal import JournalReader


def test_replay_with_the_mtf_strategy_then_status(tmp_path: Path, capsys):
    journal = tmp_path / "mtf.sqlite"
    cfg = tmp_path / "mtf.env"
    cfg.write_text("STRATEGY=mtf-pullback\nMTF_DRY_RATIO=0.7\n")  # a looser volume rule trades more on 8 days
    run = ["trader", "run", "--mode", "replay", "--days", "50", "--seed", "3", "--http-port", "-1",
           "--journal", str(journal), "--config", str(cfg)]  # fmt: skip
    assert cli(run) == 0
    assert "strategy mtf-pullback" in capsys.readouterr().out
    assert cli(["trader", "status", "--journal", str(journal)]) == 0
    text = capsys.readouterr().out
    assert "strategy: XRPUSDT mtf-pullback" in text and "closed trades:" in text
    assert cli(["trader", "status", "--journal", str(journal), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["symbols"]["XRPUSDT"]["strategy"] == "mtf-pullback"
    with JournalReader(journal) as r:
        trades = r.closed_trades()
        decisions = r.decisions()
    assert data["trades"]["closed"] == len(trades) > 0
    assert "WARMUP" not in set(decisions["action"])  # the replay's history held the strategy's 1,000 closed hours
    assert {"ENTRY", "HOLD"} <= set(decisions["action"])


def test_ml_filter_is_refused_for_a_strategy_without_one(tmp_path: Path, capsys):
    rc = cli(["trader", "run", "--strategy", "mtf-pullback", "--ml-mode", "shadow", "--days", "50", "--http-port", "-1",
              "--journal", str(tmp_path / "x.sqlite")])  # fmt: skip
    assert rc == 2
    assert "has no ML filter" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()


def test_a_parameter_of_the_other_strategy_is_refused_at_start(tmp_path: Path, capsys):
    cfg = tmp_path / "mixed.env"
    cfg.write_text("SYMBOLS=XRPUSDT,DOGEUSDT\nSTRATEGY_DOGEUSDT=mtf-pullback\nATR_SL_MULT_DOGEUSDT=2.5\n")
    rc = cli(["trader", "run", "--days", "50", "--http-port", "-1", "--journal", str(tmp_path / "x.sqlite"), "--config", str(cfg)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "ATR_SL_MULT_DOGEUSDT is a parameter of the weighted signal strategy, but DOGEUSDT runs the MTF pullback" in err
    assert err.count("\n") == 1 and not (tmp_path / "x.sqlite").exists()
