"""`MlflowResource`: tracking/registry URI (sqlite under mlruns/ by default), artifact root and the UI links."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from cointrader_pipelines.tracking.registry import Registry
from cointrader_pipelines.tracking.runs import MlflowTracker


class MlflowResource(dg.ConfigurableResource):
    tracking_uri: str = Field(default="sqlite:///mlruns/mlflow.db", description="tracking and registry URI")
    artifact_root: str = Field(default="mlruns/artifacts", description="artifact folder of new experiments")
    ui_url: str = Field(default="http://127.0.0.1:5000", description="MLflow UI base URL for links")
    dagster_ui_url: str = Field(default="http://127.0.0.1:3000", description="Dagster UI base URL for links back")
    model_name_template: str = "cointrader-filter-{symbol}"

    def tracker(self) -> MlflowTracker:
        return MlflowTracker(self.tracking_uri, self.artifact_root, self.ui_url)

    def registry(self) -> Registry:
        return Registry(self.tracker())

    def model_name(self, symbol: str) -> str:
        return self.model_name_template.format(symbol=symbol)

    def experiment(self, symbol: str) -> str:
        return self.model_name(symbol)

    def dagster_run_url(self, run_id: str) -> str:
        return f"{self.dagster_ui_url.rstrip('/')}/runs/{run_id}"
