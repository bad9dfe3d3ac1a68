"""Dagster code location of the CoinTrader Platform: market data -> dataset -> training -> ONNX -> MLflow registry.

Imports `trader_runtime` (never the other way round) and is the only MLflow writer (`tracking/`). Definitions are
loaded from `defs/` by `definitions.py`.
"""

import os

# The platform runs offline: MLflow's usage telemetry (a DNS lookup + HTTPS post) stays off unless a user opts in
# by setting the variable explicitly.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
