"""The code location's default executor (see `cointrader_pipelines/executors.py`)."""

import dagster as dg

from cointrader_pipelines.executors import executor_for
from cointrader_pipelines.settings import get_settings


@dg.definitions
def executor() -> dg.Definitions:
    return dg.Definitions(executor=executor_for(get_settings()))
