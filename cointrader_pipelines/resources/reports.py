"""`ReportsResource`: the folder of weekly reports (`report_{YYYY-MM-DD}.json`), read by the retrain sensor."""

from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field


class ReportsResource(dg.ConfigurableResource):
    report_dir: str = Field(default="results/weekly", description="folder of report_{date}.json files")

    def latest_checklist(self) -> dict[str, Any] | None:
        """The ML retraining checklist of the newest weekly report (`reporting.weekly.load_latest_checklist`)."""
        from cointrader_pipelines.reporting.weekly import load_latest_checklist

        return load_latest_checklist(Path(self.report_dir))
