"""`OptunaResource`: where tuning studies live (sqlite file by default, any Optuna storage URL works)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field


class OptunaResource(dg.ConfigurableResource):
    storage_url: str = Field(default="sqlite:///optuna/optuna.db", description="Optuna storage URL")

    def url(self) -> str:
        """The URL, with the sqlite file's folder created."""
        if self.storage_url.startswith("sqlite:///"):
            Path(self.storage_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return self.storage_url
