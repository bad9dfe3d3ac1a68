"""`cointrader backtest --symbols ... --strategy weighted-signal,SYMBOL=mtf-pullback`: one account, a strategy per
symbol (from the option or from STRATEGY / STRATEGY_<SYMBOL>), and bad choices refused in one line."""

from __future__ import annotations

import json

import pytest

from trader_runtime.cli.backtest import strategy_names
from trader_runtime.cli.main import main
from trader_runtime.errors import ConfigError

SYMBOLS = ["DOGEUSDT", "XRPUSDT"]


def test_strategy_names_from_the_option_and_from_the_configuration():
    assert strategy_names("weighted-signal,DOGEUSDT=mtf-pullback", SYMBOLS) == {"DOGEUSDT": "mtf-pullback", "XRPUSDT": "weighted-signal"}
    assert strategy_names("mtf-pullback", SYMBOLS) == {"DOGEUSDT": "mtf-pullback", "XRPUSDT": "mtf-pullback"}
    assert strategy_names("xrpusdt=mtf-pullback", SYMBOLS) == {"DOGEUSDT": "weighted-signal", "XRPUSDT": "mtf-pullback"}
    env = {"STRATEGY": "mtf-pullback", "STRATEGY_XRPUSDT": "weighted-signal"}
    assert strategy_names(None, SYMBOLS, env) == {"DOGEUSDT": "mtf-pullback", "XRPUSDT": "weighted-signal"}
    assert strategy_names(None, SYMBOLS, {}) == {"DOGEUSDT": "weighted-signal", "XRPUSDT": "weighted-signal"}
    with pytest.raises(ConfigError, match="STRATEGY_DOGEUSDT: strategy 'nope' is unknown"):
        strategy_names(None, SYMBOLS, {"STRATEGY_DOGEUSDT": "nope"})
    with pytest.raises(ConfigError, match="TRXUSDT is not backtested here"):
        strategy_names("TRXUSDT=mtf-pullback", SYMBOLS)


def test_one_account_trades_each_symbol_with_its_own_strategy(tmp_path, capsys):
    out = tmp_path / "mixed.json"
    rc = main(["backtest", "--symbols", "XRPUSDT,DOGEUSDT", "--days", "150", "--strategy", "weighted-signal,DOGEUSDT=mtf-pullback",
               "--sl", "1.5", "--tp", "4.0", "--param", "tp_mult=3.0", "--param", "dry_ratio=0.7", "--json", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "DOGEUSDT MTF pullback (SL 1.5×ATR_1h TP 3×ATR_1h" in text and "XRPUSDT weighted signal (SL 1.5×ATR TP 4.0×ATR" in text
    data = json.loads(out.read_text())
    assert data["strategies"] == {"DOGEUSDT": "mtf-pullback", "XRPUSDT": "weighted-signal"}
    trades = data["trades"]
    by = {s: [t for t in trades if t["symbol"] == s] for s in SYMBOLS}
    assert by["DOGEUSDT"] and by["XRPUSDT"]

    def ratio(t: dict) -> float:
        return abs(t["tp"] - t["entry_price"]) / abs(t["entry_price"] - t["sl"])

    # each symbol's exits follow its own strategy's SL/TP multiples (levels rounded to 6 dp)
    assert all(abs(ratio(t) - 3.0 / 1.5) < 5e-3 for t in by["DOGEUSDT"])
    assert all(abs(ratio(t) - 4.0 / 1.5) < 5e-3 for t in by["XRPUSDT"] if t["close_reason"] != "REVERSE")
    # each symbol sized with its exchange lot step: DOGE whole coins, XRP tenths
    assert all(float(t["quantity"]).is_integer() for t in by["DOGEUSDT"])
    assert data["config"]["quantity_steps"] == {"DOGEUSDT": 1.0, "XRPUSDT": 0.1}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--strategy", "weighted-signal,DOGEUSDT=nope"], "strategy 'nope' is unknown"),
        (["--strategy", "SOLUSDT=mtf-pullback"], "SOLUSDT is not backtested here"),
        (["--strategy", "weighted-signal,DOGEUSDT=mtf-pullback", "--legacy"], "cannot mix strategies"),
        (["--strategy", "weighted-signal,DOGEUSDT=mtf-pullback", "--param", "sl_mult=-1"], "sl_mult=-1.0 is out of range"),
    ],
)
def test_bad_choices_exit_2_and_write_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "m.json"
    rc = main(["backtest", "--symbols", "XRPUSDT,DOGEUSDT", "--days", "30", "--json", str(out), *extra])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
