"""MTF research assets: the sweep table and the walk-forward folds, on a synthetic year, through Dagster."""

from __future__ import annotations

import dagster as dg
import pytest

from cointrader_pipelines.defs.mtf.assets import MTFResearchConfig, mtf_sweep_results, mtf_walk_forward
from trader_runtime.market.synthetic import generate_market


@pytest.fixture(scope="module")
def frame():
    return generate_market("XRPUSDT", 240, 21).combined


def _invoke(asset, **inputs):
    with dg.build_asset_context(partition_key="XRPUSDT") as context:
        return asset(context, **inputs)


def test_sweep_ranks_all_162_combinations(frame):
    out = _invoke(mtf_sweep_results, config=MTFResearchConfig(min_trades=10), combined_15m=frame)
    rows = out.value.rows
    assert len(rows) == 162 == len(out.metadata["results"].records)
    assert [r["rank"] for r in rows] == list(range(1, 163))
    qualified = [r for r in rows if r["meets_min_trades"]]
    pfs = [r["summary"]["profit_factor"] for r in qualified]
    assert qualified and pfs == sorted(pfs, reverse=True) and rows[: len(qualified)] == qualified
    assert sum(r["default"] for r in rows) == 1  # the research defaults (1.5/2.3, ADX 20, ratio 0.5, EMA 20) are on the grid
    assert out.metadata["best_params"].value == qualified[0]["params"]


def test_walk_forward_folds_pick_on_train_and_trade_the_test_month(frame):
    out = _invoke(mtf_walk_forward, config=MTFResearchConfig(), combined_15m=frame)
    wf = out.value
    assert len(wf.folds) >= 4 == wf.train_months + 1
    for a, b in zip(wf.folds, wf.folds[1:]):
        assert b.test_start == a.test_end  # every month is tested once
    assert wf.chosen_summary["trades"] == sum(f.test["trades"] for f in wf.folds)
    assert len(out.metadata["folds"].records) == len(wf.folds)


def test_assets_are_in_the_code_location():
    from cointrader_pipelines.definitions import defs

    graph = defs().resolve_asset_graph()
    for name in ("mtf_sweep_results", "mtf_walk_forward"):
        node = graph.get(dg.AssetKey(name))
        assert {k.to_user_string() for k in node.parent_keys} == {"combined_15m"}
