"""Partitions: one per traded symbol (from `SYMBOLS`, default XRPUSDT). BTC/ETH data are not partitioned."""

from __future__ import annotations

import warnings

import dagster as dg

from cointrader_pipelines.settings import get_settings

# checks of symbol-partitioned assets are partitioned too (so they load only their symbol's values); Dagster
# still labels partitioned checks "preview"
warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*")
# assets return content digests as data versions (lineage.py); Dagster labels the parameter "beta"
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*data_version.*")

symbol_partitions = dg.StaticPartitionsDefinition(get_settings().symbol_list)
