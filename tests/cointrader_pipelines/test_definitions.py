"""The code location loads with every asset, check, job, schedule and sensor of the lineage, and the warehouse
and Binance assets share the one-slot concurrency pool."""

from __future__ import annotations

import dagster as dg
import pytest

from cointrader_pipelines.definitions import defs as load_defs
from cointrader_pipelines.resources.warehouse import WAREHOUSE_POOL

ASSETS = {"klines", "correlation_klines", "open_interest", "funding_rate", "ls_ratio", "correlation_ls_ratio",
          "combined_15m", "ml_dataset", "tuned_params", "walk_forward_validation", "filter_model", "onnx_model",
          "strategy_sweep", "ml_comparison", "registered_model"}
CHECKS = {"klines_no_gaps", "klines_utc_closed", "klines_ohlc_sane", "correlation_no_gaps",
          "correlation_utc_closed_sane", "combined_no_gaps", "feature_columns_in_schema_order",
          "no_label_leak_across_folds", "no_lookahead", "onnx_parity"}
BLOCKING = {"klines_utc_closed", "klines_ohlc_sane", "correlation_utc_closed_sane", "feature_columns_in_schema_order",
            "no_label_leak_across_folds", "onnx_parity"}
WAREHOUSE_ASSETS = {"klines", "correlation_klines", "open_interest", "funding_rate", "combined_15m", "ls_ratio",
                    "correlation_ls_ratio"}


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return load_defs()


def test_every_asset_and_check_loads(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert ASSETS <= keys
    checks = {k.name: k for k in graph.asset_check_keys}
    assert CHECKS <= set(checks)
    for name in CHECKS:
        assert graph.get_check_spec(checks[name]).blocking == (name in BLOCKING), name


def test_lineage_edges(defs):
    graph = defs.resolve_asset_graph()
    parents = lambda name: {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}  # noqa: E731
    assert {"klines", "correlation_klines", "open_interest", "funding_rate"} <= parents("combined_15m")
    assert parents("ml_dataset") == {"combined_15m"}
    assert {"ml_dataset", "tuned_params"} <= parents("filter_model")
    assert parents("onnx_model") == {"filter_model"}
    assert {"filter_model", "onnx_model", "walk_forward_validation", "ml_comparison", "strategy_sweep"} <= parents(
        "registered_model")


def test_warehouse_steps_share_one_pool(defs):
    for assets_def in defs.assets:
        for key in assets_def.keys:
            if key.to_user_string() in WAREHOUSE_ASSETS:
                assert assets_def.node_def.pool == WAREHOUSE_POOL, key


def test_partitions_are_the_configured_symbols(defs):
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("klines")).partitions_def.get_partition_keys() == ["XRPUSDT"]
    assert graph.get(dg.AssetKey("correlation_klines")).partitions_def is None


def test_jobs_schedules_and_sensors(defs):
    assert {s.name for s in defs.schedules} >= {"ls_ratio_schedule", "market_data_schedule", "weekly_schedule"}
    assert {s.name for s in defs.sensors} >= {"retrain_recommended_sensor", "run_failure_sensor"}
    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert {"main_job", "weekly_job", "retrain_job", "market_data_job", "ls_ratio_job"} <= jobs
    weekly = defs.resolve_schedule_def("weekly_schedule")
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 3 * * 0", "Asia/Seoul")


def test_resources_are_bound(defs):
    assert {"market", "warehouse", "mlflow", "optuna", "notifier", "reports", "strategy", "io_manager"} <= set(defs.resources)


def test_every_schedule_and_sensor_says_what_it_does(defs):
    repo = defs.get_repository_def()
    for item in [*repo.schedule_defs, *repo.sensor_defs]:
        assert item.description and len(item.description) > 40, item.name
    weekly = [s for s in repo.schedule_defs if s.cron_schedule == "0 3 * * 0"]
    # two weekly schedules are alternatives, and each says so
    assert len(weekly) <= 1 or all("option" in s.description and "of 2" in s.description for s in weekly)


def test_market_data_says_when_it_is_stale(defs):
    graph = defs.resolve_asset_graph()
    for name in ("klines", "correlation_klines", "open_interest", "funding_rate", "combined_15m", "ls_ratio",
                 "correlation_ls_ratio"):
        policy = graph.get(dg.AssetKey(name)).freshness_policy
        assert policy is not None and policy.fail_window.to_timedelta().total_seconds() > 0, name


def test_the_longest_chain_of_the_main_job_is_scheduled_first(defs):
    longest = {"klines", "correlation_klines", "open_interest", "funding_rate", "combined_15m", "ml_dataset",
               "tuned_params", "ml_comparison"}
    job = defs.get_repository_def().get_job("main_job")
    priority = {node.name: node.tags.get("dagster/priority") for node in job.all_node_defs}
    assert {name for name, value in priority.items() if value == "1"} == longest
    assert {value for name, value in priority.items() if name not in longest} == {None}
