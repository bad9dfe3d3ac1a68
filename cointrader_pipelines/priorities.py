"""Which ready step goes first when the executor has fewer free slots than ready steps.

The main job's wall time is its longest chain: the candles that feed `combined_15m`, then `ml_dataset`,
`tuned_params` and `ml_comparison` (the longest step), then `registered_model`. The other steps (the L/S ratios,
the strategy sweep, the weekly report, the look-ahead check, the filter-model chain) fit beside it. Without a
priority the executor took them in no useful order: `tuned_params` waited for the look-ahead check and the weekly
report, and the L/S ratios took the warehouse pool before the candles. Dagster's `dagster/priority` op tag orders
ready steps (and pool claims); it changes nothing a step computes."""

#: op tags of the steps on the longest chain
LONGEST_CHAIN = {"dagster/priority": "1"}
