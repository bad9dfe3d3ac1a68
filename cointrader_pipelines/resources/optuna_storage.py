"""`OptunaResource`: where tuning studies live (sqlite file by default, any Optuna storage URL works) and how many
processes share one study (more than one needs a database server, e.g. PostgreSQL in the distributed profile)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import optuna
from pydantic import Field


class OptunaResource(dg.ConfigurableResource):
    storage_url: str = Field(default="sqlite:///optuna/optuna.db", description="Optuna storage URL")
    workers: int = Field(default=1, ge=1, le=64, description="processes sharing one study (COINTRADER_TUNING_WORKERS)")

    def url(self) -> str:
        """The URL, with the sqlite file's folder created."""
        if self.storage_url.startswith("sqlite:///"):
            Path(self.storage_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return self.storage_url

    def clear_study(self, name: str) -> bool:
        """Delete study `name` if an earlier attempt of the same step left it (a retried step starts over)."""
        try:
            optuna.delete_study(study_name=name, storage=self.url())
        except KeyError:
            return False
        return True
