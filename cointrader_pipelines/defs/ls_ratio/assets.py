"""Long/short account ratios (spec 20 §9 with BT-20): top-trader and global, 15m, one row per period."""

import datetime as dt

import dagster as dg
import pandas as pd

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.ingest import ingest_ls_ratio
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.warehouse import LS_RATIO, WAREHOUSE_POOL, WarehouseResource
from cointrader_pipelines.tracking.lineage import frame_digest

GROUP = "ls_ratio"
#: collected every 15 minutes (ls_ratio_schedule): late after 35 min, failed after an hour
EVERY_15_MIN = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=1), warn_window=dt.timedelta(minutes=35))


@dg.asset(partitions_def=symbol_partitions, pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=EVERY_15_MIN, code_version=code_version(__file__), kinds={"duckdb"})
def ls_ratio(context: dg.AssetExecutionContext, market: MarketDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Backfills 30 days on the first run, then adds each new period once (deduplicated on the period)."""
    wh = warehouse.open()
    result = [ingest_ls_ratio(src, wh, context.partition_key) for src in market.open_all()][-1]
    warehouse.publish(LS_RATIO, [context.partition_key])
    stored = warehouse.open().read_ls_ratio(context.partition_key)
    return dg.MaterializeResult(
        metadata={**result.metadata(), "rows_stored": len(stored)},
        data_version=dg.DataVersion(frame_digest(stored)),
    )


@dg.asset(pool=WAREHOUSE_POOL, group_name=GROUP, freshness_policy=EVERY_15_MIN, code_version=code_version(__file__), kinds={"duckdb"})
def correlation_ls_ratio(market: MarketDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """BTCUSDT/ETHUSDT ratios (market context of the weekly report), collected once for all symbols."""
    wh = warehouse.open()
    results = [ingest_ls_ratio(src, wh, sym) for src in market.open_all() for sym in market.correlation_symbols]
    warehouse.publish(LS_RATIO, list(market.correlation_symbols))
    stored = pd.concat({sym: wh.read_ls_ratio(sym) for sym in market.correlation_symbols})
    return dg.MaterializeResult(
        metadata={r.symbol: dg.MetadataValue.json(r.metadata()) for r in results} | {"rows_stored": len(stored)},
        data_version=dg.DataVersion(frame_digest(stored)),
    )
