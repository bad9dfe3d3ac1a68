"""Typed configuration: frozen parameter objects for the core, and settings read once at start-up.

Core functions receive `StrategyParams`, `RiskLimits` or `BacktestConfig`, never the environment. `BacktestConfig`
holds the backtester's rule switches, so it lives in `trader_runtime.backtest.config`: loading the settings on the
trading host imports no backtest code. `from trader_runtime.config import BacktestConfig` still works (resolved
on first use).
Environment names follow the operators' existing `.env` (spec 10 §3.2, 30 §2.2); per-symbol overrides are
resolved in exactly one place (`RuntimeSettings.params_for`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from trader_runtime.errors import ConfigError

if TYPE_CHECKING:  # the name is served by __getattr__ below at run time
    from trader_runtime.backtest.config import BacktestConfig  # noqa: F401

# ---------------------------------------------------------------------------------------------------------------
# Core parameter objects (plain frozen dataclasses: cheap, hashable, picklable for process pools)
# ---------------------------------------------------------------------------------------------------------------


def _check(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> None:
    if isinstance(value, float) and math.isnan(value):
        raise ConfigError(f"{name}={value!r} is not a number; allowed range {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}")
    bad_lo = value <= lo if lo_open else value < lo
    bad_hi = value >= hi if hi_open else value > hi
    if bad_lo or bad_hi:
        raise ConfigError(
            f"{name}={value!r} is out of range; allowed {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        )


@dataclass(frozen=True, slots=True)
class StrategyParams:
    """Signal gates and ATR exit multiples of one symbol (spec 10 §3)."""

    atr_sl_mult: float = 2.0
    atr_tp_mult: float = 2.0
    signal_threshold: int = 3
    adx_threshold: float = 25.0
    volume_multiplier: float = 2.5

    def __post_init__(self) -> None:
        _check("atr_sl_mult", self.atr_sl_mult, 0, 50, lo_open=True)
        _check("atr_tp_mult", self.atr_tp_mult, 0, 50, lo_open=True)
        if not isinstance(self.signal_threshold, int) or isinstance(self.signal_threshold, bool):
            raise ConfigError(f"signal_threshold={self.signal_threshold!r} must be an integer in [1, 6]")
        _check("signal_threshold", self.signal_threshold, 1, 6)
        _check("adx_threshold", self.adx_threshold, 0, 100)  # ADX lies in [0, 100]; 0 turns the gate off
        _check("volume_multiplier", self.volume_multiplier, 0, 100, lo_open=True)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "atr_sl_mult": self.atr_sl_mult,
            "atr_tp_mult": self.atr_tp_mult,
            "signal_threshold": self.signal_threshold,
            "adx_threshold": self.adx_threshold,
            "volume_multiplier": self.volume_multiplier,
        }


#: relaxed thresholds used to build training datasets (spec 10 §3.3, TRAIN_*)
TRAIN_SIGNAL_PARAMS = StrategyParams(atr_sl_mult=2.0, atr_tp_mult=2.0, signal_threshold=2, adx_threshold=15.0, volume_multiplier=1.5)
#: production XRPUSDT parameters (spec 10 §3.2, weekly PROD_PARAMS)
PRODUCTION_PARAMS = StrategyParams(atr_sl_mult=1.5, atr_tp_mult=4.0, signal_threshold=3, adx_threshold=25.0, volume_multiplier=2.5)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Account-level limits shared by backtest and live (spec 20 §1.8, 30 §7)."""

    max_daily_loss_pct: float = 0.05
    max_positions: int = 3
    max_same_direction: int = 2
    margin_max_ratio: float = 0.50
    margin_min_ratio: float = 0.20
    margin_decay_rate: float = 0.0006
    kill_fast_streak: int = 8
    kill_slow_window: int = 15
    kill_slow_min_pf: float = 0.75

    def __post_init__(self) -> None:
        _check("max_daily_loss_pct", self.max_daily_loss_pct, 0, 1, lo_open=True)
        _check("max_positions", self.max_positions, 1, 100)
        _check("max_same_direction", self.max_same_direction, 1, 100)
        _check("margin_max_ratio", self.margin_max_ratio, 0, 1, lo_open=True)
        _check("margin_min_ratio", self.margin_min_ratio, 0, 1, lo_open=True)
        if self.margin_min_ratio > self.margin_max_ratio:
            raise ConfigError(
                f"margin_min_ratio={self.margin_min_ratio} must be <= margin_max_ratio={self.margin_max_ratio}"
            )
        _check("margin_decay_rate", self.margin_decay_rate, 0, 1)


@dataclass(frozen=True, slots=True)
class WalkForwardConfig:
    """Calendar-month walk-forward geometry (spec 20 §3, D12: step defaults to the test length)."""

    train_months: int = 3
    test_months: int = 1
    step_months: int | None = None  # None -> test_months (D12)

    def __post_init__(self) -> None:
        _check("train_months", self.train_months, 1, 120)
        _check("test_months", self.test_months, 1, 120)
        if self.step_months is not None:
            _check("step_months", self.step_months, 1, 120)

    @property
    def step(self) -> int:
        return self.step_months if self.step_months is not None else self.test_months


# ---------------------------------------------------------------------------------------------------------------
# Settings read from the environment / .env (validated once at start-up)
# ---------------------------------------------------------------------------------------------------------------

_PARAM_ENV = {
    "atr_sl_mult": ("ATR_SL_MULT", float),
    "atr_tp_mult": ("ATR_TP_MULT", float),
    "signal_threshold": ("SIGNAL_THRESHOLD", int),
    "adx_threshold": ("ADX_THRESHOLD", float),
    "volume_multiplier": ("VOL_MULTIPLIER", float),
}

ExchangeMode = Literal["replay", "paper", "demo", "live"]
MLMode = Literal["off", "shadow", "on"]


class RuntimeSettings(BaseSettings):
    """Everything an entry point needs, from the environment and `.env`; secrets stay `SecretStr`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    symbols: str = Field(default="XRPUSDT", validation_alias="SYMBOLS")
    correlation_symbols: str = Field(default="BTCUSDT,ETHUSDT", validation_alias="CORRELATION_SYMBOLS")
    mode: ExchangeMode = Field(default="replay", validation_alias="COINTRADER_MODE")
    leverage: int = Field(default=10, ge=1, le=125, validation_alias="LEVERAGE")
    margin_max_ratio: float = Field(default=0.50, gt=0, le=1, validation_alias="MARGIN_MAX_RATIO")
    margin_min_ratio: float = Field(default=0.20, gt=0, le=1, validation_alias="MARGIN_MIN_RATIO")
    margin_decay_rate: float = Field(default=0.0006, ge=0, le=1, validation_alias="MARGIN_DECAY_RATE")
    max_same_direction: int = Field(default=2, ge=1, le=100, validation_alias="MAX_SAME_DIRECTION")
    max_positions: int = Field(default=3, ge=1, le=100, validation_alias="MAX_POSITIONS")
    ml_mode: MLMode = Field(default="off", validation_alias="ML_MODE")
    ml_threshold: float = Field(default=0.55, gt=0, le=1, validation_alias="ML_THRESHOLD")
    # D5: gate at the threshold stored with the model version, falling back to ML_THRESHOLD; false forces ML_THRESHOLD
    ml_use_model_threshold: bool = Field(default=True, validation_alias="ML_USE_MODEL_THRESHOLD")
    model_name: str = Field(default="cointrader-filter-{symbol}", validation_alias="COINTRADER_MODEL_NAME")
    mlflow_tracking_uri: str = Field(default="sqlite:///mlruns/mlflow.db", validation_alias="MLFLOW_TRACKING_URI")
    warehouse_path: Path = Field(default=Path("warehouse/market.duckdb"), validation_alias="COINTRADER_WAREHOUSE")
    journal_path: Path = Field(default=Path("journal/trader.sqlite"), validation_alias="COINTRADER_JOURNAL")
    binance_api_key: SecretStr = Field(default=SecretStr(""), validation_alias="BINANCE_API_KEY")
    binance_api_secret: SecretStr = Field(default=SecretStr(""), validation_alias="BINANCE_API_SECRET")
    binance_demo_api_key: SecretStr = Field(default=SecretStr(""), validation_alias="BINANCE_DEMO_API_KEY")
    binance_demo_api_secret: SecretStr = Field(default=SecretStr(""), validation_alias="BINANCE_DEMO_API_SECRET")
    discord_webhook_url: SecretStr = Field(default=SecretStr(""), validation_alias="DISCORD_WEBHOOK_URL")
    weekly_report_timezone: str = Field(default="Asia/Seoul", validation_alias="WEEKLY_REPORT_TIMEZONE")
    # control actions of the local HTTP endpoint: a 0600 file holding the token (or systemd credential control_token)
    control_token_file: Path | None = Field(default=None, validation_alias="COINTRADER_CONTROL_TOKEN_FILE")
    # HMAC key of promotion records (or COINTRADER_PROMOTION_KEY / credential promotion_key); default .cointrader/
    promotion_key_file: Path | None = Field(default=None, validation_alias="COINTRADER_PROMOTION_KEY_FILE")
    #: default strategy of every symbol; `STRATEGY_<SYMBOL>` overrides it per symbol (see `strategy_name_for`)
    strategy: str = Field(default="weighted-signal", validation_alias="STRATEGY")

    @model_validator(mode="after")
    def _margin_order(self) -> "RuntimeSettings":
        if self.margin_min_ratio > self.margin_max_ratio:
            raise ValueError(
                f"MARGIN_MIN_RATIO={self.margin_min_ratio} must be <= MARGIN_MAX_RATIO={self.margin_max_ratio}"
            )
        return self

    @field_validator("symbols", "correlation_symbols")
    @classmethod
    def _non_empty_list(cls, value: str) -> str:
        if not [s for s in value.split(",") if s.strip()]:
            raise ValueError("must list at least one symbol, e.g. XRPUSDT")
        return value

    @property
    def symbol_list(self) -> list[str]:
        return [s.strip() for s in self.symbols.split(",") if s.strip()]

    @property
    def risk_limits(self) -> RiskLimits:
        return RiskLimits(
            max_positions=self.max_positions,
            max_same_direction=self.max_same_direction,
            margin_max_ratio=self.margin_max_ratio,
            margin_min_ratio=self.margin_min_ratio,
            margin_decay_rate=self.margin_decay_rate,
        )

    def strategy_name_for(self, symbol: str, env: Mapping[str, str] | None = None) -> str:
        """`STRATEGY_<SYMBOL>` > `STRATEGY` > weighted-signal; the name is checked against the registry."""
        from trader_runtime.strategy.registry import get_strategy

        merged = {**_read_dotenv(), **os.environ} if env is None else dict(env)
        name = merged.get(f"STRATEGY_{symbol}") or self.strategy
        var = f"STRATEGY_{symbol}" if merged.get(f"STRATEGY_{symbol}") else "STRATEGY"
        try:
            return get_strategy(name).name
        except ConfigError as exc:
            raise ConfigError(f"{var}={name!r}: {exc}") from None

    def strategy_params_for(self, symbol: str, env: Mapping[str, str] | None = None) -> Any:
        """Parameters of the strategy configured for `symbol` (per-symbol variables win over global ones)."""
        from trader_runtime.strategy.registry import get_strategy

        strategy = get_strategy(self.strategy_name_for(symbol, env))
        merged = {**_read_dotenv(), **os.environ} if env is None else dict(env)
        return strategy.resolve_params(symbol, merged)

    def params_for(self, symbol: str, env: Mapping[str, str] | None = None) -> StrategyParams:
        """Per-symbol override > global env > code default (spec 10 §3.2); the one resolver used everywhere."""
        return resolve_strategy_params(symbol, os.environ if env is None else env, dotenv=_read_dotenv())


def _read_dotenv(path: Path = Path(".env")) -> dict[str, str]:
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def resolve_strategy_params(symbol: str, env: Mapping[str, str], dotenv: Mapping[str, str] | None = None) -> StrategyParams:
    """Resolve StrategyParams for `symbol` from environment variables; errors name the variable and the value."""
    merged: dict[str, str] = dict(dotenv or {})
    merged.update(env)
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    for fname, (var, kind) in _PARAM_ENV.items():
        for name in (f"{var}_{symbol}", var):
            raw = merged.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[fname] = kind(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
            source[fname] = name
            break
    try:
        return StrategyParams(**values)
    except ConfigError as exc:
        field_name, _, rest = str(exc).partition("=")
        var = source.get(field_name)
        raise ConfigError(f"{var}={rest}" if var else str(exc)) from None


def load_runtime_settings(**overrides: Any) -> RuntimeSettings:
    """Build settings once; turn pydantic's report into one ConfigError naming variable, value and range."""
    try:
        settings = RuntimeSettings(**overrides)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err.get("loc", ())) or "settings"
            parts.append(f"{loc}={err.get('input')!r}: {err.get('msg')}")
        raise ConfigError("invalid configuration: " + "; ".join(parts)) from None
    for sym in settings.symbol_list:
        settings.params_for(sym)  # validate per-symbol overrides at start-up
        settings.strategy_params_for(sym)
    return settings


def __getattr__(name: str) -> Any:
    """`BacktestConfig` moved to `trader_runtime.backtest.config`; the old import path resolves it on first use."""
    if name == "BacktestConfig":
        from trader_runtime.backtest.config import BacktestConfig

        return BacktestConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
