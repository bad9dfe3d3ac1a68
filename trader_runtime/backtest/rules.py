"""Rule switches of the backtest engine: the fixed platform default and the reference ("legacy") behaviour.

One engine runs both. `EngineRules()` is what every platform entry point uses; `EngineRules.legacy()` reproduces
the original backtester's defects so the reference numbers of spec 20 §11 can be checked. Each switch is
independent, so a difference between the two can be explained one rule at a time (`RULE_FIXES`, used by
`bench/reference_check.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

from trader_runtime.errors import ConfigError

FoldHistory = Literal["slice", "full"]
QuantityRounding = Literal["round1", "step_floor"]
DailyLossBase = Literal["initial", "day_start"]

#: kernel flag codes; the rounding codes equal strategy.decision.ROUND_* (kept numba-free so config imports stay light)
ROUND_LEGACY = 0
ROUND_STEP_FLOOR = 1
DAILY_BASE_INITIAL = 0
DAILY_BASE_DAY_START = 1


@dataclass(frozen=True, slots=True)
class EngineRules:
    """Independent behaviour switches; the defaults are the fixed platform behaviour.

    - block_exits_when_halted: True = BT-01 (a killed/daily-limited run skips the whole bar, exits included);
      False = D1 (halts block entries only; SL/TP and the close leg of a reverse always run).
    - recheck_before_reentry: True = BT-02 fix (the reverse re-entry re-checks kill switch and daily limit after
      the closing trade was booked).
    - kill_switch_scope_per_symbol: the engine simulates one symbol per run, so global and per-symbol scope are
      the same thing here; kept so the config states the scope explicitly (live is per symbol, 30 §8).
    - fold_history: "slice" = reference walk-forward (test slice = [test_start date 00:00, test_end date 00:00]
      inclusive, indicators recomputed on the slice, its first warm-up bars untradable); "full" = BT-09/W-15 fix
      (indicators computed once on the full history; every bar of [test_start, test_end) is tradable once the
      global warm-up has passed).
    - quantity_rounding: "round1" = reference `round(q, 1)` with the `+0.05` min-notional fallback (BT-10);
      "step_floor" = floor to the symbol's quantity step, ceil-to-step when below the minimum notional.
    - gap_fills: True = BT-11 fix (a bar opening through SL/TP fills at the open, not at the level).
    - daily_loss_base: "initial" = reference (constant initial balance); "day_start" = D2 (realised balance at
      the first bar of the UTC day).
    - two_phase_bar: True = PF-08 fix (all symbols' SL/TP first, then the candle-close decisions in symbol
      order); False = the reference's one pass per symbol in alphabetical order.
    - margin_ratio_per_symbol: True = PF-04/DEF-18 (per-symbol balance against base / N, as live); False = total
      balance against the initial balance (reference). Identical for one symbol.
    - margin_check: True = DEF-19/D19 (skip an entry whose minimum notional needs more margin than the per-symbol
      balance; an account that cannot margin any minimum notional stops trading).
    - liquidation: True = D19 (isolated liquidation price from leverage and maintenance brackets; the equity of a
      position never falls below minus its margin).
    - funding: True = D20/BT-11 (funding paid or received at each settlement for open positions).
    - continuous_walk_forward: True = D18 (one account carried across folds); False = every fold restarts.
    """

    block_exits_when_halted: bool = False
    recheck_before_reentry: bool = True
    kill_switch_scope_per_symbol: bool = True
    fold_history: FoldHistory = "full"
    quantity_rounding: QuantityRounding = "step_floor"
    gap_fills: bool = True
    daily_loss_base: DailyLossBase = "day_start"
    two_phase_bar: bool = True
    margin_ratio_per_symbol: bool = True
    margin_check: bool = True
    liquidation: bool = True
    funding: bool = True
    continuous_walk_forward: bool = True

    def __post_init__(self) -> None:
        if self.fold_history not in ("slice", "full"):
            raise ConfigError(f"fold_history={self.fold_history!r}; allowed 'slice' or 'full'")
        if self.quantity_rounding not in ("round1", "step_floor"):
            raise ConfigError(f"quantity_rounding={self.quantity_rounding!r}; allowed 'round1' or 'step_floor'")
        if self.daily_loss_base not in ("initial", "day_start"):
            raise ConfigError(f"daily_loss_base={self.daily_loss_base!r}; allowed 'initial' or 'day_start'")

    @classmethod
    def legacy(cls) -> "EngineRules":
        """The reference backtester, defects included (spec 20 §1, §3); for §11 reproduction only."""
        return cls(
            block_exits_when_halted=True,
            recheck_before_reentry=False,
            kill_switch_scope_per_symbol=False,
            fold_history="slice",
            quantity_rounding="round1",
            gap_fills=False,
            daily_loss_base="initial",
            two_phase_bar=False,
            margin_ratio_per_symbol=False,
            margin_check=False,
            liquidation=False,
            funding=False,
            continuous_walk_forward=False,
        )

    @property
    def is_legacy(self) -> bool:
        return self == EngineRules.legacy()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def kernel_flags(self) -> tuple[int, int, int, int, int]:
        """(block_exits, recheck, rounding code, gap_fills, daily base code) as plain ints for the kernel."""
        return (
            int(self.block_exits_when_halted),
            int(self.recheck_before_reentry),
            ROUND_LEGACY if self.quantity_rounding == "round1" else ROUND_STEP_FLOOR,
            int(self.gap_fills),
            DAILY_BASE_INITIAL if self.daily_loss_base == "initial" else DAILY_BASE_DAY_START,
        )


@dataclass(frozen=True, slots=True)
class RuleFix:
    """One legacy→fixed switch and the decision / bug ID that motivates it."""

    field: str
    fixed_value: object
    label: str
    description: str

    def apply(self, rules: EngineRules) -> EngineRules:
        return replace(rules, **{self.field: self.fixed_value})


#: ladder order used to attribute differences between legacy and platform results one rule at a time
RULE_FIXES: tuple[RuleFix, ...] = (
    RuleFix("fold_history", "full", "BT-09/W-15", "indicators on full history; whole test window tradable"),
    RuleFix("block_exits_when_halted", False, "D1/BT-01", "halts block entries only; exits keep running"),
    RuleFix("recheck_before_reentry", True, "BT-02", "re-check halts before the reverse re-entry"),
    RuleFix("quantity_rounding", "step_floor", "BT-10", "floor quantity to the step; ceil-to-step min notional"),
    RuleFix("gap_fills", True, "BT-11", "SL/TP fill at the open when the bar gaps through the level"),
    RuleFix("daily_loss_base", "day_start", "D2", "daily-loss base = balance at the start of the UTC day"),
    RuleFix("kill_switch_scope_per_symbol", True, "BT-01/PF-01", "per-symbol kill switch (no effect on one symbol)"),
    RuleFix("two_phase_bar", True, "PF-08", "all SL/TP of a bar first, then the decisions in symbol order"),
    RuleFix("margin_ratio_per_symbol", True, "PF-04", "margin ratio from the per-symbol balance against base / N"),
    RuleFix("margin_check", True, "D19/DEF-19", "skip entries the balance cannot margin; stop when ruined"),
    RuleFix("liquidation", True, "D19", "isolated liquidation at the maintenance-margin price"),
    RuleFix("funding", True, "D20", "funding paid or received at each settlement"),
    RuleFix("continuous_walk_forward", True, "D18", "one account carried across walk-forward folds"),
)
