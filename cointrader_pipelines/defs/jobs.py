"""Jobs started by hand or by `cointrader demo` (the scheduled ones sit next to their schedules and sensors)."""

from cointrader_pipelines.automation import main_job, retrain_job, weekly_job

__all__ = ["main_job", "retrain_job", "weekly_job"]
