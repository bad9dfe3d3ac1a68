"""Pipeline settings from the environment / `.env`, read once (STYLE 2.8). Resources are built from these.

Names shared with the runtime keep the runtime's variables (`SYMBOLS`, `CORRELATION_SYMBOLS`, `MLFLOW_TRACKING_URI`,
`COINTRADER_WAREHOUSE`); everything else is `COINTRADER_<FIELD>`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from trader_runtime.errors import ConfigError, DataError
from trader_runtime.market.symbols import normalize_symbol
from trader_runtime.market.synthetic import DEFAULT_END

MarketSourceName = Literal["synthetic", "binance", "parquet", "bulk"]
ProfileName = Literal["embedded", "stack", "k8s"]


class PipelineSettings(BaseSettings):
    """Where data comes from and where every store lives; secrets are not here (see defs/resources.py)."""

    model_config = SettingsConfigDict(
        env_prefix="COINTRADER_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True,
        populate_by_name=True,
    )

    # "embedded": sqlite/DuckDB files, steps in local processes (default); "stack": the distributed profile
    # (deploy/stack: PostgreSQL instance, Celery step workers, MLflow server, Optuna on PostgreSQL); "k8s": the
    # same stores with one Kubernetes Job per step (deploy/k8s, needs dagster-k8s in the image)
    profile: ProfileName = "embedded"
    symbols: str = Field(default="XRPUSDT", validation_alias="SYMBOLS")
    correlation_symbols: str = Field(default="BTCUSDT,ETHUSDT", validation_alias="CORRELATION_SYMBOLS")
    market_source: MarketSourceName = "synthetic"
    synthetic_days: int = Field(default=150, ge=30, le=3650)
    synthetic_seed: int = 42
    synthetic_end: str = DEFAULT_END.isoformat()
    parquet_dir: str = ""
    binance_rest_url: str = ""
    bulk_source: str = ""  # archive mirror folder or base URL (market_source=bulk, and the bulk_history asset)
    bulk_rest_tail: bool = False  # market_source=bulk: the newest days from REST
    bulk_from: str = "2022-01"  # first month partition of the bulk_history asset
    backfill_days: int = Field(default=365, ge=1, le=3650)
    warehouse_path: Path = Field(default=Path("warehouse/market.duckdb"), validation_alias="COINTRADER_WAREHOUSE")
    mlflow_tracking_uri: str = Field(default="sqlite:///mlruns/mlflow.db", validation_alias="MLFLOW_TRACKING_URI")
    mlflow_artifact_root: str = "mlruns/artifacts"
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    dagster_ui_url: str = "http://127.0.0.1:3000"
    optuna_storage: str = "sqlite:///optuna/optuna.db"
    tuning_workers: int = Field(default=1, ge=1, le=64)  # processes sharing one Optuna study (>1: server storage)
    warehouse_snapshots: str = ""  # folder of published Parquet snapshots for readers ("" = read the DuckDB file)
    report_dir: Path = Path("results/weekly")
    wf_train_months: int = Field(default=2, ge=1, le=36)
    wf_test_months: int = Field(default=1, ge=1, le=12)
    tuning_trials: int = Field(default=20, ge=1, le=1000)
    num_threads: int = Field(default=1, ge=1, le=64)
    auto_promote: bool = False
    automation_running: bool = False  # schedules/sensors start RUNNING (else toggled on in the UI)
    weekly_timezone: str = Field(default="Asia/Seoul", validation_alias="WEEKLY_REPORT_TIMEZONE")

    @field_validator("symbols", "correlation_symbols")
    @classmethod
    def _symbol_list(cls, value: str) -> str:
        try:
            names = [normalize_symbol(s) for s in value.split(",") if s.strip()]
        except DataError as exc:
            raise ValueError(str(exc)) from None
        if not names:
            raise ValueError("must list at least one symbol, e.g. XRPUSDT")
        return ",".join(names)

    @property
    def symbol_list(self) -> list[str]:
        return self.symbols.split(",")

    @property
    def correlation_list(self) -> list[str]:
        return self.correlation_symbols.split(",")


@lru_cache(maxsize=1)
def get_settings() -> PipelineSettings:
    """The settings of this process; an invalid value is one ConfigError naming variable and value."""
    try:
        return PipelineSettings()
    except ValidationError as exc:
        parts = [f"{'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid pipeline configuration: " + "; ".join(parts)) from None
