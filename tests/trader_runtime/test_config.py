import pytest

from trader_runtime.config import (
    BacktestConfig,
    RiskLimits,
    StrategyParams,
    load_runtime_settings,
    resolve_strategy_params,
)
from trader_runtime.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for var in ("SYMBOLS", "LEVERAGE", "MARGIN_MAX_RATIO", "MARGIN_MIN_RATIO", "ML_THRESHOLD", "ATR_SL_MULT",
                "ATR_SL_MULT_XRPUSDT", "SIGNAL_THRESHOLD", "SIGNAL_THRESHOLD_XRPUSDT", "BINANCE_API_KEY"):
        monkeypatch.delenv(var, raising=False)


def test_per_symbol_override_beats_global():
    env = {"ATR_SL_MULT": "1.8", "ATR_SL_MULT_XRPUSDT": "1.5", "ADX_THRESHOLD": "30"}
    assert resolve_strategy_params("XRPUSDT", env).atr_sl_mult == 1.5
    assert resolve_strategy_params("DOGEUSDT", env).atr_sl_mult == 1.8
    assert resolve_strategy_params("XRPUSDT", env).adx_threshold == 30.0


def test_signal_threshold_must_be_an_integer_string():
    with pytest.raises(ConfigError, match=r"SIGNAL_THRESHOLD_XRPUSDT='3.0' is not a valid int"):
        resolve_strategy_params("XRPUSDT", {"SIGNAL_THRESHOLD_XRPUSDT": "3.0"})


def test_out_of_range_names_variable_value_and_range():
    with pytest.raises(ConfigError) as err:
        resolve_strategy_params("XRPUSDT", {"ATR_SL_MULT_XRPUSDT": "-1"})
    msg = str(err.value)
    assert "ATR_SL_MULT_XRPUSDT" in msg and "-1.0" in msg and "(0, 50]" in msg


@pytest.mark.parametrize(
    "var,value",
    [("LEVERAGE", "0"), ("MARGIN_MAX_RATIO", "0"), ("ML_THRESHOLD", "1.5"), ("ML_THRESHOLD", "0")],
)
def test_startup_validation_rejects(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=var):
        load_runtime_settings()


def test_margin_min_above_max_rejected(monkeypatch):
    monkeypatch.setenv("MARGIN_MIN_RATIO", "0.8")
    monkeypatch.setenv("MARGIN_MAX_RATIO", "0.5")
    with pytest.raises(ConfigError, match="MARGIN_MIN_RATIO"):
        load_runtime_settings()


def test_symbols_list_and_defaults(monkeypatch):
    monkeypatch.setenv("SYMBOLS", "XRPUSDT, TRXUSDT,DOGEUSDT")
    s = load_runtime_settings()
    assert s.symbol_list == ["XRPUSDT", "TRXUSDT", "DOGEUSDT"] and s.max_same_direction == 2 and s.ml_mode == "off"


def test_dotenv_is_read(tmp_path):
    (tmp_path / ".env").write_text("ATR_TP_MULT_XRPUSDT=4.0\nLEVERAGE=7\n")
    s = load_runtime_settings()
    assert s.leverage == 7 and s.params_for("XRPUSDT").atr_tp_mult == 4.0


def test_secrets_are_masked_in_repr(monkeypatch):
    monkeypatch.setenv("BINANCE_API_KEY", "AKIAVERYSECRETKEY123")
    s = load_runtime_settings()
    assert "AKIAVERYSECRETKEY123" not in repr(s) and "AKIAVERYSECRETKEY123" not in str(s.model_dump())
    assert s.binance_api_key.get_secret_value() == "AKIAVERYSECRETKEY123"


def test_core_parameter_objects_validate():
    with pytest.raises(ConfigError, match="signal_threshold"):
        StrategyParams(signal_threshold=7)
    with pytest.raises(ConfigError, match="margin_min_ratio"):
        RiskLimits(margin_min_ratio=0.6, margin_max_ratio=0.5)
    with pytest.raises(ConfigError, match="leverage"):
        BacktestConfig(leverage=0)


def test_loading_the_settings_imports_no_backtest_code():
    """The trading host loads its settings without the backtester; the old import path of BacktestConfig works."""
    import subprocess
    import sys

    code = ("import sys, trader_runtime.config as c\n"
            "c.load_runtime_settings()\n"
            "print(sorted(m for m in sys.modules if m.startswith('trader_runtime.backtest')))\n"
            "from trader_runtime.config import BacktestConfig\n"
            "from trader_runtime.backtest.config import BacktestConfig as Moved\n"
            "print(BacktestConfig is Moved)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True"]
