"""`bulk_history`: one month of one symbol from Binance's public archive into the warehouse (klines with BTC/ETH,
funding, 5-minute metrics), checksum first, with per-file provenance and coverage. Partitioned by month × symbol,
so a backfill over years runs month by month; a re-run reads only files that are new or replaced."""

import dagster as dg
import pandas as pd

from trader_runtime.market.bulk.importer import BulkImporter, BulkRequest
from trader_runtime.market.bulk.layout import Month

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.resources.bulk_archive import BulkArchiveResource
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.warehouse import WAREHOUSE_POOL, WarehouseResource
from cointrader_pipelines.settings import get_settings

_settings = get_settings()
bulk_partitions = dg.MultiPartitionsDefinition({
    "month": dg.MonthlyPartitionsDefinition(start_date=f"{_settings.bulk_from}-01", end_offset=1),
    "symbol": dg.StaticPartitionsDefinition(_settings.symbol_list),
})


@dg.asset(partitions_def=bulk_partitions, pool=WAREHOUSE_POOL, group_name="bulk_history", code_version=code_version(__file__),
          kinds={"duckdb"})
def bulk_history(context: dg.AssetExecutionContext, bulk_archive: BulkArchiveResource, market: MarketDataResource,
                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Imports one month of the public archive for one symbol (BTCUSDT/ETHUSDT klines come along). Every zip is
    checked against its CHECKSUM first; a refused file writes nothing and fails the run after the verified files
    are stored. Metadata: the files read and the coverage per data type."""
    keys = context.partition_key.keys_by_dimension
    month = Month.parse(keys["month"][:7])
    request = BulkRequest((keys["symbol"],), month, month, tuple(market.correlation_symbols))
    wh = warehouse.open()
    importer = BulkImporter(bulk_archive.open(), wh, pd.Timestamp.now(tz="UTC"), progress=context.log.info)
    with wh:
        coverage = importer.import_month(request, month, first=True)
    report = importer.report
    for line in report.lines():
        context.log.info(line)
    if report.rejected:
        raise dg.Failure(description=f"{len(report.rejected)} archive file(s) refused (checksum or content); "
                                     "nothing from them was written",
                         metadata={"refused": [f"{o.ref.path}: {o.message}" for o in report.rejected]})
    table = [{"symbol": c.symbol, "data_type": c.data_type, "present": c.present, "expected": c.expected,
              "files": c.files} for c in coverage]
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json(report.counts()),
                                          "coverage": dg.MetadataValue.json(table), "batch": report.batch_id})
